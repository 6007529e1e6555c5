"""Tests of the local broker, its CLI and topic set-up, against real Kafka."""

__all__: list[str] = []
