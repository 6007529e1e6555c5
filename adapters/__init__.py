"""Source formats → canonical events. One package per source system, each the same shape."""

__all__: list[str] = []
