"""Kafka as the hub runs it: topics made on purpose, and a real local broker for dev and tests."""

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
