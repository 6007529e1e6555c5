"""What operators do with dead-letter entries: replay, discard, reveal. The CLI and the web
console build the same request and call the same function; dry runs are plans, nothing more.

Every action names its operator, and is put on the audit trail whether it succeeds or fails.
Without an operator identity nothing is done (and that refusal is on the trail too).

A replay puts each entry's input back on its original topic, with its original key and headers
plus `hub-replay-*` headers under the hub's seal (`hub.pipeline.control`: without the seal no
stage acts on them); only the stage that dead-lettered it takes it, through its current
contract, policy and consent rules. An entry that blocks a person goes back together with the
entries parked behind it, as one contiguous run on the person's partition, so their order holds.
An entry is replayed or discarded once: a second request finds it resolved and sends nothing.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.partitioner import DefaultPartitioner

from hub.audit.service import AuditService
from hub.audit.writer import AuditWriter
from hub.kafka.admin import partition_count
from hub.kafka.producer import build_producer, transient
from hub.operations.entries import DeadLetter, Resolution, Status, mask_payload
from hub.pipeline import headers as h
from hub.pipeline.control import seal
from hub.pipeline.parking import RELEASE
from hub.pipeline.records import Headers, Position, text_headers
from hub.privacy import mask_text
from hub.settings import HubSettings
from hub.signing.signer import Signer
from schemas.audit import AuditFacts, AuditStep, Where, audit_id
from schemas.errors import HubError, PermanentError, Reason
from schemas.ids import name_based_id

__all__ = [
    "DiscardPlan",
    "Held",
    "OperatorError",
    "ReplayItem",
    "ReplayPlan",
    "discard",
    "plan_discard",
    "plan_replay",
    "replay",
    "reveal",
]

_REPLAY_NAMESPACE = uuid.UUID("0e3c4f0a-7d1b-4a8e-9f55-2b6c8d1e4a90")


class OperatorError(PermanentError):
    """An operator's request that cannot be carried out as asked."""


@dataclass(frozen=True, slots=True)
class Held:
    entry: DeadLetter
    why: str


@dataclass(frozen=True, slots=True)
class ReplayItem:
    entry: DeadLetter
    replay_id: str
    headers: Headers
    # The entry this one goes back together with (its blocker), or None for a run's head.
    behind: str | None = None

    @property
    def topic(self) -> str:
        return self.entry.origin.topic


@dataclass(frozen=True, slots=True)
class ReplayPlan:
    runs: tuple[tuple[ReplayItem, ...], ...]  # each run goes out contiguously, in order
    held: tuple[Held, ...]

    @property
    def items(self) -> list[ReplayItem]:
        return [item for run in self.runs for item in run]


@dataclass(frozen=True, slots=True)
class DiscardPlan:
    discarded: tuple[DeadLetter, ...]
    # Entries parked behind a discarded one: released, and replayed after it, in order.
    released: tuple[ReplayItem, ...]
    held: tuple[Held, ...]


def replay_id(entry_id: str) -> str:
    """Deterministic: an entry has one replay, whoever asks for it and how often."""
    return name_based_id(_REPLAY_NAMESPACE, entry_id)


def plan_replay(
    everything: Sequence[DeadLetter], chosen: Sequence[DeadLetter], *, operator: str, now: datetime
) -> ReplayPlan:
    """What a replay of `chosen` would send, in which runs, and what it would hold back."""
    open_ids = {e.id for e in everything if e.status is Status.OPEN}
    chosen_ids = {e.id for e in chosen}
    runs: list[tuple[ReplayItem, ...]] = []
    held: list[Held] = []
    taken: set[str] = set()
    for entry in chosen:
        if entry.id in taken:
            continue
        if entry.status is not Status.OPEN:
            held.append(Held(entry, _resolved_why(entry)))
        elif h.DLQ_CUT in entry.dlq_headers:
            # Only its first bytes were kept: replaying them would send a different document.
            held.append(Held(entry, "cut short when dead-lettered: the source must send it again"))
        elif entry.parked_behind in open_ids and entry.parked_behind not in chosen_ids:
            held.append(Held(entry, f"parked behind {entry.parked_behind[:8]}: replay that one"))
        elif entry.parked_behind in chosen_ids:
            continue  # goes back with its blocker's run
        else:
            run = [entry, *_parked_behind(everything, entry.id)]
            taken |= {e.id for e in run}
            runs.append(
                tuple(
                    _item(e, operator, now, behind=entry.id if e is not entry else None)
                    for e in run
                )
            )
    return ReplayPlan(tuple(runs), tuple(held))


def plan_discard(
    everything: Sequence[DeadLetter], chosen: Sequence[DeadLetter], *, operator: str, now: datetime
) -> DiscardPlan:
    discarded, released, held = [], [], []
    for entry in chosen:
        if entry.status is not Status.OPEN:
            held.append(Held(entry, _resolved_why(entry)))
            continue
        discarded.append(entry)
        behind = [e for e in _parked_behind(everything, entry.id) if e not in chosen]
        released += [_item(e, operator, now, behind=entry.id) for e in behind]
    return DiscardPlan(tuple(discarded), tuple(released), tuple(held))


async def replay(
    settings: HubSettings,
    plan: ReplayPlan,
    *,
    operator: str,
    signer: Signer,
    rate: float | None = None,
) -> list[tuple[ReplayItem, Position]]:
    """Send the plan's runs; record each replay in the entry state and on the trail."""
    async with _operator_audit(settings, signer, "replay", operator) as (trail, producer):
        sent: list[tuple[ReplayItem, Position]] = []
        for run in plan.runs:
            records = [(item.headers, item.entry.value) for item in run]
            positions = await _send_run(producer, settings, signer, run[0].entry, records)
            sent += zip(run, positions, strict=True)
            await _resolve(producer, settings, trail, run, positions, operator)
            if rate:
                await asyncio.sleep(len(run) / rate)
        return sent


async def discard(
    settings: HubSettings, plan: DiscardPlan, *, operator: str, why: str, signer: Signer
) -> None:
    """Mark the plan's entries resolved without sending them; release whoever they blocked."""
    now = datetime.now(UTC)
    async with _operator_audit(settings, signer, "discard", operator) as (trail, producer):
        for entry in plan.discarded:
            resolution = Resolution(Status.DISCARDED, operator, now, note=why)
            await _write_state(producer, settings, entry.id, resolution)
            await trail.append([_discarded(entry, operator, why)])
            behind = [i for i in plan.released if i.behind == entry.id]
            if entry.parked_behind is None and (behind or entry.key):
                await _release(producer, settings, signer, trail, entry, behind, operator)


async def reveal(
    entry: DeadLetter, *, settings: HubSettings, operator: str, why: str, signer: Signer
) -> str:
    """The entry's payload in clear; on the trail first, with the operator and the reason."""
    async with _operator_audit(settings, signer, "reveal", operator) as (trail, _):
        await trail.append([_revealed(entry, operator, why)])
    return entry.value.decode("utf-8", errors="replace")


def masked(entry: DeadLetter) -> str:
    return mask_payload(entry.value)


# --- sending ------------------------------------------------------------------------------


async def _send_run(
    producer: AIOKafkaProducer,
    settings: HubSettings,
    signer: Signer,
    head: DeadLetter,
    records: Sequence[tuple[Headers, bytes]],
) -> list[Position]:
    """One run as one record batch to the person's partition of the entry's original topic:
    nothing of anyone else's can land inside it. Each record carries the hub's seal over its
    replay headers, key and value: a stage acts on those headers only under it."""
    topic, key = head.origin.topic, head.key
    partition = await _partition_for(settings, topic, key)
    batch = producer.create_batch()
    for headers, value in records:
        sealed = list(seal(headers, key, value, signer))
        if batch.append(key=key, value=value, timestamp=None, headers=sealed) is None:
            raise OperatorError(f"a run of {len(records)} records does not fit one batch")
    try:
        metadata = await (await producer.send_batch(batch, topic, partition=partition))
    except KafkaError as exc:
        raise transient(exc) from exc
    return [Position(topic, partition, metadata.offset + i) for i in range(len(records))]


async def _partition_for(settings: HubSettings, topic: str, key: bytes | None) -> int:
    count = await partition_count(settings.kafka_connection(), topic)
    partitions = list(range(count))
    # The producer's own partitioner: the run lands where the person's records always land.
    return int(DefaultPartitioner()(key, partitions, partitions)) if key else 0


async def _release(
    producer: AIOKafkaProducer,
    settings: HubSettings,
    signer: Signer,
    trail: AuditWriter,
    blocker: DeadLetter,
    behind: Sequence[ReplayItem],
    operator: str,
) -> None:
    """A release control record for the blocker's group, then the parked entries, in one run."""
    control = text_headers(
        [(h.CONTROL, RELEASE), (h.REPLAY_OF, blocker.id), (h.REPLAY_GROUP, blocker.group)]
    )
    records = [(control, b""), *((item.headers, item.entry.value) for item in behind)]
    positions = await _send_run(producer, settings, signer, blocker, records)
    await _resolve(producer, settings, trail, behind, positions[1:], operator)


async def _resolve(
    producer: AIOKafkaProducer,
    settings: HubSettings,
    trail: AuditWriter,
    run: Sequence[ReplayItem],
    positions: Sequence[Position],
    operator: str,
) -> None:
    now = datetime.now(UTC)
    for item, position in zip(run, positions, strict=True):
        resolution = Resolution(
            Status.REPLAYED, operator, now, replay_id=item.replay_id, position=str(position)
        )
        await _write_state(producer, settings, item.entry.id, resolution)
    await trail.append([_replayed(i, p, operator) for i, p in zip(run, positions, strict=True)])


async def _write_state(
    producer: AIOKafkaProducer, settings: HubSettings, entry_id: str, resolution: Resolution
) -> None:
    try:
        await producer.send_and_wait(
            settings.topics.dlq_state, key=entry_id.encode(), value=resolution.encode()
        )
    except KafkaError as exc:
        raise transient(exc) from exc


def _item(entry: DeadLetter, operator: str, now: datetime, *, behind: str | None) -> ReplayItem:
    rid = replay_id(entry.id)
    extra = text_headers(
        [
            (h.REPLAY_ID, rid),
            (h.REPLAY_OF, entry.id),
            (h.REPLAY_OPERATOR, operator),
            (h.REPLAY_TIME, now.isoformat()),
            (h.REPLAY_GROUP, entry.group),
        ]
    )
    kept = tuple((k, v) for k, v in entry.headers if not k.startswith(h.REPLAY_PREFIX))
    return ReplayItem(entry, rid, kept + extra, behind)


def _parked_behind(everything: Sequence[DeadLetter], entry_id: str) -> list[DeadLetter]:
    return [e for e in everything if e.parked_behind == entry_id and e.status is Status.OPEN]


def _resolved_why(entry: DeadLetter) -> str:
    r = entry.resolution
    assert r is not None  # noqa: S101 - only resolved entries are asked about
    return f"already {r.status.value} by {r.operator} at {r.time:%Y-%m-%d %H:%M}"


# --- the trail ----------------------------------------------------------------------------


@asynccontextmanager
async def _operator_audit(
    settings: HubSettings, signer: Signer, action: str, operator: str
) -> AsyncIterator[tuple[AuditWriter, AIOKafkaProducer]]:
    """A chain of this action's own, and a producer; a failure goes on the trail, then raises."""
    audit_settings = settings.audit.model_copy(update={"project": False})
    service = AuditService(settings.model_copy(update={"audit": audit_settings}), signer)
    producer = build_producer(
        settings.kafka_connection(),
        settings.kafka,
        client_id=f"{settings.kafka.client_id}-operator",
    )
    try:
        await service.start()
        await producer.start()
    except (KafkaError, HubError) as exc:
        await producer.stop()
        await service.stop()
        raise transient(exc) if isinstance(exc, KafkaError) else exc from exc
    try:
        yield service.writer, producer
    except HubError as exc:
        await service.writer.append([_failed(action, operator, exc.reason.value)])
        raise
    finally:
        await producer.stop()
        await service.stop()


async def record_refusal(
    settings: HubSettings, signer: Signer, action: str, reason: Reason
) -> None:
    """An action refused before it started (e.g. no operator identity), on the trail."""
    audit_settings = settings.audit.model_copy(update={"project": False})
    service = AuditService(settings.model_copy(update={"audit": audit_settings}), signer)
    await service.start()
    try:
        await service.writer.append([_failed(action, None, reason.value)])
    finally:
        await service.stop()


def _replayed(item: ReplayItem, position: Position, operator: str) -> AuditFacts:
    entry = item.entry
    return AuditFacts(
        id=audit_id(AuditStep.REPLAYED, entry.id, item.replay_id),
        step=AuditStep.REPLAYED,
        stage=entry.stage or "operations",
        input=_where(entry.position),
        output=_where(position),
        entry_id=entry.id,
        operator=operator,
        message_id=_header(entry, h.EVENT_ID),
        blocked_by=item.behind,
    )


def _discarded(entry: DeadLetter, operator: str, why: str) -> AuditFacts:
    return AuditFacts(
        id=audit_id(AuditStep.DISCARDED, entry.id),
        step=AuditStep.DISCARDED,
        stage=entry.stage or "operations",
        input=_where(entry.position),
        entry_id=entry.id,
        operator=operator,
        note=mask_text(why)[:500],
        message_id=_header(entry, h.EVENT_ID),
    )


def _revealed(entry: DeadLetter, operator: str, why: str) -> AuditFacts:
    return AuditFacts(
        id=audit_id(AuditStep.REVEALED, entry.id, operator, datetime.now(UTC).isoformat()),
        step=AuditStep.REVEALED,
        stage=entry.stage or "operations",
        input=_where(entry.position),
        entry_id=entry.id,
        operator=operator,
        note=mask_text(why)[:500],
    )


def _failed(action: str, operator: str | None, reason: str) -> AuditFacts:
    return AuditFacts(
        id=audit_id(AuditStep.ACTION_FAILED, action, operator or "", datetime.now(UTC).isoformat()),
        step=AuditStep.ACTION_FAILED,
        stage="operations",
        action=action,
        reason=reason,
        operator=operator,
    )


def _where(position: Position) -> Where:
    return Where(topic=position.topic, partition=position.partition, offset=position.offset)


def _header(entry: DeadLetter, name: str) -> str | None:
    for key, value in entry.headers:
        if key == name:
            text = value.decode("utf-8", errors="replace")
            return text if len(text) == 36 else None
    return None
