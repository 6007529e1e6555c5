"""Operations staff's tools: dead-letter triage, replay and discard, shared by CLI and console."""

__all__: list[str] = []
