"""The recipient stages: one module per recipient kind, each a `Contract` for the shared step
in `base`, plus the receipts stage and the alerts the deadlines raise."""

__all__: list[str] = []
