"""Builds the running hub from its settings: the one place where dependencies are wired.

Nothing connects when this module is imported; `build_hub` only constructs, and `Hub` connects
when it is entered (`async with build_hub(settings) as hub: ...`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from types import TracebackType
from typing import Self

import structlog
from aiokafka import AIOKafkaProducer
from faststream.kafka import KafkaBroker

from adapters.context import TranslationContext
from hub.kafka.admin import ensure_topics
from hub.kafka.producer import KafkaRecordSink, build_producer
from hub.kafka.subscriber import subscribe_stage
from hub.pipeline.ingest import ingest_step
from hub.pipeline.runner import StageRunner
from hub.privacy import PersonKeys
from hub.settings import HubSettings
from hub.sources import sources
from hub.topics import catalogue

__all__ = ["Hub", "build_hub", "person_keys", "translation_context"]

log = structlog.get_logger(__name__)


def person_keys(settings: HubSettings) -> PersonKeys:
    return PersonKeys(settings.person_key_secret.get_secret_value().encode("utf-8"))


def translation_context(settings: HubSettings) -> TranslationContext:
    return TranslationContext(
        person_key=person_keys(settings),
        allow_test_identities=settings.test_identities_allowed,
        max_document_bytes=settings.max_document_bytes,
    )


@dataclass
class Hub:
    """Every stage of the pipeline in one process, and the clients they share."""

    settings: HubSettings
    broker: KafkaBroker
    producer: AIOKafkaProducer
    runners: list[StageRunner] = field(default_factory=list)

    async def __aenter__(self) -> Self:
        created = await ensure_topics(
            self.settings.kafka.bootstrap_servers, catalogue(self.settings), timeout=30.0
        )
        if created:
            log.info("topics.created", topics=created)
        await self.producer.start()
        try:
            await self.broker.start()
        except BaseException:
            await self.producer.stop()
            raise
        log.info("hub.started", stages=[r.stage for r in self.runners])
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Consumers first, so no batch is half-way when the producer goes.
        await self.broker.stop()
        await self.producer.stop()
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
    hub = Hub(settings=settings, broker=broker, producer=producer)
    sink = KafkaRecordSink(producer)
    context = translation_context(settings)
    for source in sources(settings).values():
        runner = StageRunner(
            stage="ingest",
            step=ingest_step(source, context=context, events_topic=settings.topics.events),
            sink=sink,
            dlq_topic=settings.topics.dlq,
        )
        subscribe_stage(
            broker,
            runner,
            topic=source.topic,
            group_id=f"{kafka.group_prefix}.ingest.{source.name}",
            kafka=kafka,
            description=f"Documents from {source.name}, translated into canonical events.",
        )
        hub.runners.append(runner)
    return hub
