"""Everything that speaks Kafka: topic admin, the producer, the subscribers. (The local cluster
for development and tests is `hubdev.kafka`.)"""

from hub.kafka.admin import TopicSpec, ensure_topics, list_topics

__all__ = [
    "TopicSpec",
    "ensure_topics",
    "list_topics",
]
