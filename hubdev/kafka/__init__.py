"""A real Kafka cluster on this machine for development and tests: the launcher and its CA."""

from hubdev.kafka.local import KafkaStatus, LocalKafka, LocalKafkaError, UpResult, wait_until_ready

__all__ = [
    "KafkaStatus",
    "LocalKafka",
    "LocalKafkaError",
    "UpResult",
    "wait_until_ready",
]
