"""The chaos checker: it finds each kind of fault, passes a clean run, and agrees with the hub.

The unit tests build a small run by hand (records as the topics would hold them) and break it one
way at a time. The broker test runs the real hub on a mixed workload of all three sources and
expects the checker to find nothing: that is what shows its reading of the policy is the hub's.
"""

from __future__ import annotations

import ast
import asyncio
import dataclasses
import datetime as dt
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from hub.audit.tools import verify_topics
from hub.bootstrap import build_hub
from hub.signing.keys import key_store
from hub.sources import sources
from hubdev.demo import court, police, synthetic
from hubdev.demo.synthetic import SyntheticDocument
from tests.chaos import checker
from tests.chaos.checker import (
    ChaosTopics,
    Document,
    Observed,
    Record,
    Report,
    analyse,
    load_policy,
    load_reference,
    message_id,
)
from tests.e2e.harness import HubEnv
from tests.support import RunningKafka

ROOT = Path(__file__).resolve().parents[2]
POLICY = ROOT / "deploy" / "policy" / "routing.toml"
REFERENCE = ROOT / "deploy" / "reference"
NOW = dt.datetime(2026, 12, 6, 12, 0, tzinfo=dt.UTC)
_ALLOWED_IMPORTS = {
    "__future__", "csv", "dataclasses", "datetime", "hashlib", "json", "time", "tomllib", "uuid",
    "collections", "collections.abc", "itertools", "pathlib", "typing", "confluent_kafka",
}  # fmt: skip


def test_the_checker_imports_nothing_of_the_hub() -> None:
    tree = ast.parse((Path(checker.__file__)).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, "no relative imports"
            imported.add(node.module or "")
    assert imported <= _ALLOWED_IMPORTS, imported - _ALLOWED_IMPORTS


# --- a small run, built by hand ------------------------------------------------------------------

IN, EVENTS, DLQ, AUDIT, PREFIX = "in.koda", "hub.events", "hub.dlq", "hub.audit", "t."
SUBJECT = "pk-" + "a" * 32


@dataclasses.dataclass
class Run:
    """The records of a run in which the hub did everything right, and a manifest for it."""

    observed: Observed = dataclasses.field(default_factory=Observed)
    manifest: list[Document] = dataclasses.field(default_factory=list)
    offsets: dict[str, int] = dataclasses.field(default_factory=dict)

    def put(self, topic: str, value: bytes, **kwargs: Any) -> Record:
        offset = self.offsets.get(topic, 0)
        self.offsets[topic] = offset + 1
        return Record(
            topic, 0, offset, kwargs.pop("key", b"k"), value, timestamp_ms=1_765_000_000_000,
            **kwargs,
        )  # fmt: skip

    def document(self, source_id: str, *, valid: bool = True) -> Record:
        raw = f"<doc id='{source_id}'/>".encode()
        record = self.put(IN, raw, key=b"koda-p1")
        self.observed.inbound.append(record)
        self.audit({"step": "received", "stage": "ingest", "input": _where(record)})
        self.manifest.append(
            Document(
                seq=len(self.manifest) + 1,
                source="koda",
                topic=IN,
                sha256=hashlib.sha256(raw).hexdigest(),
                source_event_id=source_id,
                person="koda-p1",
                valid=valid,
            )
        )
        return record

    def event(self, source_id: str, type_: str, data: dict[str, Any], **extra: Any) -> str:
        inbound = self.document(source_id)
        event_id = extra.pop("id", f"00000000-0000-4000-8000-{len(self.manifest):012d}")
        body = {
            "id": event_id,
            "type": type_,
            "subject": SUBJECT,
            "sourceeventid": source_id,
            "replaces": None,
            "time": f"2026-12-0{len(self.manifest)}T08:00:00+01:00",
            "data": {"person": {"identity_number": "synthetic"}, **data},
            **extra,
        }
        record = self.put(EVENTS, json.dumps(body).encode(), key=SUBJECT.encode())
        self.observed.events.append(record)
        self.audit(
            {"step": "published", "stage": "ingest", "input": _where(inbound),
             "message_id": event_id, "output": _where(record)}
        )  # fmt: skip
        return event_id

    def decided(self, event_id: str, kind: str, told: list[tuple[str, str]]) -> None:
        """`kind`'s stage took the event and sent `told` (recipient, action), or refused."""
        (position,) = [
            r for r in self.observed.events if json.loads(r.value or b"{}")["id"] == event_id
        ]
        stage = "route_" + kind.replace("-", "_")
        # The one pass puts the event on record as taken once, for every kind.
        self.audit({"step": "received", "stage": "route", "input": _where(position)})
        if not told:
            self.audit({"step": "refused", "stage": stage, "message_id": event_id})
        for recipient, action in told:
            self.message(event_id, recipient, action, stage)

    def message(
        self, event_id: str, recipient: str, action: str, stage: str, rule: str | None = None
    ) -> None:
        mid = message_id(recipient, event_id, action)
        body = {
            "id": mid, "canonicalid": event_id, "recipient": recipient, "action": action,
            "subject": SUBJECT, "rule": rule,
        }  # fmt: skip
        topic = f"{PREFIX}out.{recipient}.v1"
        self.observed.messages.append(self.put(topic, json.dumps(body).encode()))
        self.audit({"step": "delivered", "stage": stage, "delivered_id": mid})

    def dead_letter(self, inbound: Record, reason: str) -> None:
        entry = f"dlq-{inbound.offset}"
        headers = (
            ("hub-dlq-id", entry), ("hub-dlq-stage", "ingest"), ("hub-dlq-reason", reason),
            ("hub-dlq-topic", inbound.topic), ("hub-dlq-partition", str(inbound.partition)),
            ("hub-dlq-offset", str(inbound.offset)),
        )  # fmt: skip
        record = self.put(
            DLQ, inbound.value or b"", headers=tuple((k, v.encode()) for k, v in headers)
        )
        self.observed.dlq.append(record)
        self.audit({"step": "dead_lettered", "stage": "ingest", "entry_id": entry})

    def route_dead_letter(self, event_id: str, kind: str, reason: str) -> None:
        """`kind`'s stage dead-lettered the event (the input's headers kept, ours added)."""
        (position,) = [
            r for r in self.observed.events if json.loads(r.value or b"{}")["id"] == event_id
        ]
        stage = "route_" + kind.replace("-", "_")
        entry = f"dlq-{stage}-{position.offset}"
        headers = (
            ("hub-event-id", event_id), ("hub-dlq-id", entry), ("hub-dlq-stage", stage),
            ("hub-dlq-reason", reason), ("hub-dlq-topic", position.topic),
            ("hub-dlq-partition", str(position.partition)),
            ("hub-dlq-offset", str(position.offset)),
        )  # fmt: skip
        encoded = tuple((k, v.encode()) for k, v in headers)
        self.observed.dlq.append(self.put(DLQ, position.value or b"", headers=encoded))
        self.audit({"step": "received", "stage": stage, "input": _where(position)})
        self.audit({"step": "dead_lettered", "stage": stage, "entry_id": entry})

    def audit(self, fact: dict[str, Any]) -> None:
        self.observed.audit.append(self.put(AUDIT, json.dumps(fact).encode()))

    def report(self) -> Report:
        return analyse(
            self.observed, self.manifest, load_policy(POLICY), load_reference(REFERENCE), now=NOW
        ).with_audit_verify("INTACT")


def _where(record: Record) -> dict[str, Any]:
    return {"topic": record.topic, "partition": record.partition, "offset": record.offset}


CASE = {"case": {"case_number": "K-1"}, "unit": {"code": "0301"}, "execution_form": "FENGSEL_HOY"}
OTHERS = ("municipality", "health", "correctional", "person")


def clean_run() -> tuple[Run, dict[str, str]]:
    """A sentence started and a planned release (with consent to the municipality), and one
    invalid document: every stage's decision as the policy has it."""
    run = Run()
    started = run.event(
        "S-1", "no.kriminalomsorgen.sentence.started.v1", {**CASE, "start": {"start_date": "x"}}
    )
    run.decided(started, "police-register", [("police-register", "notice")])
    run.decided(started, "nav", [("nav", "notice")])
    for kind in OTHERS:
        run.decided(started, kind, [])
    release = {
        "date": "2027-02-01",
        "kind": "ENDT_STRAFF",
        "residence_municipality": "0301",
        "consent_recipients": ["KOMMUNE"],
    }
    planned = run.event(
        "S-2", "no.kriminalomsorgen.release.planned.v1", {**CASE, "release": release}
    )
    run.decided(planned, "police-register", [("police-register", "notice")])
    run.decided(planned, "nav", [])
    run.decided(planned, "municipality", [("municipality.0301", "notice")])
    run.decided(planned, "health", [])
    run.decided(planned, "correctional", [])
    run.decided(planned, "person", [("person", "notice")])
    bad = run.document("BAD-1", valid=False)
    run.dead_letter(bad, "invalid_xml")
    return run, {"started": started, "planned": planned}


def test_a_clean_run_passes() -> None:
    run, _ = clean_run()
    report = run.report()
    assert not report.failed, report.render()
    assert (report.documents, report.documents_lost, report.documents_dead_lettered) == (3, 0, 1)
    assert (report.events_distinct, report.messages_expected, report.messages_missing) == (2, 5, 0)
    assert report.audit_steps_missing == 0


def test_without_audit_verify_the_run_fails() -> None:
    run, _ = clean_run()
    report = dataclasses.replace(run.report(), audit_verify=None)
    assert report.failures == ["audit_verify"]
    assert "not run" in report.render()


def test_a_lost_document_is_found() -> None:
    run, _ = clean_run()
    run.document("S-3")  # published, and then nothing became of it
    report = run.report()
    assert report.documents_lost == 1
    assert report.examples["documents_lost"] == ("seq 4 (S-3)",)
    assert report.failed


def test_a_document_published_twice_is_one_document() -> None:
    run, _ = clean_run()
    first = run.observed.inbound[0]
    again = run.put(IN, first.value or b"", key=first.key)
    run.observed.inbound.append(again)
    run.audit({"step": "received", "stage": "ingest", "input": _where(again)})
    report = run.report()
    assert (report.documents, report.documents_published) == (3, 3)
    assert not report.failed, report.render()


def test_documents_of_identical_bytes_each_need_their_dead_letter() -> None:
    run, _ = clean_run()
    for _ in range(2):
        empty = run.put(IN, b"", key=b"koda-p2")
        run.observed.inbound.append(empty)
        run.audit({"step": "received", "stage": "ingest", "input": _where(empty)})
        run.manifest.append(
            Document(len(run.manifest) + 1, "koda", IN, hashlib.sha256(b"").hexdigest(),
                     None, "koda-p2", valid=False)
        )  # fmt: skip
    run.dead_letter(empty, "empty_document")
    report = run.report()
    assert (report.documents, report.documents_lost) == (5, 1)
    assert report.examples["documents_lost"] == ("seq 5 (no event id)",)


def test_a_document_never_published_is_found() -> None:
    run, _ = clean_run()
    run.manifest.append(dataclasses.replace(run.manifest[0], seq=9, sha256="0" * 64))
    report = run.report()
    assert report.documents_not_published == 1
    assert report.failed


def test_an_event_under_a_second_id_is_a_duplicate_after_dedup() -> None:
    run, _ = clean_run()
    duplicate = run.event("S-1", "no.kriminalomsorgen.escape.reported.v1", CASE)
    run.manifest.pop()  # the same document, not a second one
    for kind in ("police-register",):
        run.decided(duplicate, kind, [("police-register", "notice")])
    report = run.report()
    assert report.events_duplicated_after_dedup == 1
    assert report.failed


def test_a_record_repeated_under_the_same_id_is_only_a_duplicate_before_dedup() -> None:
    run, _ = clean_run()
    first = run.observed.events[0]
    run.observed.events.append(run.put(EVENTS, first.value or b"", key=first.key))
    report = run.report()
    assert report.events_duplicated_before_dedup == 1
    assert not report.failed, report.render()


def test_a_message_sent_again_under_its_id_is_only_a_duplicate_before_dedup() -> None:
    run, _ = clean_run()
    again = run.observed.messages[0]
    run.observed.messages.append(run.put(again.topic, again.value or b""))
    report = run.report()
    assert report.messages_duplicated_before_dedup == 1
    assert not report.failed, report.render()


def test_one_message_under_two_ids_is_a_duplicate_after_dedup() -> None:
    run, _ = clean_run()
    again = run.observed.messages[0]
    body = {**json.loads(again.value or b"{}"), "id": "00000000-0000-4000-8000-0000000000ff"}
    run.observed.messages.append(run.put(again.topic, json.dumps(body).encode()))
    run.audit({"step": "delivered", "stage": "route_police_register", "delivered_id": body["id"]})
    report = run.report()
    assert report.messages_duplicated_after_dedup == 1
    assert report.failed


def test_a_missing_recipient_message_is_found() -> None:
    run, ids = clean_run()
    run.observed.messages = [
        m for m in run.observed.messages if not m.topic.endswith("municipality.0301.v1")
    ]
    report = run.report()
    assert report.messages_missing == 1
    assert report.examples["messages_missing"] == (
        f"notice of {ids['planned']} to municipality.0301",
    )
    assert report.failed


def test_an_unexpected_recipient_message_is_found() -> None:
    run, ids = clean_run()
    # Health services without the person's consent to HELSE.
    run.message(ids["planned"], "health.sor-ost", "notice", "route_health")
    report = run.report()
    assert report.messages_unexpected == 1
    assert report.failed


def test_events_out_of_the_order_published_are_found() -> None:
    run, ids = clean_run()
    first, second = run.observed.events
    run.observed.events = [
        dataclasses.replace(second, offset=first.offset),
        dataclasses.replace(first, offset=second.offset),
    ]
    report = run.report()
    assert report.order_events_broken == 1
    assert report.examples["order_events_broken"] == (ids["planned"],)
    assert report.failed


def test_a_missing_audit_step_is_found() -> None:
    run, ids = clean_run()

    def nav_refused(record: Record) -> bool:
        fact = json.loads(record.value or b"{}")
        return (fact["step"], fact["stage"]) == ("refused", "route_nav")

    run.observed.audit = [a for a in run.observed.audit if not nav_refused(a)]
    report = run.report()
    assert report.audit_steps_missing == 1  # NAV gets no planned release: refused
    assert f"refused route_nav {ids['planned']}" in report.examples["audit_steps_missing"]
    assert report.failed


def test_an_event_the_one_pass_never_put_on_record_as_taken_is_found() -> None:
    run, ids = clean_run()

    def taken(record: Record) -> bool:
        fact = json.loads(record.value or b"{}")
        return (fact["step"], fact["stage"]) == ("received", "route")

    run.observed.audit = [a for a in run.observed.audit if not taken(a)]
    report = run.report()
    # Two events, six kinds: each kind's `received` is missing.
    assert report.audit_steps_missing == 2 * 6
    assert f"received route_nav {ids['started']}" in report.examples["audit_steps_missing"]


def test_a_kind_that_records_its_own_received_needs_no_one_pass() -> None:
    # Stages that each read the events (before the one pass) recorded their own `received`.
    run, _ = clean_run()
    run.observed.audit = [
        dataclasses.replace(a, value=a.value.replace(b'"stage": "route"', b'"stage": "route_nav"'))
        if a.value is not None
        else a
        for a in run.observed.audit
    ]
    for kind in ("police-register", "municipality", "health", "correctional", "person"):
        stage = "route_" + kind.replace("-", "_")
        for event in run.observed.events:
            run.audit({"step": "received", "stage": stage, "input": _where(event)})
    report = run.report()
    assert not report.failed, report.examples


def decide_all(
    run: Run, event_id: str, told: dict[str, list[tuple[str, str]]], failed: str = ""
) -> None:
    """Every stage decided the event, as `told`; the stage `failed` dead-lettered it."""
    for kind in ("police-register", "nav", *OTHERS):
        if kind != failed:
            run.decided(event_id, kind, told.get(kind, []))


def corrected_and_cancelled() -> tuple[Run, dict[str, str]]:
    """The planned release corrected to a retired municipality number (followed to its
    successor), then cancelled: corrections, a withdrawal and cancellations, as the hub sends."""
    run, ids = clean_run()
    release = {
        "date": "2027-03-01", "kind": "ENDT_STRAFF", "residence_municipality": "1201",
        "consent_recipients": ["KOMMUNE"],
    }  # fmt: skip
    planned = "no.kriminalomsorgen.release.planned.v1"
    corrected = run.event("S-3", planned, {**CASE, "release": release}, replaces=ids["planned"])
    decide_all(
        run,
        corrected,
        {
            "police-register": [("police-register", "correction")],
            "municipality": [("municipality.4601", "notice"), ("municipality.0301", "withdrawal")],
            "person": [("person", "correction")],
        },
    )
    cancelled = run.event(
        "S-4", "no.kriminalomsorgen.release.cancelled.v1", {**CASE, "release": release}
    )
    decide_all(
        run,
        cancelled,
        {
            "police-register": [("police-register", "cancellation")],
            "municipality": [("municipality.4601", "cancellation")],
            "person": [("person", "cancellation")],
        },
    )
    return run, {**ids, "corrected": corrected, "cancelled": cancelled}


def test_corrections_and_cancellations_reach_whoever_was_told() -> None:
    run, _ = corrected_and_cancelled()
    report = run.report()
    assert not report.failed, report.render() + str(report.examples)
    assert report.messages_expected == 5 + 4 + 3


@pytest.mark.parametrize("cancelled_as", ["notice", "cancellation"])
def test_a_cancellation_registered_before_the_plan_does_not_cancel_it(cancelled_as: str) -> None:
    """A cancellation registered on 1 November stands on the topic after the plan registered on
    the 2nd of December: it closes no plan, and goes out as a notice of its own where it may."""
    run, _ = clean_run()
    cancelled = run.event(
        "S-3", "no.kriminalomsorgen.release.cancelled.v1", CASE,
        time="2026-11-01T08:00:00+01:00",
    )  # fmt: skip
    told = [("police-register", cancelled_as)]
    decide_all(run, cancelled, {"police-register": told, "person": [("person", cancelled_as)]})
    report = run.report()
    wrong = int(cancelled_as == "cancellation")
    assert (report.messages_missing, report.messages_unexpected) == (2 * wrong, 2 * wrong), (
        report.examples
    )


def test_a_withdrawal_not_sent_is_missing() -> None:
    run, ids = corrected_and_cancelled()
    withdrawal = message_id("municipality.0301", ids["corrected"], "withdrawal")
    run.observed.messages = [
        m for m in run.observed.messages if json.loads(m.value or b"{}")["id"] != withdrawal
    ]
    report = run.report()
    assert report.messages_missing == 1
    assert report.examples["messages_missing"] == (
        f"withdrawal of {ids['corrected']} to municipality.0301",
    )


def test_an_unknown_municipality_is_a_dead_letter_and_parks_the_person() -> None:
    run, _ = clean_run()
    # 1507 Ålesund was split in 2024: which successor the person lives in cannot be known.
    release = {"date": "2027-03-01", "kind": "ENDT_STRAFF", "residence_municipality": "1507"}
    completed = "no.kriminalomsorgen.release.completed.v1"
    unknown = run.event("S-3", completed, {**CASE, "release": release})
    decide_all(
        run,
        unknown,
        {"police-register": [("police-register", "notice")], "nav": [("nav", "notice")]},
        failed="municipality",
    )
    later = run.event("S-4", "no.kriminalomsorgen.escape.reported.v1", {**CASE, "escape": {}})
    decide_all(
        run, later, {"police-register": [("police-register", "notice")]}, failed="municipality"
    )
    run.route_dead_letter(unknown, "municipality", "unknown_municipality")
    run.route_dead_letter(later, "municipality", "parked")
    report = run.report()
    assert report.route_dead_letters == 2
    assert report.route_dead_letters_unexpected == report.route_dead_letters_missing == 0
    assert not report.failed, report.render() + str(report.examples)

    run.observed.dlq.pop()  # the parked one never written
    assert run.report().route_dead_letters_missing == 1


@pytest.mark.parametrize("told_health", [False, True])
def test_consent_published_after_the_event_but_registered_before_is_accepted_either_way(
    told_health: bool,
) -> None:
    """A stage may already have read a consent published after the event (from another stage,
    through the consent topic) when it decides; registered before the event, it counts if seen:
    health services told or not, both are right."""
    run, ids = clean_run()
    consent = {"consent": {"recipients": ["HELSE"], "source": "BRIK", "valid_until": None}}
    given = run.event(
        "S-3", "no.kriminalomsorgen.consent.given.v1", {**CASE, **consent},
        time="2026-12-01T07:00:00+01:00",
    )  # fmt: skip
    for kind in ("police-register", "nav", *OTHERS):
        run.decided(given, kind, [])
    if told_health:
        run.message(ids["planned"], "health.sor-ost", "notice", "route_health")
        run.observed.audit = [
            a for a in run.observed.audit
            if json.loads(a.value or b"{}") != {
                "step": "refused", "stage": "route_health", "message_id": ids["planned"]
            }
        ]  # fmt: skip
    report = run.report()
    assert not report.failed, report.render()
    assert report.messages_undetermined == 1


@pytest.mark.parametrize("told_health", [False, True])
def test_consent_registered_after_an_event_does_not_count_for_it_wherever_it_stands(
    told_health: bool,
) -> None:
    """A source published a person's stories out of their time order: consent registered on
    the 9th stands on the topic before a release completed on the 4th. The hub decides by
    the time registered, so health services must not hear of the release."""
    run, _ = clean_run()
    consent = {"consent": {"recipients": ["HELSE"], "source": "BRIK", "valid_until": None}}
    later = "2026-12-09T08:00:00+01:00"
    given_type = "no.kriminalomsorgen.consent.given.v1"
    given = run.event("S-3", given_type, {**CASE, **consent}, time=later)
    for kind in ("police-register", "nav", *OTHERS):
        run.decided(given, kind, [])
    release = {"date": "2027-02-01", "kind": "ENDT_STRAFF", "residence_municipality": "0301"}
    completed = run.event(
        "S-4", "no.kriminalomsorgen.release.completed.v1", {**CASE, "release": release},
        time="2026-12-04T08:00:00+01:00",
    )  # fmt: skip
    run.decided(completed, "police-register", [("police-register", "notice")])
    run.decided(completed, "nav", [("nav", "notice")])
    run.decided(completed, "municipality", [("municipality.0301", "notice")])
    run.decided(completed, "health", [("health.sor-ost", "notice")] if told_health else [])
    for kind in ("correctional", "person"):
        run.decided(completed, kind, [])
    report = run.report()
    assert (report.messages_missing, report.messages_unexpected) == (0, int(told_health))
    assert report.messages_undetermined == 0


def test_consent_registered_after_the_event_does_not_count_though_a_stage_has_seen_it() -> None:
    run, ids = clean_run()
    consent = {"consent": {"recipients": ["HELSE"], "source": "BRIK", "valid_until": None}}
    given = run.event("S-3", "no.kriminalomsorgen.consent.given.v1", {**CASE, **consent})
    for kind in ("police-register", "nav", *OTHERS):
        run.decided(given, kind, [])
    run.message(ids["planned"], "health.sor-ost", "notice", "route_health")
    report = run.report()
    assert (report.messages_unexpected, report.messages_undetermined) == (1, 0)


@pytest.mark.parametrize("withdrawal_sent", [False, True])
def test_a_withdrawal_does_not_reach_what_was_shared_for_an_event_registered_after_it(
    withdrawal_sent: bool,
) -> None:
    """The planned release (registered on the 2nd, with consent to the municipality) stands on
    the topic before a withdrawal registered on 20 November: the withdrawal does not reach it."""
    run, _ = clean_run()
    kommune = {"consent": {"recipients": ["KOMMUNE"], "source": "BRIK", "valid_until": None}}
    taken = run.event(
        "S-3", "no.kriminalomsorgen.consent.withdrawn.v1", {**CASE, **kommune},
        time="2026-11-20T08:00:00+01:00",
    )  # fmt: skip
    for kind in ("police-register", "nav", "health", "correctional", "person"):
        run.decided(taken, kind, [])
    run.decided(
        taken, "municipality", [("municipality.0301", "withdrawal")] if withdrawal_sent else []
    )
    report = run.report()
    assert (report.messages_missing, report.messages_unexpected) == (0, int(withdrawal_sent))


def test_consent_expired_before_the_event_is_not_undetermined() -> None:
    run, ids = clean_run()
    consent = {"consent": {"recipients": ["HELSE"], "source": "BRIK", "valid_until": "2020-01-01"}}
    given = run.event("S-3", "no.kriminalomsorgen.consent.given.v1", {**CASE, **consent})
    for kind in ("police-register", "nav", *OTHERS):
        run.decided(given, kind, [])
    run.message(ids["planned"], "health.sor-ost", "notice", "route_health")
    report = run.report()
    assert report.messages_unexpected == 1
    assert report.messages_undetermined == 0


@pytest.mark.parametrize(
    ("rule", "withdrawn", "missing", "unexpected"),
    [
        ("municipality.release-planned.with-needs", True, 0, 0),
        ("municipality.release-planned", False, 0, 0),
        ("municipality.release-planned.with-needs", False, 1, 0),
        ("municipality.release-planned", True, 0, 1),
    ],
)
def test_what_a_withdrawal_of_consent_reaches_follows_the_rule_the_message_went_under(
    rule: str, withdrawn: bool, missing: int, unexpected: int
) -> None:
    """Consent registered before a planned release but published after it, then withdrawn: the
    municipality was told under the rule with consent or the one without (undetermined), and
    only the first is followed by a withdrawal."""
    run = Run()
    release = {"date": "2027-03-01", "kind": "ENDT_STRAFF", "residence_municipality": "0301"}
    planned_type = "no.kriminalomsorgen.release.planned.v1"
    planned = run.event("S-1", planned_type, {**CASE, "release": release})
    run.message(planned, "municipality.0301", "notice", "route_municipality", rule)
    run.message(planned, "police-register", "notice", "route_police_register")
    run.message(planned, "person", "notice", "route_person")
    kommune = {"consent": {"recipients": ["KOMMUNE"], "source": "BRIK", "valid_until": None}}
    before = "2026-11-30T08:00:00+01:00"
    run.event("S-2", "no.kriminalomsorgen.consent.given.v1", {**CASE, **kommune}, time=before)
    taken = run.event("S-3", "no.kriminalomsorgen.consent.withdrawn.v1", {**CASE, **kommune})
    if withdrawn:
        run.message(taken, "municipality.0301", "withdrawal", "route_municipality", rule)
    report = run.report()
    assert (report.messages_missing, report.messages_unexpected) == (missing, unexpected)


def test_a_valid_document_dead_lettered_is_misclassified() -> None:
    run, _ = clean_run()
    inbound = run.document("S-4")
    run.dead_letter(inbound, "invalid_xml")
    report = run.report()
    assert report.documents_misclassified == 1
    assert report.failed


def test_the_render_is_an_aligned_table_and_the_dict_is_json() -> None:
    run, _ = clean_run()
    run.document("S-3")
    report = run.report()
    text = report.render()
    assert "lost (neither event nor dead letter)" in text
    assert "FAIL" in text
    assert text.splitlines()[-1].endswith("FAILED")
    assert json.loads(json.dumps(report.as_dict()))["documents_lost"] == 1


# --- against the real hub ------------------------------------------------------------------------

Generator = Callable[..., list[SyntheticDocument]]
SOURCES: dict[str, tuple[Generator, Generator]] = {
    "koda": (synthetic.valid_documents, synthetic.invalid_documents),
    "court": (court.valid_documents, court.invalid_documents),
    "police": (police.valid_documents, police.invalid_documents),
}  # fmt: skip


VALID, INVALID = 60, 3


def _person(source: str, doc: SyntheticDocument) -> str:
    return f"{source}-{hashlib.sha256(doc.identity_number.encode()).hexdigest()[:16]}"


def _publish(env: HubEnv, kafka: RunningKafka, manifest: Path, valid: int, invalid: int) -> int:
    """Publish a mixed workload as the sources would (keyed by their own person reference) and
    write its manifest; returns how many documents."""
    settings = env.settings()
    by_name = sources(settings)
    producer = Producer({**kafka.connection.properties(), "enable.idempotence": True})
    lines: list[dict[str, Any]] = []
    for n, (name, (good, bad)) in enumerate(SOURCES.items()):
        docs = [(d, True) for d in good(valid, seed=11 + n)]
        docs += [(d, False) for d in bad(invalid, seed=11 + n)]
        source = by_name[name]
        for doc, ok in docs:
            person = _person(name, doc)
            producer.produce(
                source.topic, doc.raw, key=person.encode(),
                headers=[("content-type", source.content_type.encode())],
            )  # fmt: skip
            lines.append(
                {"seq": len(lines) + 1, "source": name, "topic": source.topic,
                 "sha256": hashlib.sha256(doc.raw).hexdigest(),
                 "source_event_id": doc.hendelse_id, "person": person, "valid": ok}
            )  # fmt: skip
    assert producer.flush(30) == 0
    manifest.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return len(lines)


def _topics(env: HubEnv) -> ChaosTopics:
    t = env.settings().topics
    return ChaosTopics(
        inbound={"koda": t.in_koda, "court": t.in_court, "police": t.in_police},
        events=t.events,
        dlq=t.dlq,
        audit=t.audit,
        audit_checkpoints=t.audit_checkpoints,
        deliveries=t.deliveries,
        recipient_prefix=t.recipient_prefix,
    )


@pytest.mark.kafka
@pytest.mark.slow
async def test_the_checker_agrees_with_the_hub(kafka: RunningKafka, tmp_path: Path) -> None:
    env = HubEnv(kafka.connection, tmp_path / "hub")
    await env.create_topics()
    manifest = tmp_path / "manifest.jsonl"
    _publish(env, kafka, manifest, valid=VALID, invalid=INVALID)
    topics, props = _topics(env), kafka.connection.properties()

    def check() -> Report:
        return checker.check(props, topics, manifest, POLICY, REFERENCE)

    settings = env.settings()
    async with build_hub(settings):
        deadline = time.monotonic() + 120
        report = await asyncio.to_thread(check)
        while [f for f in report.failures if f != "audit_verify"] and time.monotonic() < deadline:
            await asyncio.sleep(2)
            report = await asyncio.to_thread(check)
    report = await asyncio.to_thread(check)
    keys = key_store(settings).load().public_keys()
    trail = await verify_topics(
        settings.kafka_connection(), topics.audit, topics.audit_checkpoints, keys
    )
    report = report.with_audit_verify("INTACT" if trail.intact else "NOT INTACT")
    print(report.render())
    assert not report.failed, report.render() + "\n" + json.dumps(report.examples, indent=1)
    sources_count = len(SOURCES)
    assert report.documents_published == report.documents == sources_count * (VALID + INVALID)
    assert report.documents_dead_lettered == sources_count * INVALID
    assert report.events_distinct == sources_count * VALID
    # Not vacuous: every message the hub sent was foreseen, one by one.
    assert report.messages_distinct >= report.messages_expected > report.events_distinct
