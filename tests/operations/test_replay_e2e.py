"""Replay on the real broker: entries whose cause was fixed go out exactly once, in order.

A municipality missing from the register dead-letters every release notice for it (the first
of each person as `unknown_municipality`, the person's later ones parked behind it). The
register gains the municipality, the hub restarts, an operator replays: each notice is
delivered once, each person's in order; a second replay sends nothing; every replay is on the
audit trail with the operator.
"""

from __future__ import annotations

import csv
import dataclasses
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

import adapters.koda
from adapters.koda.record import KodaHendelse, KodaLoslatelse
from hub.bootstrap import build_hub, load_signer, person_keys
from hub.kafka.reader import read_topic
from hub.operations.actions import plan_replay, replay
from hub.operations.entries import Selection, Status, load_dead_letters, select
from hub.pipeline import headers as h
from hub.settings import HubSettings
from hubdev.demo.kodaxml import render
from hubdev.demo.synthetic import valid_records
from schemas.audit import AuditStep, decode_record
from schemas.ids import canonical_id
from tests.e2e.harness import HubEnv, collect
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

STAVANGER = "1103"
NOTICES = 300
OPERATOR = "kari.ops"


def release_notices(count: int) -> list[KodaHendelse]:
    """Planned and completed releases to Stavanger, several per person, in each person's order."""
    chosen: list[KodaHendelse] = []
    for record in valid_records(count * 6, seed=21):
        body = record.body
        if (
            isinstance(body, KodaLoslatelse)
            and record.status in ("PLANLAGT", "GJENNOMFORT")
            and record.erstatter is None
        ):
            moved = dataclasses.replace(body, oppholdskommune=STAVANGER)
            chosen.append(dataclasses.replace(record, body=moved))
        if len(chosen) == count:
            return chosen
    raise AssertionError("the generator gave too few releases")


def register_without(code: str, source: Path, target: Path) -> Path:
    """`source` without `code`, and without the retired numbers that lead to it (1141 -> 1103)."""

    def leads_to_code(line: str) -> bool:
        if line.startswith("#"):
            return False
        number, _name, _status, successors, *_ = next(csv.reader([line]))
        return number == code or code in successors.split()

    text = source.read_text(encoding="utf-8")
    kept = [line for line in text.splitlines() if not leads_to_code(line)]
    target.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return target


async def dead_letters(settings: HubSettings, count: int) -> None:
    await collect(
        settings.kafka_connection(),
        settings.topics.dlq,
        until=lambda rs: len({r.header(h.DLQ_ID) for r in rs}) >= count,
        timeout_s=120,
    )


async def test_fixed_entries_are_replayed_exactly_once_in_order(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    full_register = HubSettings().routing.municipalities_path
    broken = register_without(STAVANGER, full_register, tmp_path / "municipalities.csv")
    env = HubEnv(
        kafka.connection,
        tmp_path / "hub",
        overrides={"routing": {"municipalities_path": str(broken)}, "operator": OPERATOR},
    )
    await env.create_topics()
    notices = release_notices(NOTICES)
    await env.publish([render(r) for r in notices])

    broken_settings = env.settings()
    async with build_hub(broken_settings):
        await dead_letters(broken_settings, NOTICES)

    env.overrides["routing"]["municipalities_path"] = str(full_register)
    settings = env.settings()
    entries = await load_dead_letters(settings)
    chosen = select(entries, Selection(stage="route_municipality"))
    assert len(chosen) == NOTICES
    reasons = {e.reason for e in chosen}
    assert reasons == {"unknown_municipality", "parked"}, "later notices wait behind the first"

    signer = load_signer(settings)
    out = env.topic(f"out.municipality.{STAVANGER}.v1")
    async with build_hub(settings):
        plan = plan_replay(entries, chosen, operator=OPERATOR, now=datetime.now(UTC))
        assert len(plan.items) == NOTICES
        await replay(settings, plan, operator=OPERATOR, signer=signer)
        delivered = await collect(
            settings.kafka_connection(), out, until=lambda rs: len(rs) >= NOTICES
        )
        again = await load_dead_letters(settings)
        same = select(again, Selection(ids=tuple(e.id for e in chosen)))
        second = plan_replay(again, same, operator=OPERATOR, now=datetime.now(UTC))
        assert second.items == [], "replaying the same entries again sends nothing"
        assert {held.entry.status for held in second.held} == {Status.REPLAYED}
        late = await collect(settings.kafka_connection(), out, until=lambda rs: False, timeout_s=3)

    assert len(late) == NOTICES, "each notice delivered exactly once"
    assert len({r.header(h.EVENT_ID) for r in late}) == NOTICES
    _assert_in_order_per_person(notices, delivered, settings)
    await _assert_replays_on_trail(settings, NOTICES)


def _assert_in_order_per_person(
    notices: list[KodaHendelse],
    delivered: list,
    settings: HubSettings,  # type: ignore[type-arg]
) -> None:
    keys = person_keys(settings)
    expected: dict[str, list[str]] = defaultdict(list)
    for record in notices:
        event_id = canonical_id(adapters.koda.SOURCE, record.hendelse_id)
        expected[keys(record.person.identitetsnummer)].append(event_id)
    arrived: dict[str, list[str]] = defaultdict(list)
    for record in delivered:
        arrived[(record.key or b"").decode()].append(record.header(h.CANONICAL_ID) or "")
    assert arrived == expected
    assert any(len(ids) > 1 for ids in expected.values()), "some persons have several notices"


async def _assert_replays_on_trail(settings: HubSettings, count: int) -> None:
    replayed = []
    async for stored in read_topic(settings.kafka_connection(), settings.topics.audit):
        record = decode_record(stored.value)
        if record.step is AuditStep.REPLAYED:
            replayed.append(record)
    assert len(replayed) == count
    assert {r.operator for r in replayed} == {OPERATOR}
