"""CPU-heavy translation does not starve the consumers' heartbeats, on the real broker.

A backlog of documents of about 1 MiB each that take the XML gate tens of milliseconds apiece
(tens of thousands of elements) is worked off by the hub in its own process; meanwhile a ticker
in the same event loop measures how long the loop was ever kept from running anything else.
Those stalls are what starves heartbeats (and the HTTP server): the longest must stay far below
the heartbeat interval, and no partition is revoked (no rebalance) while the backlog runs.
One partition: one fetch then brings several megabytes, the most documents into one batch.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hub.bootstrap import build_hub
from hub.pipeline.records import OutboundRecord
from hubdev.demo.kodaxml import render
from hubdev.demo.synthetic import valid_records
from tests.e2e.harness import HubEnv, all_log_lines, collect
from tests.operations.test_forged_control_kafka import send
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

DOCUMENTS = 60
# aiokafka's default heartbeat interval is 3 s (session timeout 10 s); a tenth of that leaves
# every heartbeat on time. Measured on this 2-core VM: stepping every record in the loop, 0.59 s
# (one batch of eight documents); with a turn between records, 0.16-0.34 s (one document);
# large documents stepped in a worker thread, 0.04-0.08 s.
LONGEST_STALL_S = 0.3


def heavy_document(n: int, size: int) -> bytes:
    """A KODA document of about `size` bytes, most of it small elements the gate must parse
    (and the schema then refuses: it is dead-lettered, as a hostile document would be)."""
    document = render(valid_records(1, seed=100 + n)[0])
    head, _, tail = document.partition(b"</Hendelse>")
    filler = b"<x a='1'/>" * ((size - len(document)) // 10)
    return head + b"<Ukjent>" + filler + b"</Ukjent></Hendelse>" + tail


class Ticker:
    """Measures the event loop's longest stall: the gap between two ticks due 10 ms apart."""

    def __init__(self) -> None:
        self.longest = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            self.longest = max(self.longest, now - last - 0.01)
            last = now

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()


async def test_a_backlog_of_large_documents_causes_no_rebalance(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    env = HubEnv(kafka.connection, tmp_path / "hub", partitions=1)
    await env.create_topics()
    settings = env.settings()
    size = settings.max_document_bytes - 4096
    records = [
        OutboundRecord(
            settings.topics.in_koda, f"KODA-PERSON-{n % 6}".encode(), heavy_document(n, size)
        )
        for n in range(DOCUMENTS)
    ]
    await send(settings, records)

    ticker = Ticker()
    with all_log_lines() as logs:
        async with build_hub(settings):
            ticker.start()
            started = time.monotonic()
            await collect(
                settings.kafka_connection(),
                settings.topics.dlq,
                until=lambda rs: len(rs) >= DOCUMENTS,
                timeout_s=300,
            )
            took = time.monotonic() - started
            ticker.stop()
    ingest = [e for e in logs if str(e.get("group", "")).endswith(".ingest.koda")]
    revoked = [e for e in ingest if e["event"] == "partitions.revoked" and e["partitions"]]
    stall = ticker.longest
    print(f"\n{DOCUMENTS} documents of {size} bytes in {took:.1f} s; longest stall {stall:.3f} s")
    assert revoked == [], "no rebalance while the backlog ran"
    assert ticker.longest < LONGEST_STALL_S
