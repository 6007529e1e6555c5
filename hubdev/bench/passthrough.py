"""The limit: a plain aiokafka pass-through that does everything the hub must do with Kafka and
nothing else. It reads the inbound topics and produces each record unchanged (key, value,
headers) to one output topic, with the hub's own producer (`build_producer`: idempotent,
acks=all, the same linger and batch sizes) and the hub's consumer settings and commit policy
(batches of `max_batch_records` within `batch_timeout_ms`, committed only after the broker
acknowledged every output of the batch).

Run as its own process, like the hub, so its CPU and memory are measured alike:

    python -m hubdev.bench.passthrough --group GROUP --out TOPIC TOPIC...

Settings come from the environment, as for `hub run`. It prints `passthrough.started` once it
consumes, and stops after the current batch on SIGTERM or SIGINT.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Sequence

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from hub.kafka.producer import build_producer
from hub.settings import HubSettings

__all__ = ["READY", "command", "main", "pass_through"]

READY = "passthrough.started"


def command(*, topics: Sequence[str], out_topic: str, group_id: str) -> list[str]:
    """The command line that runs the pass-through as a process."""
    return [sys.executable, "-m", __name__, "--group", group_id, "--out", out_topic, *topics]


async def pass_through(
    settings: HubSettings,
    *,
    topics: Sequence[str],
    out_topic: str,
    group_id: str,
    stop: asyncio.Event,
) -> int:
    """Copy records from `topics` to `out_topic` until `stop`; return how many were copied."""
    kafka, connection = settings.kafka, settings.kafka_connection()
    consumer = AIOKafkaConsumer(
        *topics,
        **connection.aiokafka(),
        client_id=kafka.client_id,
        group_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        request_timeout_ms=kafka.request_timeout_ms,
        max_partition_fetch_bytes=kafka.max_record_bytes + 64 * 1024,
    )
    producer = build_producer(connection, kafka)
    await producer.start()
    await consumer.start()
    # The signal the benchmark waits for.
    print(READY, flush=True)
    try:
        return await _copy(consumer, producer, out_topic, settings, stop)
    finally:
        await consumer.stop()
        await producer.stop()


async def _copy(
    consumer: AIOKafkaConsumer,
    producer: AIOKafkaProducer,
    out_topic: str,
    settings: HubSettings,
    stop: asyncio.Event,
) -> int:
    kafka = settings.kafka
    copied = 0
    while not stop.is_set():
        batch = await consumer.getmany(
            timeout_ms=kafka.batch_timeout_ms, max_records=kafka.max_batch_records
        )
        if not batch:
            # What FastStream's batch subscriber does when a poll comes back empty.
            await asyncio.sleep(kafka.batch_timeout_ms / 1000)
            continue
        acks = [
            await producer.send(out_topic, value=r.value, key=r.key, headers=list(r.headers))
            for records in batch.values()
            for r in records
        ]
        await asyncio.gather(*acks)
        await consumer.commit()
        copied += len(acks)
    return copied


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m hubdev.bench.passthrough")
    parser.add_argument("--group", required=True)
    parser.add_argument("--out", required=True)
    parser.add_argument("topics", nargs="+")
    args = parser.parse_args(argv)
    asyncio.run(_serve(HubSettings(), args.topics, args.out, args.group))


async def _serve(settings: HubSettings, topics: list[str], out_topic: str, group_id: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await pass_through(settings, topics=topics, out_topic=out_topic, group_id=group_id, stop=stop)


if __name__ == "__main__":
    main()
