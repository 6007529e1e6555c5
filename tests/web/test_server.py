"""The ingress as it runs in `hub run`: uvicorn on a real port, records on the real broker."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from adapters.police import SOURCE as POLICE
from hub.bootstrap import build_web_app, person_keys
from hub.kafka.producer import KafkaRecordSink, build_producer
from hub.kafka.reader import read_topic
from hub.pipeline import headers as h
from hub.settings import DEV_INGRESS_API_KEY, HubSettings, KafkaSettings
from hub.web.server import Serving, serving
from hubdev.demo import COURT_SAMPLES, POLICE_SAMPLES
from schemas.errors import PermanentError, Reason
from schemas.ids import canonical_id
from tests.e2e.harness import HubEnv
from tests.support import RunningKafka, free_ports

pytestmark = [pytest.mark.kafka]

CUSTODY = (POLICE_SAMPLES / "01-custody-started.json").read_bytes()
JUDGMENT = (COURT_SAMPLES / "01-judgment-prison.xml").read_bytes()
KEY = {"x-api-key": DEV_INGRESS_API_KEY}

# Nothing listens at its address: no password is ever checked.
_UNUSED_PASSWORD = "unused"  # noqa: S105 - see above


@pytest.fixture
async def env(kafka: RunningKafka, tmp_path: Path) -> HubEnv:
    hub_env = HubEnv(kafka.connection, tmp_path / "hub")
    await hub_env.create_topics()
    return hub_env


@pytest.fixture
async def server(env: HubEnv) -> AsyncIterator[Serving]:
    settings = env.settings()
    producer = build_producer(settings.kafka_connection(), settings.kafka)
    await producer.start()
    try:
        app = build_web_app(settings, sink=KafkaRecordSink(producer))
        async with serving(app, host="127.0.0.1", port=0) as running:
            yield running
    finally:
        await producer.stop()


async def test_a_document_posted_over_http_is_on_its_inbound_topic(
    env: HubEnv, server: Serving
) -> None:
    settings = env.settings()
    async with httpx.AsyncClient(base_url=server.url) as client:
        response = await client.post(
            "/ingest/police",
            content=CUSTODY,
            headers={**KEY, "content-type": "application/json", "x-correlation-id": "c-1"},
        )
        again = await client.post(
            "/ingest/police", content=CUSTODY, headers={**KEY, "content-type": "application/json"}
        )
    assert response.status_code == again.status_code == 202
    assert (
        response.json()["id"] == again.json()["id"] == canonical_id(POLICE, "POL-OSLO-2025-118842")
    )
    records = [r async for r in read_topic(env.connection, settings.topics.in_police)]
    assert [r.value for r in records] == [CUSTODY, CUSTODY]
    first = records[0]
    assert (first.position.partition, first.position.offset) == (
        response.json()["partition"],
        response.json()["offset"],
    )
    number = json.loads(CUSTODY)["person"]["nationalId"]
    assert first.key == person_keys(settings)(number).encode()
    assert first.header(h.CONTENT_TYPE) == "application/json"
    assert first.header(h.CORRELATION_ID) == "c-1"


async def test_an_oversized_declared_body_is_refused_before_it_is_sent(server: Serving) -> None:
    # A raw connection: the headers announce 50 MiB, and not one byte of body follows.
    reader, writer = await asyncio.open_connection(server.host, server.port)
    writer.write(
        b"POST /ingest/court HTTP/1.1\r\nHost: hub\r\nContent-Type: application/xml\r\n"
        + f"X-API-Key: {DEV_INGRESS_API_KEY}\r\nContent-Length: {50 * 1024 * 1024}\r\n\r\n".encode()
    )
    await writer.drain()
    status_line = await asyncio.wait_for(reader.readline(), timeout=10)
    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), timeout=10)
    writer.close()
    assert status_line.startswith(b"HTTP/1.1 413"), status_line
    assert b"content-type: application/json" in head.lower()


async def test_a_streamed_body_over_the_cap_is_cut_off(env: HubEnv, server: Serving) -> None:
    limit = env.settings().max_document_bytes
    sent = 0

    async def body() -> AsyncIterator[bytes]:
        nonlocal sent
        while sent < 64 * limit:
            sent += 64 * 1024
            yield b" " * (64 * 1024)

    async with httpx.AsyncClient(base_url=server.url) as client:
        try:
            response = await client.post(
                "/ingest/court", content=body(), headers={**KEY, "content-type": "text/xml"}
            )
        except (httpx.WriteError, httpx.ReadError):
            # The server answers 413 and closes the connection while the client still writes;
            # the reset may reach the client before the answer does.
            response = None
    if response is not None:
        assert response.status_code == 413
    # Socket buffers take some, but nowhere near the 64 MiB offered.
    assert sent < 16 * limit
    records = [r async for r in read_topic(env.connection, env.settings().topics.in_court)]
    assert records == []


async def test_ready_when_the_broker_answers(server: Serving) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/readyz")).status_code == 200
        assert (await client.get("/healthz")).json() == {"status": "ok"}


async def test_not_ready_when_the_broker_is_away(tmp_path: Path) -> None:
    (dead,) = free_ports(1)
    settings = HubSettings(
        data_dir=tmp_path,
        kafka=KafkaSettings(bootstrap_servers=f"127.0.0.1:{dead}", password=_UNUSED_PASSWORD),
    )
    settings = settings.model_copy(
        update={"web": settings.web.model_copy(update={"ready_timeout_s": 0.5})}
    )

    class NoSink:
        async def send(self, record: object) -> object:
            raise AssertionError("nothing is published in this test")

    app = build_web_app(settings, sink=NoSink())  # type: ignore[arg-type]
    async with (
        serving(app, host="127.0.0.1", port=0) as running,
        httpx.AsyncClient(base_url=running.url) as client,
    ):
        response = await client.get("/readyz")
        alive = await client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["reason"] == "broker_unavailable"
    assert alive.status_code == 200


async def test_a_port_in_use_is_one_clear_error(server: Serving) -> None:
    app = build_web_app(HubSettings(), sink=None)  # type: ignore[arg-type]
    with pytest.raises(PermanentError) as caught:
        async with serving(app, host="127.0.0.1", port=server.port):
            pass
    assert caught.value.reason is Reason.PORT_IN_USE


async def test_a_document_the_broker_will_never_take_is_no_invitation_to_retry(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    # A hub whose inbound topics were never made: the broker answers, and knows none of them.
    settings = HubEnv(kafka.connection, tmp_path / "hub").settings()
    producer = build_producer(
        settings.kafka_connection(), settings.kafka.model_copy(update={"request_timeout_ms": 1_000})
    )
    await producer.start()
    try:
        app = build_web_app(settings, sink=KafkaRecordSink(producer))
        async with (
            serving(app, host="127.0.0.1", port=0) as running,
            httpx.AsyncClient(base_url=running.url) as client,
        ):
            response = await client.post(
                "/ingest/police",
                content=CUSTODY,
                headers={**KEY, "content-type": "application/json"},
            )
    finally:
        await producer.stop()
    assert response.status_code == 500
    assert response.json()["reason"] == "output_rejected"
    assert "retry-after" not in response.headers
