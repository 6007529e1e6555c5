"""The recipient stages on the real broker: a mixed run of the bundled samples.

Each recipient topic gets exactly what the policy says; the trail holds one delivery or refusal
per event and recipient kind; corrections and cancellations reach the earlier recipients;
receipts sent with another Kafka client (librdkafka) are verified and correlated; a late
release notice raises an alert.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Consumer, Producer

from hub.bootstrap import build_hub
from hub.kafka.connection import KafkaConnection
from hub.kafka.reader import read_topic
from hub.signing.keys import key_store
from hubdev.demo import KODA_SAMPLES
from schemas.alerts import Alert
from schemas.audit import AuditStep, decode_record
from schemas.signature import verify
from tests.e2e.harness import HubEnv, collect
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

SAMPLES = sorted(KODA_SAMPLES.glob("*.xml"))
KINDS = ("police-register", "nav", "municipality", "health", "correctional", "person")


async def _trail(bootstrap: KafkaConnection, topic: str) -> list[Any]:
    return [decode_record(r.value) async for r in read_topic(bootstrap, topic)]


async def _until(check: Any, timeout_s: float = 60.0) -> Any:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = await check()
        if result or asyncio.get_running_loop().time() > deadline:
            return result
        await asyncio.sleep(0.5)


async def _read(bootstrap: str, topic: str, count: int) -> list[Any]:
    return await collect(bootstrap, topic, until=lambda records: len(records) >= count)


def _consume_with_librdkafka(bootstrap: KafkaConnection, topic: str, count: int) -> list[Any]:
    consumer = Consumer(
        bootstrap.properties()
        | {
            "group.id": f"recipient-{topic}",
            "auto.offset.reset": "earliest",
            "enable.auto.commit": False,
        }
    )
    consumer.subscribe([topic])
    messages: list[Any] = []
    try:
        for _ in range(200):
            message = consumer.poll(0.5)
            if message is not None and message.error() is None:
                messages.append(message)
            if len(messages) >= count:
                break
    finally:
        consumer.close()
    return messages


async def test_samples_reach_exactly_whom_the_policy_says(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    env = HubEnv(kafka.connection, tmp_path)
    await env.create_topics()
    settings = env.settings()
    bootstrap = kafka.connection
    async with build_hub(settings):
        await env.publish([p.read_bytes() for p in SAMPLES])

        async def refused_or_delivered() -> list[Any]:
            records = await _trail(bootstrap, settings.topics.audit)
            done = [r for r in records if r.step in (AuditStep.DELIVERED, AuditStep.REFUSED)]
            return (
                records
                if len({(r.message_id, r.stage) for r in done}) >= len(SAMPLES) * len(KINDS)
                else []
            )

        trail = await _until(refused_or_delivered)
        assert trail, "the trail never held a decision per event and recipient"

        # Exactly what the policy says, per recipient topic.
        police = await collect(
            bootstrap, env.topic("out.police-register.v1"), until=lambda r: len(r) >= 11
        )
        nav = await collect(bootstrap, env.topic("out.nav.v1"), until=lambda r: len(r) >= 4)
        oslo = await collect(
            bootstrap, env.topic("out.municipality.0301.v1"), until=lambda r: len(r) >= 3
        )
        kristiansand = await collect(
            bootstrap, env.topic("out.municipality.4204.v1"), until=lambda r: len(r) >= 2
        )
        assert len(police) == 11
        assert [json.loads(r.value)["rule"] for r in nav].count("nav.released") == 2
        assert len(nav) == 4
        assert [json.loads(r.value)["action"] for r in oslo] == ["notice", "correction", "notice"]
        assert [json.loads(r.value)["action"] for r in kristiansand] == ["notice", "cancellation"]
        trondheim = await collect(
            bootstrap, env.topic("out.municipality.5001.v1"), until=lambda r: len(r) >= 1
        )
        assert [json.loads(r.value)["action"] for r in trondheim] == ["notice"]

        # One decision per (event, recipient kind); every sample's municipality is in the register.
        decided = Counter(
            (r.message_id, r.stage)
            for r in trail
            if r.step is AuditStep.DELIVERED or r.step is AuditStep.REFUSED
        )
        assert len(decided) == len(SAMPLES) * len(KINDS)
        assert not [r for r in trail if r.reason == "unknown_municipality"]

        # A recipient on librdkafka verifies the hub's signature and sends a receipt.
        jwks = key_store(settings).load().public_keys()
        (first,) = await asyncio.to_thread(
            _consume_with_librdkafka, bootstrap, env.topic("out.municipality.4204.v1"), 1
        )
        headers = dict(first.headers())
        claims = verify(
            first.value(),
            headers["hub-signature"],
            jwks,
            expected_id=headers["hub-event-id"].decode(),
            expected_type=headers["hub-event-type"].decode(),
        )
        message = json.loads(first.value())
        assert claims.message_id == message["id"]
        producer = Producer(bootstrap.properties())
        receipt = {"messageid": message["id"], "status": "received"}

        # The same receipt from NAV, to whom the message was never sent: dead-lettered with its
        # reason and on record, and the receipts stage goes on (it once could not put such a
        # refusal on record, and so never committed the batch that held it).
        producer.produce(
            env.topic("receipts.nav.v1"), json.dumps(receipt).encode(), key=first.key()
        )
        producer.flush(10)

        async def stray_on_record() -> bool:
            records = await _trail(bootstrap, settings.topics.audit)
            return any(
                r.step is AuditStep.DEAD_LETTERED
                and r.stage == "receipts"
                and r.reason == "wrong_recipient"
                for r in records
            )

        assert await _until(stray_on_record), "a stray receipt is not on record"
        producer.produce(
            env.topic("receipts.municipality.4204.v1"),
            json.dumps(receipt).encode(),
            key=first.key(),
        )
        producer.flush(10)

        async def receipted() -> bool:
            records = await _trail(bootstrap, settings.topics.audit)
            return any(
                r.step is AuditStep.RECEIPT and r.delivered_id == message["id"] for r in records
            )

        assert await _until(receipted), "the receipt was never correlated"

        # The 2026-10-02 release is announced after the lead time: an alert, raised and then
        # resolved when the cancellation superseded the notice.
        alerts = [
            Alert.model_validate_json(r.value)
            async for r in read_topic(bootstrap, settings.topics.alerts)
        ]
        late = [a for a in alerts if a.kind == "late_notice" and a.messageid == message["id"]]
        assert [a.state for a in late] == ["raised", "resolved"]
