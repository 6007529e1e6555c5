"""The audit trail: every step of every message on record, chained and checkpointed per writer,
projected into a queryable store, and verifiable from the topic alone. The record format is
`schemas.audit`."""

__all__: list[str] = []
