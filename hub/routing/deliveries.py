"""Which recipient got which message: the state corrections, cancellations and receipts need.

Where it lives, and why: a compacted Kafka topic (`hub.deliveries.v1`), keyed by recipient
message id, one `DeliveryEntry` per message, rewritten when it changes (plan closed, receipt
come, alert raised). A recipient stage writes its entries as outputs of the same batch as the
messages, so they are acknowledged before the input's offset is committed, exactly like the
messages: after a crash, state and messages agree. The topic survives restarts and is shared by
every hub process; each process keeps an in-memory `DeliveryIndex` of it, fed by a follower
(`hub.kafka.deliveries`), and catches up to the topic's end before each batch, so a partition
that moves to another process finds the state the previous owner wrote. (The audit projection
was the alternative: it is per process, lags behind the trail, and is derived data that
`hub audit rebuild` may delete; the hub must not route by it.)

Within a batch, a stage sees its own writes at once through an overlay, which becomes part of
the index only when the batch's outputs are acknowledged, and is dropped when they are not.
Every entry carries a revision, so a follower reading an older version back never undoes a
newer one.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator

from pydantic import AwareDatetime, BaseModel, ConfigDict, ValidationError

from hub.pipeline.records import InboundRecord, OutboundRecord, text_headers
from schemas.recipients import Action, ReceiptStatus

__all__ = [
    "DeliveryEntry",
    "DeliveryIndex",
    "Receipted",
    "StagedIndex",
    "entry_record",
    "plan_key",
]

_PLAN_FAMILIES = {"release", "transfer"}
_CONTENT_TYPE = "application/json"


class Receipted(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    required: bool = False
    due: AwareDatetime | None = None
    status: ReceiptStatus | None = None


class DeliveryEntry(BaseModel):
    """One message sent to one recipient, and what has become of it since."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    messageid: str
    rev: int = 0
    kind: str
    recipient: str
    topic: str
    subject: str
    canonicalid: str
    eventtype: str
    action: Action
    rule: str
    legalbasis: str
    deliveredat: AwareDatetime
    # For a planned release or transfer: `<family>|<case number>`; None for anything else.
    plan: str | None = None
    # Whether a correction or cancellation of its plan must still reach this recipient.
    open: bool = False
    receipt: Receipted = Receipted()
    alerts: tuple[str, ...] = ()

    def changed(self, **updates: object) -> DeliveryEntry:
        return self.model_copy(update={**updates, "rev": self.rev + 1})


def plan_key(event_type: str, case_number: str | None) -> str | None:
    """The plan an event of `event_type` belongs to, for releases and transfers."""
    family = event_type.split(".")[2] if event_type.count(".") >= 3 else ""
    if family not in _PLAN_FAMILIES or not case_number:
        return None
    return f"{family}|{case_number}"


def entry_record(entry: DeliveryEntry, topic: str) -> OutboundRecord:
    return OutboundRecord(
        topic=topic,
        key=entry.messageid.encode("ascii"),
        value=entry.model_dump_json().encode("utf-8"),
        headers=text_headers([("content-type", _CONTENT_TYPE)]),
    )


class DeliveryIndex:
    """The in-memory view of the deliveries topic: what is on the topic, as far as read."""

    def __init__(self) -> None:
        self._entries: dict[str, DeliveryEntry] = {}
        self._by_subject: dict[tuple[str, str], set[str]] = defaultdict(set)

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, message_id: str) -> DeliveryEntry | None:
        return self._entries.get(message_id)

    def put(self, entry: DeliveryEntry) -> bool:
        """Take `entry` unless the index has a later revision of it; True when taken."""
        known = self._entries.get(entry.messageid)
        if known is not None and known.rev > entry.rev:
            return False
        self._entries[entry.messageid] = entry
        self._by_subject[(entry.kind, entry.subject)].add(entry.messageid)
        return True

    def apply_records(self, records: Iterable[InboundRecord]) -> int:
        """Entries read from the topic; returns how many changed the index."""
        changed = 0
        for record in records:
            try:
                entry = DeliveryEntry.model_validate_json(record.value)
            except ValidationError:
                continue  # not ours to fix here; the topic is written by the hub alone
            changed += self.put(entry)
        return changed

    def ids_about(self, kind: str, subject: str) -> set[str]:
        return set(self._by_subject.get((kind, subject), ()))

    def awaiting_receipt(self, now: dt.datetime) -> list[DeliveryEntry]:
        """Entries whose receipt is overdue and not yet alerted."""
        return [
            e
            for e in self._entries.values()
            if e.receipt.required
            and e.receipt.status is None
            and e.receipt.due is not None
            and e.receipt.due <= now
            and "receipt_overdue" not in e.alerts
        ]


class StagedIndex:
    """One stage's window on the index: its own writes of the batch under way on top.

    Each stage has its own, so one stage's failed batch never drops another stage's state.
    """

    def __init__(self, index: DeliveryIndex) -> None:
        self.index = index
        self._overlay: dict[str, DeliveryEntry] = {}

    def get(self, message_id: str) -> DeliveryEntry | None:
        return self._overlay.get(message_id) or self.index.get(message_id)

    def stage(self, entry: DeliveryEntry) -> None:
        """Visible at once to this stage; part of the index only if `commit` follows."""
        self._overlay[entry.messageid] = entry

    def commit(self) -> None:
        for entry in self._overlay.values():
            self.index.put(entry)
        self._overlay.clear()

    def rollback(self) -> None:
        self._overlay.clear()

    def open_for(self, kind: str, subject: str) -> Iterator[DeliveryEntry]:
        """The entries of `kind`'s recipients about `subject` whose plans are still open."""
        ids = self.index.ids_about(kind, subject)
        ids |= {
            e.messageid for e in self._overlay.values() if (e.kind, e.subject) == (kind, subject)
        }
        for message_id in sorted(ids):
            entry = self.get(message_id)
            if entry is not None and entry.open:
                yield entry
