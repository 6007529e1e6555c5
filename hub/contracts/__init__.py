"""The hub's published contracts beyond the event schemas: the AsyncAPI document.

`channels` is the catalogue (one line per channel), `headers` describes every Kafka header the
hub reads or writes, `asyncapi` renders both into `schemas/asyncapi.yaml`
(`python -m hub.contracts.asyncapi`; a test fails while the checked-in file is out of date).
"""

__all__: list[str] = []
