"""Operator and publisher tools behind the CLI: each a plain async function the CLI calls."""

__all__: list[str] = []
