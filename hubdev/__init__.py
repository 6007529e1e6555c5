"""Development tooling beside the runtime: the benchmark (`bench`), the bundled samples and
synthetic traffic (`demo`), and a real local Kafka cluster with its own CA (`kafka`), with the
`hub` commands that drive them (`cli`).

Nothing in `hub` imports this package at module level; `hub.cli.devtools` reaches for it only when
one of these commands runs, and the image ships without it. It may use everything in `hub`.
"""

__all__: list[str] = []
