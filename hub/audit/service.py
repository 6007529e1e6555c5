"""The audit side of a running hub: one writer (this process's chain), its checkpoint timer, and
the task that keeps the SQLite projection current."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence

import structlog
from aiokafka.errors import KafkaError

from hub.audit.projection import Projection
from hub.audit.steps import audit_hook, bookkeeping, received_facts
from hub.audit.writer import AuditWriter, new_writer_id
from hub.kafka.chain import KafkaChainLog, build_chain_producer, writer_partition
from hub.kafka.follow import follow_topic
from hub.kafka.producer import transient
from hub.kafka.subscriber import OutcomeHook
from hub.pipeline.records import InboundRecord
from hub.pipeline.runner import RecordOutcome
from hub.settings import HubSettings
from hub.signing.signer import Signer
from schemas.errors import HubError

__all__ = ["AuditService"]

log = structlog.get_logger(__name__)

_RETRY_PAUSE_S = 1.0


class AuditService:
    def __init__(self, settings: HubSettings, signer: Signer) -> None:
        self._settings = settings
        self._signer = signer
        self.writer_id = new_writer_id()
        self._connection = settings.kafka_connection()
        self._producer = build_chain_producer(
            self._connection, settings.kafka, client_id=f"{settings.kafka.client_id}-audit"
        )
        self._writer: AuditWriter | None = None
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self.projection = Projection(settings.projection_path)

    @property
    def writer(self) -> AuditWriter:
        if self._writer is None:
            raise RuntimeError("the audit service is not started")
        return self._writer

    def hook(
        self, stage: str, *, received: bool = True, recipient: str | None = None
    ) -> OutcomeHook:
        """The `after` hook of a stage: its batch's records, acknowledged before the commit
        (`hub.audit.steps.outcome_facts`; the state topics are the hub's bookkeeping)."""
        unrecorded = bookkeeping(self._settings.topics)

        async def after(outcomes: list[RecordOutcome]) -> None:
            hook = audit_hook(
                self.writer, stage, received=received, recipient=recipient, unrecorded=unrecorded
            )
            await hook(outcomes)

        return after

    async def taken(self, stage: str, records: Sequence[InboundRecord]) -> None:
        """Put on record that `stage` took `records`, for the stages that then decide each."""
        await self.writer.append(received_facts(stage, records))

    async def start(self) -> None:
        topics = self._settings.topics
        try:
            await self._producer.start()
        except KafkaError as exc:
            await self._producer.stop()
            raise transient(exc) from exc
        chain_log = KafkaChainLog(
            self._producer,
            topic=topics.audit,
            partition=await writer_partition(self._producer, topics.audit, self.writer_id),
            anchor_topic=topics.audit_checkpoints,
            anchor_partition=await writer_partition(
                self._producer, topics.audit_checkpoints, self.writer_id
            ),
        )
        audit = self._settings.audit
        self._writer = AuditWriter(
            chain_log,
            signer=self._signer,
            writer_id=self.writer_id,
            checkpoint_every_records=audit.checkpoint_every_records,
            checkpoint_every_s=audit.checkpoint_every_s,
            heartbeat_every_s=audit.heartbeat_every_s,
            retention_days=audit.retention_days,
        )
        self._tasks.append(asyncio.create_task(self._checkpoints(), name="audit-checkpoints"))
        if audit.project:
            self._tasks.append(asyncio.create_task(self._project(), name="audit-projection"))
        log.info("audit.started", writer=self.writer_id)

    async def stop(self) -> None:
        """Close the chain (a closing checkpoint), then stop the tasks and the producer."""
        self._stop.set()
        try:
            if self._writer is not None:
                await self._writer.close()
        except HubError as exc:
            log.warning("audit.close_failed", reason=exc.reason.value, detail=exc.detail)
        finally:
            for task in self._tasks:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self.projection.close()
            await self._producer.stop()
        log.info("audit.stopped", writer=self.writer_id)

    async def _checkpoints(self) -> None:
        period = min(self._settings.audit.checkpoint_every_s, 5.0) / 2
        while not self._stop.is_set():
            await asyncio.sleep(period)
            try:
                await self.writer.tick()
            except HubError as exc:
                log.warning("audit.checkpoint_failed", reason=exc.reason.value)

    async def _project(self) -> None:
        topic = self._settings.topics.audit
        while not self._stop.is_set():
            try:
                start = await asyncio.to_thread(self.projection.next_offsets, topic)
                connection = self._connection
                async for batch in follow_topic(connection, topic, start=start, stop=self._stop):
                    await asyncio.to_thread(self.projection.apply, batch)
            except HubError as exc:
                log.warning("audit.projection_paused", reason=exc.reason.value, detail=exc.detail)
                await asyncio.sleep(_RETRY_PAUSE_S)
