"""Everything that speaks Kafka: the local broker, topic admin, the producer, the subscribers."""

from hub.kafka.admin import TopicSpec, ensure_topics, list_topics
from hub.kafka.local import KafkaStatus, LocalKafka, LocalKafkaError, UpResult, wait_until_ready

__all__ = [
    "KafkaStatus",
    "LocalKafka",
    "LocalKafkaError",
    "TopicSpec",
    "UpResult",
    "ensure_topics",
    "list_topics",
    "wait_until_ready",
]
