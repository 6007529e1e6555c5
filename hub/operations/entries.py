"""Dead-letter entries as operators see them: the entry, where it came from, what became of it.

Read from two topics: `hub.dlq.v1` (the entries, each the failed input plus `hub-dlq-*`
headers) and `hub.dlq.state.v1` (compacted: what operators did with each entry). An input that
failed again after a crash gives the same entry id twice; the first is kept.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from hub.kafka.reader import read_topic
from hub.pipeline import headers as h
from hub.pipeline.records import Headers, InboundRecord, Position
from hub.privacy import mask_document, mask_text, mask_token
from hub.settings import HubSettings
from hub.sources import sources
from schemas.errors import PermanentError, Reason

__all__ = [
    "DeadLetter",
    "Resolution",
    "Selection",
    "Status",
    "load_dead_letters",
    "mask_payload",
    "parked_counts",
    "parse_since",
    "resolve_ids",
    "select",
    "shown_headers",
    "shown_key",
]


class Status(StrEnum):
    OPEN = "open"
    REPLAYED = "replayed"
    DISCARDED = "discarded"


@dataclass(frozen=True, slots=True)
class Resolution:
    """What an operator did with an entry (a record on the dead-letter state topic)."""

    status: Status
    operator: str
    time: datetime
    replay_id: str | None = None
    note: str | None = None
    position: str | None = None  # where the replay went

    def encode(self) -> bytes:
        data = {
            "status": self.status.value,
            "operator": self.operator,
            "time": self.time.isoformat(),
            "replay_id": self.replay_id,
            "note": self.note,
            "position": self.position,
        }
        return json.dumps({k: v for k, v in data.items() if v is not None}, sort_keys=True).encode()

    @classmethod
    def decode(cls, value: bytes) -> Resolution:
        data = json.loads(value)
        return cls(
            status=Status(data["status"]),
            operator=data["operator"],
            time=datetime.fromisoformat(data["time"]),
            replay_id=data.get("replay_id"),
            note=data.get("note"),
            position=data.get("position"),
        )


@dataclass(frozen=True, slots=True)
class DeadLetter:
    id: str
    position: Position  # of the entry on the dead-letter topic
    stage: str
    group: str
    reason: str
    reason_text: str
    error_class: str
    attempts: int
    time: datetime
    origin: Position  # where the input was when it failed
    key: bytes | None
    value: bytes
    headers: Headers  # the input's own headers, as they arrived
    parked_behind: str | None
    source: str
    resolution: Resolution | None = None
    dlq_headers: Mapping[str, str] = field(default_factory=dict)

    @property
    def status(self) -> Status:
        return self.resolution.status if self.resolution else Status.OPEN

    @property
    def short_id(self) -> str:
        return self.id[:8]


@dataclass(frozen=True, slots=True)
class Selection:
    """Which entries an operator means. Empty criteria select nothing by themselves."""

    ids: tuple[str, ...] = ()
    stage: str | None = None
    reason: str | None = None
    since: datetime | None = None
    source: str | None = None
    include_resolved: bool = False

    @property
    def empty(self) -> bool:
        return not (self.ids or self.stage or self.reason or self.since or self.source)


async def load_dead_letters(settings: HubSettings) -> list[DeadLetter]:
    bootstrap, topics = settings.kafka_connection(), settings.topics
    resolutions: dict[str, Resolution | None] = {}
    async for record in read_topic(bootstrap, topics.dlq_state):
        entry_id = (record.key or b"").decode("utf-8", errors="replace")
        resolutions[entry_id] = Resolution.decode(record.value) if record.value else None
    by_topic = _sources_by_topic(settings)
    entries: dict[str, DeadLetter] = {}
    async for record in read_topic(bootstrap, topics.dlq):
        entry = _entry(record, by_topic)
        if entry is not None and entry.id not in entries:
            entries[entry.id] = _resolved(entry, resolutions.get(entry.id))
    return sorted(entries.values(), key=lambda e: (e.time, e.position.partition, e.position.offset))


def parked_counts(entries: Iterable[DeadLetter]) -> Counter[str]:
    """How many open entries are parked behind each entry."""
    return Counter(e.parked_behind for e in entries if e.parked_behind and e.status is Status.OPEN)


def select(entries: Sequence[DeadLetter], selection: Selection) -> list[DeadLetter]:
    chosen = [
        e
        for e in entries
        if (not selection.ids or e.id in selection.ids)
        and (selection.stage is None or e.stage == selection.stage)
        and (selection.reason is None or e.reason == selection.reason)
        and (selection.since is None or e.time >= selection.since)
        and (selection.source is None or e.source == selection.source)
    ]
    if selection.include_resolved or selection.ids:
        return chosen
    return [e for e in chosen if e.status is Status.OPEN]


def resolve_ids(entries: Sequence[DeadLetter], given: Iterable[str]) -> tuple[str, ...]:
    """Full entry ids for what an operator typed: a full id or a unique prefix (8+ chars)."""
    resolved = []
    for token in given:
        matches = {
            e.id for e in entries if e.id == token or (len(token) >= 8 and e.id.startswith(token))
        }
        if len(matches) != 1:
            problem = "no dead-letter entry" if not matches else "more than one entry"
            raise PermanentError(f"{problem} matches {token!r}", reason=Reason.UNKNOWN_ENTRY)
        resolved.append(matches.pop())
    return tuple(resolved)


_RELATIVE = re.compile(r"^(\d+)([mhd])$")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def parse_since(text: str | None, *, now: datetime | None = None) -> datetime | None:
    """`2026-11-20`, `2026-11-20T08:00` (UTC unless it says), or `30m` / `6h` / `2d` ago.
    Raises `ValueError` for anything else."""
    if not text:
        return None
    relative = _RELATIVE.match(text)
    if relative:
        span = timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
        return (now or datetime.now(UTC)) - span
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"takes a date, a date and time, or 30m / 6h / 2d; not {text[:40]!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def mask_payload(value: bytes) -> str:
    """The payload for people to read: masked by its structure (`hub.privacy.mask_document`)."""
    return mask_document(value)


def shown_key(key: bytes | None) -> str:
    """A record key for people to read: a source may key by anything, a name included."""
    return mask_token(key.decode("utf-8", errors="replace")) if key else "-"


def shown_headers(headers: Headers) -> list[tuple[str, str]]:
    """An input's headers for people to read: the hub's own shown masked, a source's hidden
    unless they have the shape of an id."""
    return [_shown_header(name, value.decode("utf-8", errors="replace")) for name, value in headers]


def _shown_header(name: str, value: str) -> tuple[str, str]:
    if name.startswith("hub-") or name in {h.CONTENT_TYPE, h.CORRELATION_ID}:
        return name, mask_text(value)[:200]
    return mask_token(name), mask_token(value[:200])


def _entry(record: InboundRecord, by_topic: Mapping[str, str]) -> DeadLetter | None:
    ours = {
        k: v.decode("utf-8", errors="replace")
        for k, v in record.headers
        if k.startswith(h.DLQ_PREFIX)
    }
    entry_id = ours.get(h.DLQ_ID)
    if not entry_id:
        return None  # not written by the hub: nothing an operator could act on
    origin = Position(
        ours.get(h.DLQ_TOPIC, ""),
        int(ours.get(h.DLQ_PARTITION, -1)),
        int(ours.get(h.DLQ_OFFSET, -1)),
    )
    key = base64.b64decode(ours[h.DLQ_KEY]) if ours.get(h.DLQ_KEY) else record.key
    return DeadLetter(
        id=entry_id,
        position=record.position,
        stage=ours.get(h.DLQ_STAGE, ""),
        group=ours.get(h.DLQ_GROUP, ""),
        reason=ours.get(h.DLQ_REASON, ""),
        reason_text=ours.get(h.DLQ_REASON_TEXT, ""),
        error_class=ours.get(h.DLQ_ERROR_CLASS, ""),
        attempts=int(ours.get(h.DLQ_ATTEMPTS, 0)),
        time=datetime.fromisoformat(ours.get(h.DLQ_TIME, "1970-01-01T00:00:00+00:00")),
        origin=origin,
        key=key,
        value=record.value,
        headers=tuple((k, v) for k, v in record.headers if not k.startswith(h.DLQ_PREFIX)),
        parked_behind=ours.get(h.DLQ_PARKED_BEHIND),
        source=by_topic.get(origin.topic, "hub"),
        dlq_headers=ours,
    )


def _resolved(entry: DeadLetter, resolution: Resolution | None) -> DeadLetter:
    return entry if resolution is None else dataclasses.replace(entry, resolution=resolution)


def _sources_by_topic(settings: HubSettings) -> dict[str, str]:
    return {source.topic: name for name, source in sources(settings).items()}
