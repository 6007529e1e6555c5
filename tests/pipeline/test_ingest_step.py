"""The ingest step through the runner: log lines carry the message's ids, then let go of them."""

from __future__ import annotations

import logging
from collections.abc import Iterator, MutableMapping
from typing import Any

import pytest
import structlog
from structlog.testing import LogCapture

from hub.bootstrap import translation_context
from hub.pipeline import headers as h
from hub.pipeline.ingest import ingest_step
from hub.pipeline.records import InboundRecord, Position, text_headers
from hub.pipeline.runner import StageRunner
from hub.pipeline.sink import MemorySink
from hub.settings import HubSettings
from hub.sources import sources
from hubdev.demo import KODA_SAMPLES


@pytest.fixture
def captured() -> Iterator[list[MutableMapping[str, Any]]]:
    capture = LogCapture()
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars, capture],
        wrapper_class=structlog.make_filtering_bound_logger(logging.DEBUG),
    )
    try:
        yield capture.entries
    finally:
        structlog.reset_defaults()


def runner(settings: HubSettings) -> tuple[StageRunner, MemorySink]:
    sink = MemorySink()
    koda = sources(settings)["koda"]
    step = ingest_step(koda, context=translation_context(settings), events_topic="events")
    return StageRunner(stage="ingest", step=step, sink=sink, dlq_topic="dlq"), sink


def inbound(
    document: bytes, offset: int = 0, content_type: str = "application/xml"
) -> InboundRecord:
    headers = text_headers([(h.CONTENT_TYPE, content_type)])
    return InboundRecord(Position("in.koda.v1", 0, offset), None, document, headers)


async def test_log_lines_carry_the_message_ids_while_it_is_handled(
    captured: list[MutableMapping[str, Any]],
) -> None:
    stage, sink = runner(HubSettings(_env_file=None))
    document = (KODA_SAMPLES / "05-release-planned.xml").read_bytes()
    await stage.run_batch([inbound(document)])

    (event,) = sink.topics["events"]
    (processed,) = [e for e in captured if e["event"] == "record.processed"]
    assert processed["message_id"] == event.header(h.EVENT_ID)
    assert processed["source_event_id"] == event.header(h.SOURCE_EVENT_ID)
    assert processed["correlation_id"] == event.header(h.CORRELATION_ID)
    assert processed["stage"] == "ingest"
    assert "message_id" not in structlog.contextvars.get_contextvars(), "unbound afterwards"


async def test_a_declared_content_type_the_source_does_not_publish_is_dead_lettered() -> None:
    stage, sink = runner(HubSettings(_env_file=None))
    document = (KODA_SAMPLES / "05-release-planned.xml").read_bytes()
    await stage.run_batch([inbound(document, content_type="application/json; charset=utf-8")])
    (entry,) = sink.topics["dlq"]
    assert entry.header(h.DLQ_REASON) == "unsupported_content_type"
    assert "events" not in sink.topics
