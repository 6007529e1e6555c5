"""The AsyncAPI document: up to date, complete, true to the running hub, and valid according to
an independent validator (the AsyncAPI initiative's own parser, run with Node)."""

from __future__ import annotations

import copy
import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from hub.bootstrap import build_hub
from hub.contracts.asyncapi import ASYNCAPI_PATH, REGENERATE_COMMAND, build_document, render
from hub.pipeline import headers as h
from hub.routing.policy import load_policy
from hub.settings import HubSettings, KafkaSettings, TopicSettings
from hub.sources import sources
from hub.topics import catalogue, recipient_catalogue
from schemas.events import EVENT_CLASSES, event_type_of
from schemas.jsonschema import render_all

CONTRACT_DIR = Path(__file__).parent
VALIDATOR = CONTRACT_DIR / "validate.mjs"
INSTALL = "make contract-deps (npm ci --prefix tests/contract)"


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(ASYNCAPI_PATH.read_text(encoding="utf-8"))
    return loaded


def validate(path: Path) -> tuple[int, list[dict[str, Any]]]:
    node = shutil.which("node")
    assert node is not None, "Node.js is needed to validate the AsyncAPI document"
    assert (CONTRACT_DIR / "node_modules" / "@asyncapi" / "parser").is_dir(), f"run {INSTALL}"
    result = subprocess.run(
        [node, str(VALIDATOR), str(path)], capture_output=True, text=True, timeout=120, check=False
    )
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return result.returncode, lines


def test_the_checked_in_document_is_up_to_date() -> None:
    assert ASYNCAPI_PATH.read_text(encoding="utf-8") == render(build_document()), (
        f"schemas/asyncapi.yaml is out of date; run: {REGENERATE_COMMAND}"
    )


def test_the_document_does_not_depend_on_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUB_TOPICS__EVENTS", "somebody.elses.events")
    assert render(build_document()) == ASYNCAPI_PATH.read_text(encoding="utf-8")


def test_the_asyncapi_parser_accepts_it() -> None:
    status, (report,) = validate(ASYNCAPI_PATH)
    assert (status, report["errors"]) == (0, [])
    assert report["asyncapi"] == "3.0.0"
    assert report["warnings"] == []


def test_control_the_parser_refuses_a_broken_document(
    document: dict[str, Any], tmp_path: Path
) -> None:
    broken = copy.deepcopy(document)
    broken["operations"]["send.hub.events.v1"]["action"] = "publish"  # AsyncAPI 2 wording
    path = tmp_path / "broken.yaml"
    path.write_text(render(broken), encoding="utf-8")
    status, (report,) = validate(path)
    assert status == 1
    assert any("action" in error for error in report["errors"])


def _addresses(document: dict[str, Any], action: str | None = None) -> set[str]:
    return {
        document["channels"][op["channel"]["$ref"].rsplit("/", 1)[1]]["address"]
        for op in document["operations"].values()
        if action is None or op["action"] == action
    }


def test_every_topic_of_the_hub_is_a_channel(document: dict[str, Any]) -> None:
    settings = HubSettings.model_construct(topics=TopicSettings())
    policy = load_policy(settings.routing.policy_path)
    made = {t.name for t in (*catalogue(settings), *recipient_catalogue(settings, policy))}
    fixed = {address for address in _addresses(document) if "{" not in address}
    assert fixed == made
    templated = _addresses(document) - fixed
    assert templated == {
        "out.municipality.{municipality}.v1",
        "out.health.{region}.v1",
        "receipts.municipality.{municipality}.v1",
        "receipts.health.{region}.v1",
    }


async def test_the_hub_consumes_what_the_receive_channels_say(
    document: dict[str, Any], tmp_path: Path
) -> None:
    # Never connected: a broker without security is enough to build it.
    hub = build_hub(
        HubSettings(data_dir=tmp_path, kafka=KafkaSettings(security_protocol="PLAINTEXT"))
    )
    try:
        # A pattern subscription names its pattern where others name their topic.
        subscribed = {name for sub in hub.broker.subscribers for name in sub.topic_names}
    finally:
        # Never started: only its clients' objects to close.
        await hub.producer.stop()
        await hub.audit.stop()
    names = {name for name in subscribed if not name.startswith("^")}
    patterns = [re.compile(name) for name in subscribed if name.startswith("^")]
    received = _addresses(document, "receive")
    # State topics are read back by the hub's own followers, not by a consumer group.
    assert received - {"hub.deliveries.v1", "hub.parking.v1", "hub.consent.v1"} - names == {
        a for a in received if a.startswith("receipts.")
    }
    assert names <= received
    examples = {"{municipality}": "0301", "{region}": "helse-sor-ost"}
    for address in (a for a in received if a.startswith("receipts.")):
        topic = address
        for placeholder, value in examples.items():
            topic = topic.replace(placeholder, value)
        assert any(p.fullmatch(topic) for p in patterns), address


def test_canonical_events_are_the_published_json_schemas(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    payload = document["components"]["messages"]["CanonicalEvent"]["payload"]
    types = [event_type_of(cls) for cls in EVENT_CLASSES]
    assert [ref["$ref"].rsplit("/", 1)[1] for ref in payload["oneOf"]] == types
    rendered = render_all()
    for event_type in types:
        published = json.loads(rendered[f"{event_type}.json"])
        ours = schemas[event_type]
        assert ours["properties"]["type"]["const"] == event_type
        assert ours["required"] == published["required"]
        assert set(ours["properties"]) == set(published["properties"])


@pytest.mark.parametrize(
    "message",
    [
        "CanonicalEvent",
        "PoliceRegisterMessage",
        "NavMessage",
        "MunicipalityMessage",
        "HealthMessage",
        "Alert",
        "AuditCheckpoint",
    ],
)
def test_signed_messages_require_the_signature_header(
    document: dict[str, Any], message: str
) -> None:
    headers = document["components"]["messages"][message]["headers"]
    assert h.SIGNATURE in headers["required"]
    assert "JWS" in headers["properties"][h.SIGNATURE]["description"]


def test_dead_letter_reasons_are_the_closed_set(document: dict[str, Any]) -> None:
    from schemas.errors import Reason

    headers = document["components"]["messages"]["DeadLetterEntry"]["headers"]
    assert headers["properties"][h.DLQ_REASON]["enum"] == [r.value for r in Reason]
    assert h.DLQ_REASON in headers["required"]


def test_recipient_messages_are_the_published_schemas(document: dict[str, Any]) -> None:
    messages, schemas = document["components"]["messages"], document["components"]["schemas"]
    rendered = render_all()
    for name, schema in [
        ("NavMessage", "recipient.nav.v1"),
        ("Receipt", "recipient.receipt.v1"),
        ("Alert", "no.justishub.alert.v2"),
        ("Alert", "no.justishub.operations-alert.v1"),
    ]:
        payload = messages[name]["payload"]
        ref = {"$ref": f"#/components/schemas/{schema}"}
        assert payload == ref or ref in payload["oneOf"]
        published = json.loads(rendered[f"{schema}.json"])
        assert set(schemas[schema]["properties"]) == set(published["properties"])
    for header in (h.RECIPIENT, h.RULE_ID, h.LEGAL_BASIS, h.CANONICAL_ID):
        assert header in messages["MunicipalityMessage"]["headers"]["required"]


def test_inbound_messages_point_at_their_source_contract(document: dict[str, Any]) -> None:
    messages = document["components"]["messages"]
    repo = ASYNCAPI_PATH.parents[1]
    for source in sources(HubSettings()).values():
        message = messages[f"{source.name.capitalize()}Document"]
        assert message["contentType"] == source.content_type
        assert (repo / message["x-justishub-contract"]).is_file()
