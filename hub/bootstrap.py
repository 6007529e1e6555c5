"""Builds the running hub from its settings: the one place where dependencies are wired.

Nothing connects when this module is imported; `build_hub` only constructs, and `Hub` connects
when it is entered (`async with build_hub(settings) as hub: ...`).
"""

from __future__ import annotations

import logging
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import structlog
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker
from starlette.applications import Starlette

from adapters.context import TranslationContext
from hub.audit.service import AuditService
from hub.kafka.admin import ensure_topics, list_topics
from hub.kafka.producer import KafkaRecordSink, build_producer
from hub.kafka.subscriber import subscribe_stage
from hub.pipeline.ingest import ingest_step
from hub.pipeline.runner import StageRunner
from hub.pipeline.sink import RecordSink
from hub.privacy import PersonKeys
from hub.settings import HubSettings
from hub.signing.keys import key_store
from hub.signing.signer import Signer
from hub.sources import sources
from hub.topics import catalogue
from hub.web.app import ReadinessProbe, build_app, health_routes
from hub.web.ingress import Ingress, ingress_routes
from schemas.errors import HubError

__all__ = [
    "Hub",
    "broker_ready",
    "build_hub",
    "build_web_app",
    "load_signer",
    "person_keys",
    "translation_context",
]

log = structlog.get_logger(__name__)


def person_keys(settings: HubSettings) -> PersonKeys:
    return PersonKeys(settings.person_key_secret.get_secret_value().encode("utf-8"))


def translation_context(settings: HubSettings) -> TranslationContext:
    return TranslationContext(
        person_key=person_keys(settings),
        allow_test_identities=settings.test_identities_allowed,
        max_document_bytes=settings.max_document_bytes,
    )


def load_signer(settings: HubSettings) -> Signer:
    """The current signing key. Outside production a first key is made when there is none,
    so a fresh clone runs without manual steps; production refuses to start without one."""
    store = key_store(settings)
    if settings.may_generate_dev_key:
        made = store.ensure()
        if made is not None:
            log.warning("signing.dev_key_generated", kid=made.kid, folder=str(store.directory))
    return store.signer()


@dataclass
class Hub:
    """Every stage of the pipeline in one process, and the clients they share."""

    settings: HubSettings
    broker: KafkaBroker
    producer: AIOKafkaProducer
    audit: AuditService
    runners: list[StageRunner] = field(default_factory=list)

    _running: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def __aenter__(self) -> Self:
        async with AsyncExitStack() as stack:
            # Registered before anything starts: a start that fails half-way still closes every
            # client that was made (stopping one that never started is harmless).
            stack.push_async_callback(self.producer.stop)
            stack.push_async_callback(self.audit.stop)
            created = await ensure_topics(
                self.settings.kafka.bootstrap_servers, catalogue(self.settings), timeout=30.0
            )
            if created:
                log.info("topics.created", topics=created)
            await self.producer.start()
            await self.audit.start()
            await self.broker.start()
            self._running = stack.pop_all()
        log.info("hub.started", stages=[r.stage for r in self.runners])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Consumers first, so no batch is half-way when the producers go; then the audit chain
        # is sealed with its closing checkpoint, then the producer stops.
        await self.broker.stop()
        await self._running.aclose()
        log.info("hub.stopped")


def build_hub(settings: HubSettings) -> Hub:
    kafka = settings.kafka
    broker = KafkaBroker(
        kafka.bootstrap_servers,
        client_id=kafka.client_id,
        request_timeout_ms=kafka.request_timeout_ms,
        # Outputs go through our own producer (exact header bytes); topics are made explicitly.
        consumer_only=True,
        allow_auto_create_topics=False,
        logger=logging.getLogger("hub.faststream"),
        # FastStream's per-message lines would repeat what the stages log, in clear.
        log_level=logging.DEBUG,
    )
    producer = build_producer(kafka)
    signer = load_signer(settings)
    audit = AuditService(settings, signer)
    hub = Hub(settings=settings, broker=broker, producer=producer, audit=audit)
    sink = KafkaRecordSink(producer)
    context = translation_context(settings)
    for source in sources(settings).values():
        runner = StageRunner(
            stage="ingest",
            step=ingest_step(
                source,
                context=context,
                events_topic=settings.topics.events,
                finish=signer.sign_record,
            ),
            sink=sink,
            dlq_topic=settings.topics.dlq,
        )
        subscribe_stage(
            broker,
            runner,
            topic=source.topic,
            group_id=f"{kafka.group_prefix}.ingest.{source.name}",
            kafka=kafka,
            after=audit.hook("ingest"),
            description=f"Documents from {source.name}, translated into canonical events.",
        )
        hub.runners.append(runner)
    return hub


def broker_ready(settings: HubSettings) -> ReadinessProbe:
    """A probe that asks the broker for its topics, within `web.ready_timeout_s`."""

    async def ready() -> bool:
        try:
            await list_topics(
                settings.kafka.bootstrap_servers, timeout=settings.web.ready_timeout_s
            )
        except HubError:
            return False
        return True

    return ready


def build_web_app(
    settings: HubSettings, *, sink: RecordSink, ready: ReadinessProbe | None = None
) -> Starlette:
    """The hub's ASGI app: health checks and the HTTP ingress, publishing through `sink`."""
    ingress = Ingress(settings, sink=sink, context=translation_context(settings))
    return build_app(health_routes(ready or broker_ready(settings)), ingress_routes(ingress))
