"""The pipeline: records, the stage runner, dead-letter entries, and the stages themselves."""

__all__: list[str] = []
