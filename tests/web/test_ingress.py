"""`POST /ingest/{source}` through the ASGI interface, on an in-memory sink."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from structlog.contextvars import merge_contextvars
from structlog.testing import capture_logs

from adapters.court import SOURCE as COURT
from adapters.police import SOURCE as POLICE
from hub.bootstrap import person_keys, translation_context
from hub.pipeline import headers as h
from hub.pipeline.sink import MemorySink
from hub.settings import (
    DEV_INGRESS_API_KEY,
    Environment,
    HubSettings,
    KafkaSettings,
    SigningSettings,
    WebSettings,
)
from hub.web.app import build_app
from hub.web.ingress import Ingress, ingress_routes
from hub.web.ratelimit import TokenBucket
from hubdev.demo import COURT_SAMPLES, POLICE_SAMPLES
from schemas.ids import canonical_id
from tests.identities import SYNTHETIC_FNR
from tests.support import PRODUCTION_KAFKA
from tests.web.conftest import Client, Clock, make_client

JUDGMENT = (COURT_SAMPLES / "01-judgment-prison.xml").read_bytes()
FORVARING_IN_DAYS = (COURT_SAMPLES / "invalid" / "01-forvaring-with-days.xml").read_bytes()
CUSTODY = (POLICE_SAMPLES / "01-custody-started.json").read_bytes()
XML, JSON_TYPE = "application/xml", "application/json"


async def test_a_judgment_is_accepted_with_the_id_it_will_have(client: Client) -> None:
    response = await client.post("court", JUDGMENT, **{"content-type": XML})
    assert response.status_code == 202
    body = response.json()
    assert body["id"] == canonical_id(COURT, "TOSL-2025-71204")
    assert (body["type"], body["source"], body["reason"]) == (
        "no.domstol.judgment.final.v1",
        "court",
        None,
    )
    (record,) = client.sink.topics["in.court.v1"]
    assert (body["topic"], body["offset"]) == ("in.court.v1", 0)
    assert record.value == JUDGMENT
    assert record.header(h.CONTENT_TYPE) == XML


async def test_the_record_is_keyed_and_headed_as_hub_publish_does_it(client: Client) -> None:
    await client.post("police", CUSTODY, **{"content-type": "application/json; charset=utf-8"})
    (record,) = client.sink.topics["in.police.v1"]
    keys = person_keys(client.settings)
    assert record.key == keys(json.loads(CUSTODY)["person"]["nationalId"]).encode()
    assert record.header(h.CONTENT_TYPE) == "application/json; charset=utf-8"


async def test_a_resend_answers_the_same_id(client: Client) -> None:
    first = await client.post("police", CUSTODY, **{"content-type": JSON_TYPE})
    again = await client.post("police", CUSTODY, **{"content-type": JSON_TYPE})
    assert first.status_code == again.status_code == 202
    assert first.json()["id"] == again.json()["id"] == canonical_id(POLICE, "POL-OSLO-2025-118842")
    assert [r.value for r in client.sink.topics["in.police.v1"]] == [CUSTODY, CUSTODY]


async def test_an_invalid_document_is_published_and_its_reason_told(client: Client) -> None:
    response = await client.post("court", FORVARING_IN_DAYS, **{"content-type": XML})
    assert response.status_code == 202
    body = response.json()
    assert (body["id"], body["reason"]) == (None, "body_mismatch")
    assert "FORVARING" in body["detail"]
    (record,) = client.sink.topics["in.court.v1"]
    assert (record.key, record.value) == (None, FORVARING_IN_DAYS)


async def test_a_rejection_detail_never_shows_an_identity_number(client: Client) -> None:
    too_long = SYNTHETIC_FNR.encode() + b"0"
    bad = CUSTODY.replace(b"14838821279", too_long)
    response = await client.post("police", bad, **{"content-type": JSON_TYPE})
    assert response.json()["reason"] == "schema_violation"
    assert "nationalId" in response.json()["detail"]
    assert SYNTHETIC_FNR.encode() not in response.content


async def test_an_unknown_source(client: Client) -> None:
    response = await client.post("prison", JUDGMENT, **{"content-type": XML})
    assert response.status_code == 404
    assert response.json()["reason"] == "unknown_source"
    assert not client.sink.topics


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"x-api-key": "wrong"},
        {"x-api-key": DEV_INGRESS_API_KEY + "x"},
        {"x-api-key": ""},
    ],
    ids=["none", "wrong", "longer", "empty"],
)
async def test_unauthenticated(client: Client, headers: dict[str, str]) -> None:
    response = await client.http.post(
        "/ingest/court", content=JUDGMENT, headers={"content-type": XML, **headers}
    )
    assert response.status_code == 401
    assert response.json()["reason"] == "unauthenticated"
    assert "X-API-Key" in response.headers["www-authenticate"]
    assert not client.sink.topics


async def test_each_source_has_its_own_key() -> None:
    court_key, police_key = "k" * 24 + "court", "k" * 24 + "police"
    settings = HubSettings(
        env=Environment.TEST,
        web=WebSettings(api_keys={"court": SecretStr(court_key), "police": SecretStr(police_key)}),
    )
    made = make_client(settings)
    async with made.http:
        wrong = await made.post("court", JUDGMENT, **{"content-type": XML, "x-api-key": police_key})
        right = await made.post("court", JUDGMENT, **{"content-type": XML, "x-api-key": court_key})
        dev = await made.post("koda", b"<x/>", **{"content-type": XML})
    assert (wrong.status_code, right.status_code) == (401, 202)
    assert dev.status_code == 202, "outside production an unconfigured source has the dev key"


async def test_production_has_no_dev_key() -> None:
    settings = HubSettings(
        env=Environment.PRODUCTION,
        person_key_secret=SecretStr("a production person key secret, long enough"),
        kafka=KafkaSettings.model_validate(PRODUCTION_KAFKA),
        signing=SigningSettings(passphrase=SecretStr("a production passphrase")),
    )
    made = make_client(settings)
    async with made.http:
        response = await made.post("court", JUDGMENT, **{"content-type": XML})
    assert response.status_code == 401


@pytest.mark.parametrize(
    ("source", "content_type"),
    [
        ("court", JSON_TYPE),
        ("police", XML),
        ("court", "text/plain"),
        ("court", ""),
        ("court", "application/xml; charset=iso-8859-1"),
        ("police", "application/json; charset=utf-16"),
    ],
)
async def test_unsupported_content_types(client: Client, source: str, content_type: str) -> None:
    response = await client.post(source, JUDGMENT, **{"content-type": content_type})
    assert response.status_code == 415
    assert response.json()["reason"] == "unsupported_content_type"
    assert not client.sink.topics


@pytest.mark.parametrize("content_type", ["text/xml", "Application/XML; Charset=UTF-8"])
async def test_supported_spellings(client: Client, content_type: str) -> None:
    response = await client.post("court", JUDGMENT, **{"content-type": content_type})
    assert response.status_code == 202


class Recorder:
    """A request body, sent lazily in chunks, that records how much of it was taken."""

    def __init__(self, total: int, chunk: int = 64 * 1024) -> None:
        self.total, self.chunk, self.consumed = total, chunk, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        while self.consumed < self.total:
            self.consumed += self.chunk
            yield b"x" * self.chunk


async def test_a_declared_length_over_the_cap_is_refused_before_reading(client: Client) -> None:
    limit = client.settings.max_document_bytes
    body = Recorder(limit * 50)
    response = await client.post(
        "court", body, **{"content-type": XML, "content-length": str(limit * 50)}
    )
    assert response.status_code == 413
    assert response.json()["reason"] == "too_large"
    assert body.consumed == 0, "not one byte of the body may be read"
    assert not client.sink.topics


async def test_a_streamed_body_is_cut_off_at_the_cap(client: Client) -> None:
    limit = client.settings.max_document_bytes
    body = Recorder(limit * 50)
    response = await client.post("court", body, **{"content-type": XML})
    assert response.status_code == 413
    assert response.json()["reason"] == "too_large"
    assert body.consumed <= limit + body.chunk, "reading stops at the first chunk past the cap"
    assert not client.sink.topics


async def test_a_body_of_exactly_the_cap_is_accepted(client: Client) -> None:
    limit = client.settings.max_document_bytes
    padded = JUDGMENT.replace(b"</RettskraftigDom>", b"")
    padded += b" " * (limit - len(padded) - len(b"</RettskraftigDom>")) + b"</RettskraftigDom>"
    assert len(padded) == limit
    response = await client.post("court", padded, **{"content-type": XML})
    assert response.status_code == 202
    assert response.json()["reason"] is None


async def test_over_the_rate_answers_429_with_retry_after() -> None:
    settings = HubSettings(env=Environment.TEST)
    clock, sink = Clock(), MemorySink()
    buckets = {name: TokenBucket(0.5, 2, clock=clock) for name in ("koda", "court", "police")}
    ingress = Ingress(settings, sink=sink, context=translation_context(settings), buckets=buckets)
    app = build_app(ingress_routes(ingress))
    headers = {"content-type": XML, "x-api-key": DEV_INGRESS_API_KEY}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://h") as c:
        statuses = [
            (await c.post("/ingest/court", content=JUDGMENT, headers=headers)).status_code
            for _ in range(3)
        ]
        refused = await c.post("/ingest/court", content=JUDGMENT, headers=headers)
        other_source = await c.post(
            "/ingest/police", content=CUSTODY, headers={**headers, "content-type": JSON_TYPE}
        )
        clock.now += 2.0
        later = await c.post("/ingest/court", content=JUDGMENT, headers=headers)
    assert statuses == [202, 202, 429]
    assert refused.status_code == 429
    assert refused.json()["reason"] == "rate_limited"
    assert refused.headers["retry-after"] == "2"
    assert other_source.status_code == 202, "each source has its own budget"
    assert later.status_code == 202
    assert len(sink.topics["in.court.v1"]) == 3


async def test_the_correlation_id_travels_with_the_document(client: Client) -> None:
    response = await client.post(
        "court", JUDGMENT, **{"content-type": XML, "x-correlation-id": "case-77120/a"}
    )
    assert response.status_code == 202
    (record,) = client.sink.topics["in.court.v1"]
    assert record.header(h.CORRELATION_ID) == "case-77120/a"


@pytest.mark.parametrize("given", ["has space", "x" * 129, "ø".encode()])
async def test_a_malformed_correlation_id_is_refused(client: Client, given: str | bytes) -> None:
    response = await client.http.post(
        "/ingest/court",
        content=JUDGMENT,
        headers={"content-type": XML, "x-api-key": DEV_INGRESS_API_KEY, "x-correlation-id": given},
    )
    assert response.status_code == 400
    assert response.json()["reason"] == "schema_violation"


async def test_a_broker_that_does_not_acknowledge_answers_503(client: Client) -> None:
    client.sink.fail_next = 1
    response = await client.post("court", JUDGMENT, **{"content-type": XML})
    assert response.status_code == 503
    assert response.json()["reason"] == "broker_unavailable"
    assert response.headers["retry-after"] == "5"


async def test_health_and_readiness(client: Client) -> None:
    assert (await client.http.get("/healthz")).json() == {"status": "ok"}
    assert (await client.http.get("/readyz")).status_code == 200
    client.ready[0] = False
    not_ready = await client.http.get("/readyz")
    assert not_ready.status_code == 503
    assert not_ready.json()["reason"] == "broker_unavailable"
    assert (await client.http.get("/healthz")).status_code == 200


async def test_only_post_ingests(client: Client) -> None:
    response = await client.http.get("/ingest/court")
    assert response.status_code == 405


@pytest.mark.parametrize("key", [DEV_INGRESS_API_KEY, "twenty-three characters"])
def test_production_refuses_weak_ingress_keys(key: str) -> None:
    with pytest.raises(ValueError, match="HUB_WEB__API_KEYS"):
        HubSettings(
            env=Environment.PRODUCTION,
            person_key_secret=SecretStr("a production person key secret, long enough"),
            kafka=KafkaSettings.model_validate(PRODUCTION_KAFKA),
            signing=SigningSettings(passphrase=SecretStr("a production passphrase")),
            web=WebSettings(api_keys={"court": SecretStr(key)}),
        )


async def test_a_value_past_libxml2s_message_limit_is_not_echoed(client: Client) -> None:
    # Reproduced: libxml2 cuts a message over ~64k characters, with the value's closing quote,
    # and the value went into the answer, the dead-letter reason and the logs.
    long_name = "Zqkari " + "Nordmann 128385 45619 " * 4000
    bad = JUDGMENT.replace(b"<Fornavn>", b"<Fornavn>" + long_name.encode(), 1)
    with capture_logs(processors=[merge_contextvars]) as logs:
        response = await client.post("court", bad, **{"content-type": XML})
    body = response.json()
    assert body["reason"] == "schema_violation"
    assert "Fornavn" in body["detail"]
    for value in ("Zqkari", "Nordmann", "45619"):
        assert value not in response.text
        assert value not in repr(logs)
    assert len(body["detail"]) <= 500


async def test_paths_and_headers_are_not_echoed(client: Client) -> None:
    unknown = await client.post("Zqkari-Nordmann", JUDGMENT, **{"content-type": XML})
    assert unknown.status_code == 404
    assert "Zqkari" not in unknown.text
    wrong_type = await client.post("court", JUDGMENT, **{"content-type": "text/Zqkari"})
    assert wrong_type.status_code == 415
    assert "Zqkari" not in wrong_type.text
