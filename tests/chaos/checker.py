"""The chaos suite's independent checker: reads every topic after a run and says what went wrong.

It shares no code with the hub. What it knows of the hub it knows from the documents: the wire
formats (canonical events and recipient messages as JSON, the audit record, the `hub-dlq-*`
headers), the routing policy (TOML), and the reference data (CSV). From those it computes, with
its own small interpreter of the policy, which recipient messages the events found on the events
topic must have produced, and compares with what the recipient topics hold.

Reading (`read_topics`) is separate from the analysis (`analyse`), which works on plain lists of
`Record`s, so the analysis is tested on records made by hand as well as on a real run.

What the hub decides from the moment it decides (consent expiring between the event's time and
the check, or consent published after the event but registered before it, which a stage may or
may not have seen yet) is accepted either way and counted as `undetermined`; everything else is
exact. Consent registered after an event never counts for it, wherever it stands on the topic.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import hashlib
import json
import time
import tomllib
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise, product
from pathlib import Path
from typing import Any

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaException, TopicPartition

__all__ = [
    "ChaosTopics",
    "Document",
    "Observed",
    "Record",
    "Report",
    "analyse",
    "check",
    "load_manifest",
    "load_policy",
    "load_reference",
    "message_id",
    "read_topics",
]

# Wire facts, as the hub documents them (schemas/recipients/envelope.py, hub/pipeline/headers.py).
_MESSAGE_ID_NAMESPACE = uuid.UUID("0f3c2b7e-9a41-4d6e-8f1a-5c2d7b9e4a10")
_INFORMING = frozenset({"notice", "correction"})
_KINDS = ("police-register", "nav", "municipality", "health", "correctional", "person")
_PLAN_FAMILIES = frozenset({"release", "transfer"})
_RESIDENCE_PATHS = (
    "release.residence_municipality",
    "transfer.residence_municipality",
    "residence_municipality",
)
_CONSENT_GIVEN = "no.kriminalomsorgen.consent.given.v1"
_CONSENT_WITHDRAWN = "no.kriminalomsorgen.consent.withdrawn.v1"
_CARRIES_CONSENT = frozenset(
    {"no.kriminalomsorgen.release.planned.v1", "no.kriminalomsorgen.release.completed.v1"}
)
_PARKED = "parked"
_EXAMPLES = 5
_MAX_HOPS = 10


# --- inputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChaosTopics:
    inbound: dict[str, str]  # source name ("koda", "court", "police") -> inbound topic
    events: str
    dlq: str
    audit: str
    audit_checkpoints: str
    deliveries: str
    recipient_prefix: str  # recipient topics: every topic named recipient_prefix + "out." ...


@dataclass(frozen=True)
class Record:
    """One Kafka record as read: nothing decoded but the headers' names."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp_ms: int = 0

    @property
    def position(self) -> tuple[str, int, int]:
        return (self.topic, self.partition, self.offset)

    def header(self, name: str) -> str | None:
        found = [v for k, v in self.headers if k == name]
        return found[-1].decode("utf-8", errors="replace") if found else None


@dataclass(frozen=True)
class Document:
    """One manifest line."""

    seq: int
    source: str
    topic: str
    sha256: str
    source_event_id: str | None
    person: str
    valid: bool


@dataclass
class Observed:
    """Every record of every topic the check reads, in each partition's order."""

    inbound: list[Record] = field(default_factory=list)
    events: list[Record] = field(default_factory=list)
    dlq: list[Record] = field(default_factory=list)
    audit: list[Record] = field(default_factory=list)
    messages: list[Record] = field(default_factory=list)


def load_manifest(path: Path) -> list[Document]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [_document(json.loads(line)) for line in lines if line.strip()]


def _document(raw: Mapping[str, Any]) -> Document:
    return Document(
        seq=int(raw["seq"]),
        source=str(raw["source"]),
        topic=str(raw["topic"]),
        sha256=str(raw["sha256"]),
        source_event_id=raw.get("source_event_id"),
        person=str(raw["person"]),
        valid=bool(raw["valid"]),
    )


# --- the report ----------------------------------------------------------------------------

# (field, label, fails when not zero)
_LINES: tuple[tuple[str, str, bool], ...] = (
    ("documents", "documents in the manifest", False),
    ("documents_published", "  found on the inbound topics", False),
    ("documents_not_published", "  not published (workload failure)", True),
    ("documents_lost", "  lost (neither event nor dead letter)", True),
    ("documents_dead_lettered", "  dead-lettered at ingest", False),
    ("documents_parked", "  valid, parked behind a dead letter", False),
    ("documents_misclassified", "  misclassified (valid dead / invalid event)", True),
    ("events_records", "canonical event records", False),
    ("events_distinct", "  distinct ids", False),
    ("events_duplicated_before_dedup", "  duplicated before dedup", False),
    ("events_duplicated_after_dedup", "  duplicated after dedup", True),
    ("events_unknown", "  not from any manifest document", True),
    ("messages_records", "recipient message records", False),
    ("messages_distinct", "  distinct ids", False),
    ("messages_duplicated_before_dedup", "  duplicated before dedup", False),
    ("messages_duplicated_after_dedup", "  duplicated after dedup", True),
    ("messages_expected", "  expected by the policy", False),
    ("messages_missing", "  missing", True),
    ("messages_unexpected", "  unexpected", True),
    ("messages_undetermined", "  undetermined (either accepted)", False),
    ("route_dead_letters", "dead letters in recipient stages", False),
    ("route_dead_letters_unexpected", "  not foreseen by the policy", True),
    ("route_dead_letters_missing", "  foreseen, not found", True),
    ("order_events_broken", "order broken: events per person", True),
    ("order_messages_broken", "order broken: messages per subject", True),
    ("audit_records", "audit records", False),
    ("audit_steps_missing", "  steps missing", True),
)


@dataclass(frozen=True)
class Report:
    """The figures of one check. `failed` when any count marked so in the table is not zero,
    or `hub audit verify` was not INTACT: the suite sets that with `with_audit_verify(result)`
    (or `dataclasses.replace`); a report without it has not been verified, and fails."""

    documents: int = 0
    documents_published: int = 0
    documents_not_published: int = 0
    documents_lost: int = 0
    documents_dead_lettered: int = 0
    documents_parked: int = 0
    documents_misclassified: int = 0
    events_records: int = 0
    events_distinct: int = 0
    events_duplicated_before_dedup: int = 0
    events_duplicated_after_dedup: int = 0
    events_unknown: int = 0
    messages_records: int = 0
    messages_distinct: int = 0
    messages_duplicated_before_dedup: int = 0
    messages_duplicated_after_dedup: int = 0
    messages_expected: int = 0
    messages_missing: int = 0
    messages_unexpected: int = 0
    messages_undetermined: int = 0
    route_dead_letters: int = 0
    route_dead_letters_unexpected: int = 0
    route_dead_letters_missing: int = 0
    order_events_broken: int = 0
    order_messages_broken: int = 0
    audit_records: int = 0
    audit_steps_missing: int = 0
    # What `hub audit verify` said, filled in by the suite: "INTACT" passes, anything else
    # (not run included) fails.
    audit_verify: str | None = None
    # Up to five ids per failing count: never an identity number or a name.
    examples: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def failures(self) -> list[str]:
        failing = [name for name, _, fails in _LINES if fails and getattr(self, name)]
        return failing + ([] if self.audit_verify == "INTACT" else ["audit_verify"])

    @property
    def failed(self) -> bool:
        return bool(self.failures)

    def with_audit_verify(self, result: str) -> Report:
        return dataclasses.replace(self, audit_verify=result)

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {name: getattr(self, name) for name, _, _ in _LINES}
        out["audit_verify"] = self.audit_verify
        out["examples"] = {k: list(v) for k, v in self.examples.items()}
        out["failed"] = self.failed
        return out

    def render(self) -> str:
        width = max(len(label) for _, label, _ in _LINES)
        rows = [self._row(name, label, fails, width) for name, label, fails in _LINES]
        verify = self.audit_verify or "not run"
        mark = "" if self.audit_verify == "INTACT" else "  FAIL"
        rows.append(f"{'hub audit verify'.ljust(width)}  {verify:>9}{mark}")
        rows.append(f"{'result'.ljust(width)}  {'FAILED' if self.failed else 'PASSED':>9}")
        return "\n".join(rows)

    def _row(self, name: str, label: str, fails: bool, width: int) -> str:
        value = getattr(self, name)
        row = f"{label.ljust(width)}  {value:>9}"
        if fails and value:
            shown = ", ".join(self.examples.get(name, ()))
            row += f"  FAIL{f'  e.g. {shown}' if shown else ''}"
        return row


# --- reading -------------------------------------------------------------------------------


def check(
    kafka: dict[str, str],
    topics: ChaosTopics,
    manifest: Path,
    policy: Path,
    reference_dir: Path,
) -> Report:
    """Read every topic to its end as of now, and analyse it."""
    now = dt.datetime.now(dt.UTC)
    observed = read_topics(kafka, topics)
    return analyse(
        observed,
        load_manifest(manifest),
        load_policy(policy),
        load_reference(reference_dir),
        now=now,
    )


def read_topics(kafka: Mapping[str, str], topics: ChaosTopics, timeout_s: float = 60.0) -> Observed:
    """Every record of the run's topics, up to their high watermarks as of this call."""
    consumer = Consumer(
        {
            **kafka,
            "group.id": "chaos-checker",  # never joined: partitions are assigned directly
            "enable.auto.commit": False,
            "auto.offset.reset": "earliest",
            "enable.partition.eof": False,
        }
    )
    try:
        names = consumer.list_topics(timeout=timeout_s).topics
        out_topics = sorted(n for n in names if n.startswith(topics.recipient_prefix + "out."))
        groups = {
            "inbound": sorted(topics.inbound.values()),
            "events": [topics.events],
            "dlq": [topics.dlq],
            "audit": [topics.audit],
            "messages": out_topics,
        }
        # Every end first, then the reading: what the check sees is one moment of the run.
        ends = {attr: _ends(consumer, wanted, names, timeout_s) for attr, wanted in groups.items()}
        observed = Observed()
        for attr, wanted_ends in ends.items():
            records = _read_all(consumer, wanted_ends, timeout_s, _SLIM.get(attr, _whole))
            getattr(observed, attr).extend(records)
        return observed
    finally:
        consumer.close()


def _ends(
    consumer: Consumer, topics: Sequence[str], metadata: Mapping[str, Any], timeout_s: float
) -> dict[tuple[str, int], int]:
    """The high watermark of every partition of `topics` that holds anything."""
    ends: dict[tuple[str, int], int] = {}
    for topic in topics:
        if topic not in metadata:
            raise KafkaException(f"topic {topic} does not exist")
        for partition in metadata[topic].partitions:
            low, high = consumer.get_watermark_offsets(
                TopicPartition(topic, partition), timeout=timeout_s
            )
            if high > low:
                ends[(topic, partition)] = high
    return ends


def _read_all(
    consumer: Consumer,
    ends: Mapping[tuple[str, int], int],
    timeout_s: float,
    keep: Callable[[Record], Record],
) -> list[Record]:
    if not ends:
        return []
    consumer.assign([TopicPartition(t, p, OFFSET_BEGINNING) for t, p in ends])
    records: list[Record] = []
    open_parts = dict(ends)
    quiet_since = time.monotonic()
    while open_parts:
        batch = consumer.consume(num_messages=1000, timeout=1.0)
        for message in batch:
            if message.error() is not None:
                raise KafkaException(message.error())
            where = (str(message.topic()), int(message.partition() or 0))
            end = open_parts.get(where)
            if end is not None and int(message.offset() or 0) < end:
                records.append(keep(_record(message)))
                quiet_since = time.monotonic()
        # Done by position, not by the last record seen: offsets can have gaps.
        for tp in consumer.position([TopicPartition(t, p) for t, p in open_parts]):
            if tp.offset >= open_parts[(tp.topic, tp.partition)]:
                del open_parts[(tp.topic, tp.partition)]
        if open_parts and time.monotonic() - quiet_since > timeout_s:
            raise KafkaException(f"nothing read for {timeout_s} s; still to read: {open_parts}")
    consumer.unassign()
    records.sort(key=lambda r: r.position)
    return records


def _slimmed(keys: frozenset[str]) -> Callable[[Record], Record]:
    """Keep only the members the analysis reads: a large run's audit trail stays in memory."""

    def slim(record: Record) -> Record:
        try:
            value = json.loads(record.value or b"{}")
        except ValueError:
            return record
        kept = {k: v for k, v in value.items() if k in keys}
        return dataclasses.replace(record, value=json.dumps(kept).encode(), headers=())

    return slim


def _whole(record: Record) -> Record:
    return record


_SLIM: dict[str, Callable[[Record], Record]] = {
    "audit": _slimmed(
        frozenset({"step", "stage", "input", "message_id", "delivered_id", "entry_id"})
    ),
    "messages": _slimmed(
        frozenset({"id", "canonicalid", "recipient", "action", "subject", "rule"})
    ),
}


def _record(message: Any) -> Record:
    headers = tuple((k, v or b"") for k, v in (message.headers() or []))
    return Record(
        topic=message.topic(),
        partition=message.partition(),
        offset=message.offset(),
        key=message.key(),
        value=message.value(),
        headers=headers,
        timestamp_ms=message.timestamp()[1],
    )


# --- the policy and the reference data, read from their documents --------------------------


@dataclass(frozen=True)
class Rule:
    id: str
    recipient: str
    types: frozenset[str]
    when: Mapping[str, Any]
    fields: tuple[str, ...]
    topic: str


@dataclass(frozen=True)
class Policy:
    rules: tuple[Rule, ...]

    def rules_for(self, kind: str) -> list[Rule]:
        return [r for r in self.rules if r.recipient == kind]

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


_CONDITIONS = frozenset(
    {
        "consent",
        "residence_municipality",
        "execution_form_changes",
        "to_execution_form",
        "custody_outcome",
    }
)


def load_policy(path: Path) -> Policy:
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    rules = []
    for item in raw["rules"]:
        when = dict(item.get("when", {}))
        unknown = set(when) - _CONDITIONS
        if unknown:
            raise ValueError(f"rule {item['id']}: the checker does not know condition {unknown}")
        rules.append(
            Rule(
                id=item["id"],
                recipient=item["recipient"],
                types=frozenset(item["types"]),
                when=when,
                fields=tuple(f.removeprefix("data.") for f in item["fields"]),
                topic=item["topic"],
            )
        )
    return Policy(tuple(rules))


@dataclass(frozen=True)
class Reference:
    # code -> (current, successors)
    municipalities: Mapping[str, tuple[bool, tuple[str, ...]]]
    regions: Mapping[str, str]  # unit code -> health region

    def municipality(self, code: str) -> str | None:
        """The number in use now for `code`, or None when it cannot be known."""
        for _ in range(_MAX_HOPS):
            entry = self.municipalities.get(code)
            if entry is None:
                return None
            current, successors = entry
            if current:
                return code
            if len(successors) != 1:
                return None
            code = successors[0]
        return None


def load_reference(directory: Path) -> Reference:
    municipalities = {
        row["code"]: (row["status"] == "current", tuple(row["successors"].split()))
        for row in _csv_rows(directory / "municipalities.csv")
    }
    regions = {row["code"]: row["health_region"] for row in _csv_rows(directory / "units.csv")}
    return Reference(municipalities, regions)


def _csv_rows(path: Path) -> list[dict[str, str]]:
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return list(csv.DictReader(line for line in lines if not line.startswith("#")))


# --- the analysis ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """A canonical event as first found on the events topic."""

    id: str
    type: str
    subject: str
    sourceeventid: str
    replaces: str | None
    time: dt.datetime
    data: Mapping[str, Any]
    position: tuple[str, int, int]
    written: dt.datetime  # the record's timestamp: the hub decided on it no earlier


class _Examples:
    def __init__(self) -> None:
        self.by_count: dict[str, list[str]] = defaultdict(list)

    def add(self, name: str, example: str) -> None:
        shown = self.by_count[name]
        if len(shown) < _EXAMPLES and example not in shown:
            shown.append(example)

    def frozen(self) -> dict[str, tuple[str, ...]]:
        return {k: tuple(v) for k, v in self.by_count.items() if v}


def analyse(
    observed: Observed,
    manifest: Sequence[Document],
    policy: Policy,
    reference: Reference,
    *,
    now: dt.datetime,
) -> Report:
    examples = _Examples()
    counts: dict[str, Any] = {}
    events = _first_events(observed.events)
    counts |= _documents(observed, manifest, events, examples)
    counts |= _event_counts(observed.events, manifest, examples)
    outcome = _Expectation(policy, reference, events, observed, now).run()
    counts |= _message_counts(observed.messages, outcome, examples)
    counts |= _route_dead_letters(outcome, examples)
    counts["order_events_broken"] = _events_order(events, manifest, examples)
    counts["order_messages_broken"] = _messages_order(observed.messages, events, examples)
    counts |= _audit(observed, manifest, events, outcome, examples)
    return Report(**counts, examples=examples.frozen())


def _first_events(records: Iterable[Record]) -> dict[str, Event]:
    first: dict[str, Event] = {}
    for record in records:
        doc = json.loads(record.value or b"{}")
        if doc.get("id") in first:
            continue
        first[doc["id"]] = Event(
            id=doc["id"],
            type=doc["type"],
            subject=doc["subject"],
            sourceeventid=doc["sourceeventid"],
            replaces=doc.get("replaces"),
            time=dt.datetime.fromisoformat(doc["time"]),
            data=doc.get("data") or {},
            position=record.position,
            written=dt.datetime.fromtimestamp(record.timestamp_ms / 1000, dt.UTC),
        )
    return first


def _sha(value: bytes | None) -> str:
    return hashlib.sha256(value or b"").hexdigest()


def _dlq_origin(record: Record) -> tuple[str, int, int] | None:
    topic, partition, offset = (
        record.header("hub-dlq-topic"),
        record.header("hub-dlq-partition"),
        record.header("hub-dlq-offset"),
    )
    if topic is None or partition is None or offset is None:
        return None
    return (topic, int(partition), int(offset))


def _documents(
    observed: Observed,
    manifest: Sequence[Document],
    events: Mapping[str, Event],
    examples: _Examples,
) -> dict[str, int]:
    positions: dict[tuple[str, str], list[tuple[str, int, int]]] = defaultdict(list)
    for record in observed.inbound:
        positions[(record.topic, _sha(record.value))].append(record.position)
    ingest = [r for r in observed.dlq if r.header("hub-dlq-stage") == "ingest"]
    dead_at = {_dlq_origin(r): r for r in ingest}
    dead_ids = {r.header("hub-dlq-id") for r in ingest}
    event_sources = {e.sourceeventid for e in events.values()}
    counts: Counter[str] = Counter()
    for (topic, sha), docs in _same_bytes(manifest).items():
        found = positions.get((topic, sha), [])
        counts["documents"] += len(docs)
        for doc in docs[len(found) :]:  # fewer records than documents: some never published
            counts["documents_not_published"] += 1
            examples.add("documents_not_published", f"seq {doc.seq}")
        published = docs[: len(found)]
        counts["documents_published"] += len(published)
        entries = [dead_at[p] for p in found if p in dead_at]
        became = any(d.source_event_id in event_sources for d in published)
        for i, doc in enumerate(published):
            # Documents of identical bytes (the same empty document, say) share their records:
            # each needs an outcome of its own.
            mine = entries if len(published) == 1 else entries[i : i + 1]
            _classify(doc, mine, became, dead_ids, counts, examples)
    return {k: counts[k] for k in _DOCUMENT_COUNTS}


def _same_bytes(manifest: Sequence[Document]) -> dict[tuple[str, str], list[Document]]:
    """The manifest's documents by (topic, SHA-256), each once (a line repeated for a retry
    under the same `seq` is one document)."""
    groups: dict[tuple[str, str], list[Document]] = defaultdict(list)
    seen: set[int] = set()
    for doc in manifest:
        if doc.seq not in seen:
            seen.add(doc.seq)
            groups[(doc.topic, doc.sha256)].append(doc)
    return groups


_DOCUMENT_COUNTS = (
    "documents",
    "documents_published",
    "documents_not_published",
    "documents_lost",
    "documents_dead_lettered",
    "documents_parked",
    "documents_misclassified",
)


def _classify(
    doc: Document,
    entries: Sequence[Record],
    became_event: bool,
    dead_ids: set[str | None],
    counts: Counter[str],
    examples: _Examples,
) -> None:
    where = f"seq {doc.seq} ({doc.source_event_id or 'no event id'})"
    if entries:
        counts["documents_dead_lettered"] += 1
    parked = [e for e in entries if e.header("hub-dlq-reason") == _PARKED]
    # Held back behind an earlier dead letter of the same person: the hub keeping order.
    parked_ok = bool(parked) and all(e.header("hub-dlq-parked-behind") in dead_ids for e in parked)
    failed = [e for e in entries if e.header("hub-dlq-reason") != _PARKED]
    if doc.valid and parked_ok and not failed:
        counts["documents_parked"] += 1
    if not entries and not became_event:
        counts["documents_lost"] += 1
        examples.add("documents_lost", where)
    elif (doc.valid and (failed or (parked and not parked_ok))) or (not doc.valid and became_event):
        counts["documents_misclassified"] += 1
        examples.add("documents_misclassified", where)


def _event_counts(
    records: Sequence[Record], manifest: Sequence[Document], examples: _Examples
) -> dict[str, int]:
    ids: Counter[str] = Counter()
    by_source_id: dict[str, set[str]] = defaultdict(set)
    for record in records:
        doc = json.loads(record.value or b"{}")
        ids[doc["id"]] += 1
        by_source_id[doc["sourceeventid"]].add(doc["id"])
    after = [s for s, found in by_source_id.items() if len(found) > 1]
    for source_id in after:
        examples.add("events_duplicated_after_dedup", f"source event {source_id}")
    known = {d.source_event_id for d in manifest if d.source_event_id}
    unknown = [s for s in by_source_id if s not in known]
    for source_id in unknown:
        examples.add("events_unknown", f"source event {source_id}")
    return {
        "events_records": len(records),
        "events_distinct": len(ids),
        "events_duplicated_before_dedup": len(records) - len(ids),
        "events_duplicated_after_dedup": len(after),
        "events_unknown": len(unknown),
    }


# --- what the policy says each event must have produced --------------------------------------

Key = tuple[str, str, str]  # (canonicalid, recipient incl. place, action)


def message_id(recipient: str, canonical_id: str, action: str) -> str:
    name = json.dumps([recipient, canonical_id, action], separators=(",", ":"))
    return str(uuid.uuid5(_MESSAGE_ID_NAMESPACE, name))


def lookup(document: Mapping[str, Any] | None, path: str) -> Any:
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def project(document: Mapping[str, Any], paths: Iterable[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for path in paths:
        value = lookup(document, path)
        if value is None:
            continue
        target = out
        parts = path.split(".")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return out


@dataclass
class Entry:
    """What the hub's delivery state holds of one message, as far as the checker needs it."""

    recipient: str
    topic: str
    canonicalid: str
    action: str
    rule: str
    plan: str | None
    open: bool
    consentwithdrawn: bool = False
    # (time registered, id) of the event the message derives from: a withdrawal of consent
    # reaches only what was shared for events registered before it.
    registered: tuple[dt.datetime, str] | None = None


@dataclass
class Grant:
    given: bool
    until: dt.date | None
    at: tuple[dt.datetime, str]


@dataclass(frozen=True)
class Outcome:
    """What one event meant for one recipient kind."""

    keys: frozenset[Key] = frozenset()
    dead_letter: str | None = None  # the reason, when the stage must dead-letter it
    # Each message with the rule it went under: two rules may send the same message (with
    # consent and without), and what later follows (a withdrawal of consent) depends on which.
    ruled: frozenset[tuple[Key, str]] = frozenset()


@dataclass
class Expected:
    keys: set[Key] = field(default_factory=set)
    undetermined: set[Key] = field(default_factory=set)
    dead_letters: dict[tuple[str, str], str] = field(default_factory=dict)  # (event, stage)
    observed_dead: dict[tuple[str, str], Record] = field(default_factory=dict)
    # Per (canonical id, recipient kind): the messages found (with their rules).
    observed_keys: dict[tuple[str, str], set[Key]] = field(default_factory=dict)
    observed_ruled: dict[tuple[str, str], set[tuple[Key, str]]] = field(default_factory=dict)


def _stage(kind: str) -> str:
    return "route_" + kind.replace("-", "_")


class _Expectation:
    def __init__(
        self,
        policy: Policy,
        reference: Reference,
        events: Mapping[str, Event],
        observed: Observed,
        now: dt.datetime,
    ) -> None:
        self.policy, self.reference, self.now = policy, reference, now
        self.events = events
        self.result = Expected()
        self.observed_keys = self.result.observed_keys
        for record in observed.messages:
            message = json.loads(record.value or b"{}")
            key = (message["canonicalid"], message["recipient"], message["action"])
            where = (key[0], key[1].split(".")[0])
            self.observed_keys.setdefault(where, set()).add(key)
            ruled = self.result.observed_ruled.setdefault(where, set())
            ruled.add((key, str(message.get("rule"))))
        by_position = {e.position: e for e in events.values()}
        for record in observed.dlq:
            stage, origin = record.header("hub-dlq-stage"), _dlq_origin(record)
            event_id = record.header("hub-event-id")
            if stage and stage != "ingest" and origin is not None:
                event = by_position.get(origin)
                found = event.id if event is not None else event_id or "?"
                self.result.observed_dead[(found, stage)] = record

    def run(self) -> Expected:
        per_subject: dict[str, list[Event]] = defaultdict(list)
        for event in sorted(self.events.values(), key=lambda e: e.position):
            per_subject[event.subject].append(event)
        for events in per_subject.values():
            for kind in _KINDS:
                _Person(self, kind, events).run()
        return self.result


class _Person:
    """One recipient kind's stage, over one person's events in the events topic's order."""

    def __init__(self, owner: _Expectation, kind: str, events: Sequence[Event]) -> None:
        self.owner, self.kind, self.events = owner, kind, events
        self.entries: dict[str, Entry] = {}  # by message id
        # Every consent grant of the person's events: (event index, consent recipient, grant).
        self.grants = [(i, r, g) for i, event in enumerate(events) for r, g in _grants_of(event)]
        self.blocked = False

    def run(self) -> None:
        for index, event in enumerate(self.events):
            self._one(index, event)

    def _one(self, index: int, event: Event) -> None:
        result, stage = self.owner.result, _stage(self.kind)
        seen_dead = result.observed_dead.get((event.id, stage))
        if self.blocked:
            result.dead_letters[(event.id, stage)] = _PARKED
            return
        alternatives = self._alternatives(index, event)
        chosen, state = self._choose(event, alternatives)
        if chosen.dead_letter is not None:
            result.dead_letters[(event.id, stage)] = chosen.dead_letter
            self.blocked = True
            return
        if seen_dead is not None:
            # Not foreseen: reported as such, and the stage's state is as the hub left it.
            self.blocked = seen_dead.header("hub-dlq-reason") != _PARKED or self.blocked
            return
        self.entries = state
        every = [set(outcome.keys) for outcome, _ in alternatives]
        common = set.intersection(*every)
        result.keys |= common
        result.undetermined |= set.union(*every) - common

    def _choose(
        self, event: Event, alternatives: list[tuple[Outcome, dict[str, Entry]]]
    ) -> tuple[Outcome, dict[str, Entry]]:
        where = (event.id, self.kind)
        ruled = self.owner.result.observed_ruled.get(where, set())
        seen = self.owner.observed_keys.get(where, set())
        exact = [a for a in alternatives if a[0].ruled == ruled]
        same = [a for a in alternatives if a[0].keys == seen]
        return (exact or same or alternatives)[0]

    def _alternatives(self, index: int, event: Event) -> list[tuple[Outcome, dict[str, Entry]]]:
        out: list[tuple[Outcome, dict[str, Entry]]] = []
        for consents in self._possible_consents(index, event):
            state = {k: dataclasses.replace(v) for k, v in self.entries.items()}
            outcome = _Step(self.owner, self.kind, event, state, consents).run()
            if all(outcome != o for o, _ in out):
                out.append((outcome, state))
        return out

    def _possible_consents(self, index: int, event: Event) -> list[frozenset[str]]:
        """Each set of consents the stage may have found in force when it decided."""
        asked = sorted(
            {
                str(rule.when["consent"])
                for rule in self.owner.policy.rules_for(self.kind)
                if "consent" in rule.when and event.type in rule.types
            }
        )
        if not asked:
            return [frozenset()]
        first = event.written.date()
        last = self.owner.now.date()
        options = [self._may_hold(index, r, first, last, event.time) for r in asked]
        return [
            frozenset(r for r, holds in zip(asked, combo, strict=True) if holds)
            for combo in product(*options)
        ]

    def _may_hold(
        self, index: int, recipient: str, first: dt.date, last: dt.date, registered: dt.datetime
    ) -> list[bool]:
        # Consent registered after the event does not count for it, wherever it stands on the
        # topic (a source may publish a person's stories out of their time order); a
        # withdrawal always counts.
        mine = [
            (i, g)
            for i, r, g in self.grants
            if r == recipient and (not g.given or g.at[0] <= registered)
        ]
        known = [g for i, g in mine if i <= index]
        winner = max(known, key=lambda g: g.at) if known else None
        # A stage may already have applied a later event of this person, read from the
        # consent topic another stage wrote: any later grant newer than what it knew.
        later = [g for i, g in mine if i > index and (winner is None or g.at > winner.at)]
        candidates = ([winner] if winner else [None]) + later
        outcomes = {_holds(g, day) for g in candidates for day in (first, last)}
        return sorted(outcomes)


def _holds(grant: Grant | None, day: dt.date) -> bool:
    return grant is not None and grant.given and (grant.until is None or day <= grant.until)


def _grants_of(event: Event) -> list[tuple[str, Grant]]:
    at = (event.time, event.id)
    if event.type in (_CONSENT_GIVEN, _CONSENT_WITHDRAWN):
        consent = lookup(event.data, "consent") or {}
        until = consent.get("valid_until")
        grant = Grant(
            given=event.type == _CONSENT_GIVEN,
            until=dt.date.fromisoformat(until) if until else None,
            at=at,
        )
        return [(str(r), dataclasses.replace(grant)) for r in consent.get("recipients", ())]
    if event.type in _CARRIES_CONSENT:
        carried = lookup(event.data, "release.consent_recipients") or ()
        return [(str(r), Grant(given=True, until=None, at=at)) for r in carried]
    return []


class _Step:
    """One event through one recipient kind's stage: the messages it must send."""

    def __init__(
        self,
        owner: _Expectation,
        kind: str,
        event: Event,
        state: dict[str, Entry],
        consents: frozenset[str],
    ) -> None:
        self.owner, self.kind, self.event = owner, kind, event
        self.state, self.consents = state, consents
        self.keys: set[Key] = set()
        self.ruled: set[tuple[Key, str]] = set()

    def run(self) -> Outcome:
        rule = self._decide()
        priors = self._priors()
        reached: set[str] = set()
        if rule is not None:
            place = self._place(rule)
            if isinstance(place, _Dead):
                return Outcome(dead_letter=place.reason)
            broken = self._contract(rule)
            if broken:
                return Outcome(dead_letter=broken)
            self._deliver(rule, place, priors)
            reached.add(place[0])
        cancelled = ".cancelled." in self.event.type
        for prior in priors:
            if prior.recipient in reached:
                continue
            if cancelled:
                self._follow_up(prior, "cancellation")
            elif self.event.replaces is not None:
                self._follow_up(prior, "withdrawal")
        for prior in priors:
            prior.open = False
        self._withdraw_shared()
        return Outcome(keys=frozenset(self.keys), ruled=frozenset(self.ruled))

    def _decide(self) -> Rule | None:
        for rule in self.owner.policy.rules_for(self.kind):
            if self.event.type in rule.types and self._holds(rule.when):
                return rule
        return None

    def _holds(self, when: Mapping[str, Any]) -> bool:
        data = self.event.data
        if when.get("execution_form_changes"):
            after = lookup(data, "transfer.to_execution_form")
            if after is None or data.get("execution_form") == after:
                return False
        forms = when.get("to_execution_form")
        if forms and lookup(data, "transfer.to_execution_form") not in forms:
            return False
        outcome = when.get("custody_outcome")
        if outcome is not None and lookup(data, "custody.outcome") != outcome:
            return False
        if when.get("residence_municipality") and not _residence(data):
            return False
        consent = when.get("consent")
        return consent is None or consent in self.consents

    def _place(self, rule: Rule) -> tuple[str, dict[str, str]] | _Dead:
        if self.kind == "municipality":
            given = _residence(self.event.data)
            number = self.owner.reference.municipality(str(given)) if given else None
            if number is None:
                return _Dead("unknown_municipality")
            return (f"municipality.{number}", {"municipality": number})
        if self.kind == "health":
            event = {"data": self.event.data}
            unit = lookup(event, "data.transfer.to_unit.code") or lookup(event, "data.unit.code")
            region = self.owner.reference.regions.get(str(unit))
            if region is None:
                return _Dead("unknown_unit")
            return (f"health.{region}", {"region": region})
        return (self.kind, {})

    def _contract(self, rule: Rule) -> str | None:
        data = project(self.event.data, rule.fields)
        needs = _CONTRACT.get(self.kind, ())
        if not lookup(data, "person.identity_number"):
            return "contract_violation"
        if needs and not any(lookup(data, path) for path in needs):
            return "contract_violation"
        return None

    def _priors(self) -> list[Entry]:
        entries = [self.state[k] for k in sorted(self.state)]
        if self.event.replaces is not None:
            return [
                e
                for e in entries
                if e.canonicalid == self.event.replaces and e.action in _INFORMING
            ]
        if ".cancelled." in self.event.type or ".completed." in self.event.type:
            key = _plan_key(self.event.type, lookup(self.event.data, "case.case_number"))
            # Of its plan, what was registered by its time (the hub's `_Plan._priors`).
            return [
                e
                for e in entries
                if e.open
                and key is not None
                and e.plan == key
                and (e.registered is None or e.registered[0] <= self.event.time)
            ]
        return []

    def _deliver(
        self, rule: Rule, place: tuple[str, dict[str, str]], priors: Sequence[Entry]
    ) -> None:
        recipient, values = place
        replacing = self.event.replaces is not None or ".cancelled." in self.event.type
        same = [p for p in priors if p.recipient == recipient] if replacing else []
        action = "notice"
        if same:
            action = "cancellation" if ".cancelled." in self.event.type else "correction"
        topic = rule.topic.format(**values)
        self._add(
            Entry(
                recipient=recipient,
                topic=topic,
                canonicalid=self.event.id,
                action=action,
                rule=rule.id,
                plan=_plan_key(self.event.type, lookup(self.event.data, "case.case_number")),
                open=".planned." in self.event.type,
                registered=(self.event.time, self.event.id),
            )
        )

    def _follow_up(self, prior: Entry, action: str) -> None:
        follow = Entry(
            recipient=prior.recipient,
            topic=prior.topic,
            canonicalid=self.event.id,
            action=action,
            rule=prior.rule,
            plan=None,
            open=False,
            registered=(self.event.time, self.event.id),
        )
        self._add(follow)

    def _add(self, entry: Entry) -> None:
        mid = message_id(entry.recipient, entry.canonicalid, entry.action)
        self.state.setdefault(mid, entry)
        key = (entry.canonicalid, entry.recipient, entry.action)
        self.keys.add(key)
        self.ruled.add((key, entry.rule))

    def _withdraw_shared(self) -> None:
        if self.event.type != _CONSENT_WITHDRAWN:
            return
        withdrawn = set(lookup(self.event.data, "consent.recipients") or ())
        this = (self.event.time, self.event.id)
        shared: dict[str, list[Entry]] = defaultdict(list)
        for mid in sorted(self.state):
            entry = self.state[mid]
            if entry.action not in _INFORMING or entry.consentwithdrawn:
                continue
            if entry.registered is not None and entry.registered >= this:
                continue  # shared for an event registered after the withdrawal
            rule = self.owner.policy.rule(entry.rule)
            consent = rule.when.get("consent") if rule is not None else None
            if consent in withdrawn:
                shared[entry.recipient].append(entry)
        for entries in shared.values():
            self._follow_up(entries[-1], "withdrawal")
            for entry in entries:
                entry.consentwithdrawn = True


@dataclass(frozen=True)
class _Dead:
    reason: str


# What each recipient's contract insists on besides the identity number (one of these paths in
# the projected data), from the recipient modules' documented contracts.
_CONTRACT: dict[str, tuple[str, ...]] = {
    "police-register": ("case.case_number", "case_reference", "judgment.case_number"),
    "correctional": ("judgment.case_number", "case_reference"),
    "nav": (
        "start.start_date",
        "transfer.date",
        "release.date",
        "custody.decided_at",
        "custody.ended_at",
    ),
}


def _residence(data: Mapping[str, Any]) -> Any:
    return next((v for path in _RESIDENCE_PATHS if (v := lookup(data, path))), None)


def _plan_key(event_type: str, case_number: Any) -> str | None:
    parts = event_type.split(".")
    family = parts[2] if len(parts) >= 4 else ""
    if family not in _PLAN_FAMILIES or not case_number:
        return None
    return f"{family}|{case_number}"


# --- comparing ---------------------------------------------------------------------------------


def _message_counts(
    records: Sequence[Record], expected: Expected, examples: _Examples
) -> dict[str, int]:
    ids: Counter[str] = Counter()
    by_key: dict[Key, set[str]] = defaultdict(set)
    for record in records:
        message = json.loads(record.value or b"{}")
        ids[message["id"]] += 1
        by_key[(message["canonicalid"], message["recipient"], message["action"])].add(message["id"])
    after = [k for k, found in by_key.items() if len(found) > 1]
    found = set(by_key)
    missing = expected.keys - found
    unexpected = found - expected.keys - expected.undetermined
    for name, keys in (
        ("messages_duplicated_after_dedup", after),
        ("messages_missing", missing),
        ("messages_unexpected", unexpected),
    ):
        for key in sorted(keys)[:_EXAMPLES]:
            examples.add(name, f"{key[2]} of {key[0]} to {key[1]}")
    return {
        "messages_records": len(records),
        "messages_distinct": len(ids),
        "messages_duplicated_before_dedup": len(records) - len(ids),
        "messages_duplicated_after_dedup": len(after),
        "messages_expected": len(expected.keys),
        "messages_missing": len(missing),
        "messages_unexpected": len(unexpected),
        "messages_undetermined": len(expected.undetermined),
    }


def _route_dead_letters(expected: Expected, examples: _Examples) -> dict[str, int]:
    observed, foreseen = expected.observed_dead, expected.dead_letters
    unexpected = [k for k in observed if k not in foreseen]
    missing = [k for k in foreseen if k not in observed]
    for name, keys in (
        ("route_dead_letters_unexpected", unexpected),
        ("route_dead_letters_missing", missing),
    ):
        for event_id, stage in sorted(keys)[:_EXAMPLES]:
            examples.add(name, f"{event_id} in {stage}")
    return {
        "route_dead_letters": len(observed),
        "route_dead_letters_unexpected": len(unexpected),
        "route_dead_letters_missing": len(missing),
    }


def _events_order(
    events: Mapping[str, Event], manifest: Sequence[Document], examples: _Examples
) -> int:
    """(source, person) pairs whose events are not in the order the source published them."""
    by_source_id = {e.sourceeventid: e for e in events.values()}
    per_person: dict[tuple[str, str], list[Event]] = defaultdict(list)
    seen: set[str] = set()
    for doc in manifest:
        event = by_source_id.get(doc.source_event_id or "")
        if event is None or event.id in seen:
            continue
        seen.add(event.id)
        per_person[(doc.source, doc.person)].append(event)
    broken = 0
    for ordered in per_person.values():
        wrong = _first_inversion([e.position for e in ordered])
        if wrong is not None:
            broken += 1
            examples.add("order_events_broken", ordered[wrong].id)
    return broken


def _first_inversion(positions: Sequence[tuple[str, int, int]]) -> int | None:
    """The index of the first item found before its predecessor (or on another partition)."""
    for i in range(1, len(positions)):
        before, here = positions[i - 1], positions[i]
        if before[:2] != here[:2] or here[2] < before[2]:
            return i
    return None


def _messages_order(
    records: Sequence[Record], events: Mapping[str, Event], examples: _Examples
) -> int:
    """(topic, subject) pairs whose messages are not in the order of their canonical events."""
    rank = {e.id: e.position for e in events.values()}
    per_subject: dict[tuple[str, str], list[tuple[tuple[str, int, int], str]]] = defaultdict(list)
    seen: set[str] = set()
    for record in records:
        message = json.loads(record.value or b"{}")
        if message["id"] in seen:
            continue
        seen.add(message["id"])
        where = rank.get(message["canonicalid"])
        if where is not None:
            kind = str(message.get("type", "?")).split(".", 2)[-1]
            said = f"{message.get('action')} {message['id']} of {kind}"
            at = f"{record.topic}[{record.partition}]@{record.offset}"
            per_subject[(record.topic, message["subject"])].append((where, f"{said} at {at}"))
    broken = 0
    for ordered in per_subject.values():
        for (before, earlier), (here, later) in pairwise(ordered):
            if here < before:
                broken += 1
                examples.add("order_messages_broken", f"{later}, after {earlier}")
                break
    return broken


# --- the audit trail -------------------------------------------------------------------------


@dataclass
class _Trail:
    received: set[tuple[str, tuple[str, int, int]]] = field(default_factory=set)
    published: set[str] = field(default_factory=set)
    delivered: set[str] = field(default_factory=set)
    refused: set[tuple[str, str]] = field(default_factory=set)
    dead: set[str] = field(default_factory=set)


def _where(value: Any) -> tuple[str, int, int] | None:
    if not isinstance(value, Mapping):
        return None
    return (str(value["topic"]), int(value["partition"]), int(value["offset"]))


def _trail(records: Iterable[Record]) -> _Trail:
    trail = _Trail()
    for record in records:
        try:
            fact = json.loads(record.value or b"{}")
        except ValueError:
            continue  # not an audit record: `hub audit verify` is what judges the trail
        step, stage = fact.get("step"), fact.get("stage", "")
        where = _where(fact.get("input"))
        if step == "received" and where is not None:
            trail.received.add((stage, where))
        elif step == "published" and stage == "ingest":
            trail.published.add(fact.get("message_id", ""))
        elif step == "delivered":
            trail.delivered.add(fact.get("delivered_id", ""))
        elif step == "refused":
            trail.refused.add((fact.get("message_id", ""), stage))
        elif step == "dead_lettered":
            trail.dead.add(fact.get("entry_id", ""))
    return trail


def _audit(
    observed: Observed,
    manifest: Sequence[Document],
    events: Mapping[str, Event],
    expected: Expected,
    examples: _Examples,
) -> dict[str, int]:
    trail = _trail(observed.audit)
    missing = [*_ingest_gaps(observed, manifest, events, trail)]
    missing += _route_gaps(observed, events, expected, trail)
    for item in missing[:_EXAMPLES]:
        examples.add("audit_steps_missing", item)
    return {"audit_records": len(observed.audit), "audit_steps_missing": len(missing)}


def _ingest_gaps(
    observed: Observed,
    manifest: Sequence[Document],
    events: Mapping[str, Event],
    trail: _Trail,
) -> Iterator[str]:
    ours = {(d.topic, d.sha256) for d in manifest}
    for record in observed.inbound:
        if (record.topic, _sha(record.value)) not in ours:
            continue
        if ("ingest", record.position) not in trail.received:
            yield f"received ingest {_at(record.position)}"
    for event in events.values():
        if event.id not in trail.published:
            yield f"published {event.id}"
    for record in observed.dlq:
        entry = record.header("hub-dlq-id") or "?"
        if entry not in trail.dead:
            yield f"dead_lettered {entry}"


def _route_gaps(
    observed: Observed, events: Mapping[str, Event], expected: Expected, trail: _Trail
) -> Iterator[str]:
    positions: dict[str, list[tuple[str, int, int]]] = defaultdict(list)
    for record in observed.events:
        positions[json.loads(record.value or b"{}")["id"]].append(record.position)
    for event in events.values():
        for kind in _KINDS:
            stage = _stage(kind)
            # Taken by the one pass for every kind (`route`), or by the kind's own stage.
            takers = (stage, "route")
            if not any((t, p) in trail.received for t in takers for p in positions[event.id]):
                yield f"received {stage} {event.id}"
            told = expected.observed_keys.get((event.id, kind))
            dead = (event.id, stage) in expected.observed_dead
            if not told and not dead and (event.id, stage) not in trail.refused:
                yield f"refused {stage} {event.id}"
    for record in observed.messages:
        message = json.loads(record.value or b"{}")
        if message["id"] not in trail.delivered:
            yield f"delivered {message['id']}"


def _at(position: tuple[str, int, int]) -> str:
    return f"{position[0]}[{position[1]}]@{position[2]}"
