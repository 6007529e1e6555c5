"""`POST /ingest/{source}`: a publisher without Kafka hands the hub one raw document.

The request is checked in this order, each refusal a JSON body `{"reason", "detail"}` with a
stable reason code (`schemas.errors.Reason`):

    404 unknown_source             no such source system
    401 unauthenticated            no `X-API-Key`, or not this source's key (constant time)
    415 unsupported_content_type   not a media type the source publishes, or not UTF-8
    400 schema_violation           an `X-Correlation-Id` that is not 1-128 printable ASCII
    413 too_large                  Content-Length over the limit: refused before reading
    429 rate_limited               over the source's rate (token bucket), with Retry-After
    413 too_large                  the body grew over the limit while being read: reading stops
    503 broker_unavailable         the broker did not acknowledge, with Retry-After
    500 output_rejected            the broker will never take it (the inbound topic is missing,
                                   smaller than the hub's limit, or closed to the hub): fix the
                                   hub's set-up, retrying does not help

Otherwise the document goes on the source's inbound topic exactly as `hub publish` puts it there
(same key, same headers) and the answer is 202 with the canonical id it will have: the same id
for a resend, so a publisher can retry safely. A document the hub cannot translate is accepted
and published all the same, so that it is dead-lettered, visible to operators and replayable
like any other; the 202 then has `"id": null` and the reason code the hub will dead-letter it
with. The adapter runs here once to compute the id (in the event loop, as the stages' steps
do: the size cap and the rate bound its cost); the ingest stage runs it again for real.

Resends are published again, not deduplicated here: the id is deterministic, and every stage
and recipient drops a repeat by it.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import re
from collections.abc import Mapping
from typing import Any, Final

import structlog
from pydantic import SecretStr
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.context import TranslationContext
from hub.pipeline.records import Position
from hub.pipeline.sink import RecordSink
from hub.privacy import mask_text
from hub.settings import HubSettings
from hub.sources import Source, sources
from hub.tools.publish import Prepared, prepare
from hub.web.ratelimit import TokenBucket
from schemas.errors import PermanentError, Reason, TransientError

__all__ = ["API_KEY_HEADER", "CORRELATION_HEADER", "Ingress", "Refused", "ingress_routes"]

log = structlog.get_logger(__name__)

API_KEY_HEADER: Final = "x-api-key"
CORRELATION_HEADER: Final = "x-correlation-id"
_CORRELATION_ID: Final = re.compile(r"^[\x21-\x7e]{1,128}$")
_UTF8_CHARSETS: Final = frozenset({"utf-8", "utf8"})
_BROKER_RETRY_AFTER_S: Final = 5


class Refused(Exception):
    """A request answered at once with a 4xx or 5xx and a reason code."""

    def __init__(
        self,
        status: int,
        reason: Reason,
        detail: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.reason, self.detail = status, reason, detail
        self.headers = dict(headers or {})

    def response(self) -> JSONResponse:
        body = {"reason": self.reason.value, "detail": self.detail}
        return JSONResponse(body, status_code=self.status, headers=self.headers)


class Ingress:
    """The ingress of one hub: its sources, their keys and rate budgets, where records go."""

    def __init__(
        self,
        settings: HubSettings,
        *,
        sink: RecordSink,
        context: TranslationContext,
        buckets: Mapping[str, TokenBucket] | None = None,
    ) -> None:
        self._sources = sources(settings)
        self._keys = {name: settings.ingress_key(name) for name in self._sources}
        web = settings.web
        self._buckets = dict(buckets or {}) or {
            name: TokenBucket(web.rate_per_s, web.burst) for name in self._sources
        }
        self._max_bytes = settings.max_document_bytes
        self._sink = sink
        self._context = context

    async def handle(self, request: Request) -> Response:
        try:
            source = self._source(request.path_params["source"])
            self._authenticate(request, source)
            content_type = _content_type(request, source)
            correlation_id = _correlation_id(request)
            _check_declared_length(request, self._max_bytes)
            self._take_token(source)
            body = await read_capped(request, self._max_bytes)
            # Translating a large document is CPU work: in a worker thread, so the server
            # and the stages in this process go on meanwhile.
            prepared = await asyncio.to_thread(
                prepare,
                source,
                body,
                self._context,
                content_type=content_type,
                correlation_id=correlation_id,
            )
            position = await self._publish(prepared)
        except Refused as refused:
            return refused.response()
        return JSONResponse(_accepted(source, prepared, position), status_code=202)

    def _source(self, name: str) -> Source:
        source = self._sources.get(name)
        if source is None:
            # The path is the caller's text: not echoed.
            raise Refused(404, Reason.UNKNOWN_SOURCE, "no source system by that name")
        return source

    def _authenticate(self, request: Request, source: Source) -> None:
        expected = self._keys.get(source.name)
        given = request.headers.get(API_KEY_HEADER)
        if expected is None or given is None or not _same(given, expected):
            raise Refused(
                401,
                Reason.UNAUTHENTICATED,
                f"send the API key of {source.name} in the X-API-Key header",
                {"WWW-Authenticate": 'ApiKey realm="justishub", header="X-API-Key"'},
            )

    def _take_token(self, source: Source) -> None:
        wait_s = self._buckets[source.name].take()
        if wait_s > 0:
            raise Refused(
                429,
                Reason.RATE_LIMITED,
                f"{source.name} is over its publishing rate; retry later",
                {"Retry-After": str(max(1, math.ceil(wait_s)))},
            )

    async def _publish(self, prepared: Prepared) -> Position:
        try:
            return await (await self._sink.send(prepared.record))
        except TransientError as exc:
            raise Refused(
                503,
                Reason.BROKER_UNAVAILABLE,
                "the hub could not store the document; retry later",
                {"Retry-After": str(_BROKER_RETRY_AFTER_S)},
            ) from exc
        except PermanentError as exc:
            log.exception("ingress.output_rejected", topic=prepared.record.topic, detail=exc.detail)
            raise Refused(
                500, Reason.OUTPUT_REJECTED, "the hub's broker will not take the document"
            ) from exc


def ingress_routes(ingress: Ingress) -> list[Route]:
    return [Route("/ingest/{source}", ingress.handle, methods=["POST"], name="ingest")]


async def read_capped(request: Request, max_bytes: int) -> bytes:
    """The request body, refused as soon as it grows past `max_bytes` (never read whole)."""
    body = bytearray()
    try:
        async for chunk in request.stream():
            if len(body) + len(chunk) > max_bytes:
                raise _too_large(max_bytes)
            body += chunk
    except ClientDisconnect as exc:
        # The client is gone and will read no answer; nothing was published.
        raise Refused(400, Reason.EMPTY_DOCUMENT, "the client went away mid-body") from exc
    return bytes(body)


def _same(given: str, expected: SecretStr) -> bool:
    return hmac.compare_digest(given.encode("utf-8"), expected.get_secret_value().encode("utf-8"))


def _content_type(request: Request, source: Source) -> str:
    declared = request.headers.get("content-type", "")
    media_type, _, parameters = declared.partition(";")
    charset = _parameter(parameters, "charset")
    allowed = ", ".join(sorted(source.content_types))
    if media_type.strip().lower() not in source.content_types:
        raise Refused(
            415,
            Reason.UNSUPPORTED_CONTENT_TYPE,
            f"{source.name} publishes {allowed}, not the content type given",
        )
    if charset is not None and charset.lower() not in _UTF8_CHARSETS:
        raise Refused(
            415, Reason.UNSUPPORTED_CONTENT_TYPE, "documents are UTF-8, not the charset given"
        )
    return declared


def _parameter(parameters: str, name: str) -> str | None:
    for parameter in parameters.split(";"):
        key, _, value = parameter.partition("=")
        if key.strip().lower() == name:
            return value.strip().strip('"')
    return None


def _correlation_id(request: Request) -> str | None:
    given = request.headers.get(CORRELATION_HEADER)
    if given is not None and not _CORRELATION_ID.fullmatch(given):
        raise Refused(
            400,
            Reason.SCHEMA_VIOLATION,
            "X-Correlation-Id must be 1 to 128 printable ASCII characters",
        )
    return given


def _check_declared_length(request: Request, max_bytes: int) -> None:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(max_bytes)


def _too_large(max_bytes: int) -> Refused:
    # Closing the connection stops the server from draining a body nobody will read.
    return Refused(
        413, Reason.TOO_LARGE, f"documents are at most {max_bytes} bytes", {"Connection": "close"}
    )


def _accepted(source: Source, prepared: Prepared, position: Position) -> dict[str, Any]:
    event, rejection = prepared.event, prepared.rejection
    return {
        "id": event.id if event else None,
        "type": event.type if event else None,
        "source": source.name,
        "reason": rejection.reason.value if rejection else None,
        "detail": mask_text(rejection.detail)[:1000] if rejection else None,
        "topic": position.topic,
        "partition": position.partition,
        "offset": position.offset,
    }
