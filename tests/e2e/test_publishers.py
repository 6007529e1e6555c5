"""Court and police end to end on the real broker: every kind of bad input dead-lettered with its
reason, hostile XML on the court path, and one person followed across all three publishers."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import random
import re
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import httpx
import pytest

import hubdev.demo.court as court_demo
import hubdev.demo.police as police_demo
from adapters.court.record import CourtJudgment, CourtPerson, CourtSanction
from adapters.police.record import PoliceCustody, PoliceCustodyEvent, PoliceFacility, PolicePerson
from hub.bootstrap import Hub, build_hub, build_web_app, person_keys
from hub.kafka.producer import KafkaRecordSink
from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord
from hub.settings import DEV_INGRESS_API_KEY
from hub.web.server import serving
from hubdev.demo import COURT_SAMPLES, POLICE_SAMPLES
from hubdev.demo.kodaxml import render as render_koda
from hubdev.demo.synthetic import SyntheticDocument, synthetic_identity_number, valid_records
from schemas.ids import canonical_id
from tests.e2e.harness import HubEnv, HubProcess, collect
from tests.e2e.test_ingest import dead_letters_by_origin, distinct_events
from tests.samples.hostile import COURT, hostile_documents
from tests.support import RunningKafka, run_hub
from tests.tripwires import file_tripwire, tcp_tripwire

pytestmark = [pytest.mark.kafka]


@pytest.fixture
async def env(kafka: RunningKafka, tmp_path: Path) -> HubEnv:
    hub_env = HubEnv(kafka.connection, tmp_path / "hub")
    await hub_env.create_topics()
    return hub_env


async def test_every_kind_of_bad_input_is_dead_lettered_with_its_reason(
    env: HubEnv, tmp_path: Path
) -> None:
    secret = b"TRIPWIRE-COURT-E2E"
    with file_tripwire(tmp_path, secret) as wire, tcp_tripwire() as listener:
        hostile = hostile_documents(target_file=str(wire.path), url=listener.url, base=COURT)
        court_bad = court_demo.invalid_documents(12, seed=3)
        police_bad = police_demo.invalid_documents(11, seed=3)
        court_good = court_demo.valid_documents(20, seed=3)
        police_good = police_demo.valid_documents(20, seed=3)
        court_raw = [*(d.raw for d in hostile), *_mixed(court_bad, court_good)]
        court_at = await env.publish(court_raw, source="court")
        police_at = await env.publish(_mixed(police_bad, police_good), source="police")
        bad = len(hostile) + len(court_bad) + len(police_bad)
        settings = env.settings()
        async with build_hub(settings):
            dead = await collect(
                env.connection, settings.topics.dlq, until=lambda rs: len(rs) >= bad
            )
            events = await collect(
                env.connection,
                settings.topics.events,
                until=lambda rs: len(distinct_events(rs)) >= 40,
            )
        await asyncio.sleep(0.2)  # a late connection attempt would still be recorded
        assert not wire.opened.is_set(), "no file may be read"
        assert listener.connections == [], "no connection may be made"

    by_origin = dead_letters_by_origin(dead)
    expected = [d.reason for d in hostile] + [
        d.expected_reason for d in _mixed_docs(court_bad, court_good)
    ]
    for position, reason in zip(court_at, expected, strict=True):
        if reason is not None:
            assert by_origin[position].header(h.DLQ_REASON) == reason.value, position
    for position, doc in zip(police_at, _mixed_docs(police_bad, police_good), strict=True):
        if doc.expected_reason is not None:
            assert by_origin[position].header(h.DLQ_REASON) == doc.expected_reason.value, position
    assert len(dead) == bad
    assert {r.header(h.SOURCE_EVENT_ID) for r in distinct_events(events).values()} == {
        d.hendelse_id for d in (*court_good, *police_good)
    }
    for record in [*dead, *events]:
        assert secret not in record.value


def _mixed_docs(
    bad: Sequence[SyntheticDocument], good: Sequence[SyntheticDocument]
) -> list[SyntheticDocument]:
    # Alternate, so that each bad document is followed by one that must still come through.
    return [doc for pair in zip(bad, good, strict=False) for doc in pair] + list(good[len(bad) :])


def _mixed(bad: Sequence[SyntheticDocument], good: Sequence[SyntheticDocument]) -> list[bytes]:
    return [d.raw for d in _mixed_docs(bad, good)]


class OnePerson:
    """One synthetic person's documents from all three publishers, in the order they happen."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)  # noqa: S311 - reproducible test data
        self.number = synthetic_identity_number(rng)
        police_person = PolicePerson(self.number, "Ingrid", "Bråten")
        facility = PoliceFacility("0301", "Oslo fengsel")
        self.custody_started = police_demo.render(
            PoliceCustodyEvent(
                "POL-E2E-1", "CUSTODY_STARTED", "2026-01-10T12:00:00+01:00", "Oslo", "15550001",
                police_person,
                PoliceCustody("Oslo tingrett", "2026-01-10", "2026-02-07", facility),
            )
        )  # fmt: skip
        self.judgment = court_demo.render(
            CourtJudgment(
                "TOSL-E2E-1", "26-000001MED-TOSL/01", "Oslo tingrett", "2026-01-28", "2026-02-02",
                CourtPerson(self.number, "Fodselsnummer", "Ingrid", "Bråten"),
                CourtSanction("UBETINGET_FENGSEL", 240, varetektsfradrag=24),
                ("Straffeloven § 321",),
            )
        )  # fmt: skip
        self.custody_ended = police_demo.render(
            PoliceCustodyEvent(
                "POL-E2E-2", "CUSTODY_ENDED", "2026-02-03T09:00:00+01:00", "Oslo", "15550001",
                police_person,
                PoliceCustody(
                    facility=facility,
                    ended_at="2026-02-03T08:30:00+01:00",
                    outcome="SENTENCE_EXECUTION",
                ),
            )
        )  # fmt: skip
        start = next(r for r in valid_records(40, seed=seed) if r.hendelsestype == "IVERKSETTELSE")
        person = dataclasses.replace(start.person, identitetsnummer=self.number)
        person = dataclasses.replace(person, nummertype="Fodselsnummer")
        self.sentence_started = render_koda(
            dataclasses.replace(start, hendelse_id="KODA-E2E-1", person=person)
        )


@pytest.fixture
async def running(env: HubEnv) -> AsyncIterator[tuple[Hub, str]]:
    settings = env.settings()
    async with build_hub(settings) as hub:
        app = build_web_app(settings, sink=KafkaRecordSink(hub.producer))
        async with serving(app, host="127.0.0.1", port=0) as server:
            yield hub, server.url


@pytest.mark.slow
async def test_one_person_through_police_court_and_correctional_service_in_order(
    env: HubEnv, running: tuple[Hub, str]
) -> None:
    _, url = running
    person = OnePerson(seed=21)
    settings = env.settings()
    expected: list[tuple[str, str]] = []
    async with httpx.AsyncClient(base_url=url) as client:
        for source, raw, content_type in (
            ("police", person.custody_started, "application/json"),
            ("court", person.judgment, "application/xml"),
            ("police", person.custody_ended, "application/json"),
        ):
            response = await client.post(
                f"/ingest/{source}",
                content=raw,
                headers={"x-api-key": DEV_INGRESS_API_KEY, "content-type": content_type},
            )
            assert response.status_code == 202, response.text
            expected.append((response.json()["id"], response.json()["type"]))
            await _arrived(env, expected[-1][0])
    await env.publish([person.sentence_started], source="koda")
    koda_id = canonical_id("urn:no:kriminalomsorgen:koda", "KODA-E2E-1")
    expected.append((koda_id, "no.kriminalomsorgen.sentence.started.v1"))
    records = await _arrived(env, koda_id)

    key = person_keys(settings)(person.number).encode()
    mine = [r for r in records if r.key == key]
    assert len({r.position.partition for r in mine}) == 1, "one person, one partition"
    arrived = list(
        dict.fromkeys((r.header(h.EVENT_ID), r.header(h.EVENT_TYPE)) for r in mine).keys()
    )
    assert arrived == expected
    assert [t for _, t in expected] == [
        "no.politiet.custody.started.v1",
        "no.domstol.judgment.final.v1",
        "no.politiet.custody.ended.v1",
        "no.kriminalomsorgen.sentence.started.v1",
    ]
    assert expected[0][0] == canonical_id("urn:no:politiet:varetekt", "POL-E2E-1")
    assert expected[1][0] == canonical_id("urn:no:domstol:lovisa", "TOSL-E2E-1")
    assert len({i for i, _ in expected}) == 4


async def _arrived(env: HubEnv, event_id: str) -> list[InboundRecord]:
    records = await collect(
        env.connection,
        env.settings().topics.events,
        until=lambda rs: any(r.header(h.EVENT_ID) == event_id for r in rs),
    )
    assert any(r.header(h.EVENT_ID) == event_id for r in records), event_id
    return records


def test_hub_publish_takes_police_and_court_documents(kafka: RunningKafka, tmp_path: Path) -> None:
    env = HubEnv(kafka.connection, tmp_path / "hub")
    environ = env.environ()
    assert run_hub("topics", "ensure", env=environ).returncode == 0
    police = run_hub("publish", "--source", "police", str(POLICE_SAMPLES), env=environ)
    court = run_hub(
        "publish", "--source", "court", str(COURT_SAMPLES / "01-judgment-prison.xml"), env=environ
    )
    assert (police.returncode, court.returncode) == (0, 0), police.stderr + court.stderr
    assert len(police.stdout.splitlines()) == len(list(POLICE_SAMPLES.glob("*.json")))
    assert "in.court." in court.stdout
    tail = run_hub("tail", env.settings().topics.in_police, "--json", env=environ)
    lines = [json.loads(line) for line in tail.stdout.splitlines()]
    assert len(lines) == len(list(POLICE_SAMPLES.glob("*.json")))
    wrong = run_hub("publish", "--source", "prison", str(POLICE_SAMPLES), env=environ)
    assert wrong.returncode == 2
    assert "unknown source 'prison'" in wrong.stderr


@pytest.mark.slow
async def test_hub_run_serves_the_ingress_beside_the_stages(env: HubEnv, tmp_path: Path) -> None:
    process = HubProcess(env, tmp_path / "hub.log")
    process.start()
    try:
        url = _ingress_url(process.log_path)
        async with httpx.AsyncClient(base_url=url) as client:
            ready = await client.get("/readyz")
            response = await client.post(
                "/ingest/court",
                content=(COURT_SAMPLES / "02-judgment-forvaring.xml").read_bytes(),
                headers={"x-api-key": DEV_INGRESS_API_KEY, "content-type": "application/xml"},
            )
        assert ready.status_code == 200
        assert response.status_code == 202
        await _arrived(env, response.json()["id"])
    finally:
        assert process.stop() == 0
    assert url == f"http://127.0.0.1:{env.web_port}"


def _ingress_url(log: Path) -> str:
    for _ in range(100):
        found = re.search(r"HTTP ingress at (http://\S+)/ingest/", log.read_text())
        if found:
            return found.group(1)
        time.sleep(0.1)
    raise AssertionError(f"no ingress address in the log:\n{log.read_text()[-2000:]}")
