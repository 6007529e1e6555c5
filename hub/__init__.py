"""The hub: the pipeline stages, the Kafka wiring around them, the CLI."""

__all__: list[str] = []
