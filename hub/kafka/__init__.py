"""Everything that speaks Kafka: the local broker, topic admin, the producer, the subscribers."""

__all__: list[str] = []
