"""The hub's AsyncAPI 3.0 document, generated into `schemas/asyncapi.yaml`.

FastStream generates the skeleton from a broker that declares every channel of
`hub.contracts.channels` (a subscriber where the hub receives, a publisher where it sends; the
broker is never started). This module then completes what FastStream leaves out: each message's
headers (`hub.contracts.headers`), content type, Kafka key, correlation id location, and
payload. Canonical event payloads are the very JSON Schemas checked in under `schemas/json/`
(`schemas.jsonschema.render_all`), their `$defs` moved into `components/schemas`, so the two
contracts cannot disagree.

Regenerate after a change: `python -m hub.contracts.asyncapi`. A test fails while the checked-in
file is out of date, and another validates it with the AsyncAPI initiative's own parser.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any, Final

import yaml
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from hub.contracts.channels import Channel, Message, channels
from hub.kafka.admin import TopicSpec
from hub.pipeline import headers as h
from hub.settings import HubSettings, TopicSettings
from hub.topics import catalogue
from schemas.jsonschema import render_all

__all__ = ["ASYNCAPI_PATH", "REGENERATE_COMMAND", "build_document", "main", "render"]

ASYNCAPI_PATH: Final = Path(__file__).parents[2] / "schemas" / "asyncapi.yaml"
REGENERATE_COMMAND: Final = "python -m hub.contracts.asyncapi"
# The document's own version: bump the minor for an added channel, message or optional field.
DOCUMENT_VERSION: Final = "1.0.0"
_KAFKA_BINDING: Final = "0.4.0"
_SERVER: Final = "kafka"
_DEFS_REF: Final = "#/$defs/"
_SCHEMAS_REF: Final = "#/components/schemas/"
_DESCRIPTION: Final = (
    "justishub carries events between the courts, the police and the correctional service and "
    "the agencies that must act on them. Publishers put source documents on the inbound topics "
    "(or POST them to the hub's HTTP ingress); the hub translates them into signed canonical "
    "events. Every message the hub publishes carries its signature in the `hub-signature` "
    "header. Compatibility: a new version of an event type may only add optional fields; any "
    "other change is a new type (`.v2`) and, for a topic's records, a new topic (`.v2`)."
)


def build_document(settings: HubSettings | None = None) -> dict[str, Any]:
    """The AsyncAPI document of a hub with `settings` (default: the published topic names)."""
    settings = settings or HubSettings.model_construct(topics=TopicSettings())
    specs = channels(settings)
    document: dict[str, Any] = _skeleton(specs).to_jsonable()
    document["servers"] = _servers()
    topics = {spec.name: spec for spec in catalogue(settings)}
    document["channels"] = {s.address: _channel(document, s, topics) for s in specs}
    document["operations"] = dict(_operation(s) for s in specs)
    document["components"] = _components(specs)
    return document


def render(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def main() -> None:
    ASYNCAPI_PATH.write_text(render(build_document()), encoding="utf-8")
    sys.stdout.write(f"wrote {ASYNCAPI_PATH}\n")


def _skeleton(specs: Iterable[Channel]) -> Any:
    broker = KafkaBroker("{bootstrap}", description="The hub's Kafka cluster.")
    for spec in specs:
        if spec.action == "receive":
            subscriber = broker.subscriber(
                spec.address, title=spec.address, description=spec.description
            )
            subscriber(_no_handler())
        else:
            broker.publisher(spec.address, title=spec.address, description=spec.description)
    specification = AsyncAPI(
        broker,
        title="justishub",
        version=DOCUMENT_VERSION,
        description=_DESCRIPTION,
        schema_version="3.0.0",
    )
    return specification.to_specification()


def _no_handler() -> Callable[[bytes], Awaitable[None]]:
    # The document describes the hub's real stages; this broker only declares their channels.
    async def document(body: bytes) -> None:
        del body

    return document


def _servers() -> dict[str, Any]:
    return {
        _SERVER: {
            "host": "{bootstrap}",
            "protocol": "kafka",
            "description": "The deployment's Kafka cluster (TLS and authentication are set by "
            "the deployment).",
            "variables": {
                "bootstrap": {
                    "default": "127.0.0.1:9092",
                    "description": "Bootstrap servers; the default is the local dev broker.",
                }
            },
        }
    }


def _channel(document: dict[str, Any], spec: Channel, topics: dict[str, TopicSpec]) -> Any:
    generated = document["channels"][spec.address]
    return {
        "address": spec.address,
        "title": spec.address,
        "description": spec.description,
        "servers": [{"$ref": f"#/servers/{_SERVER}"}],
        "messages": {spec.message.name: {"$ref": f"#/components/messages/{spec.message.name}"}},
        "bindings": {
            "kafka": {
                **generated["bindings"]["kafka"],
                "topicConfiguration": _topic_configuration(topics[spec.address]),
                "bindingVersion": _KAFKA_BINDING,
            }
        },
    }


def _topic_configuration(topic: TopicSpec) -> dict[str, Any]:
    config = topic.config
    shown: dict[str, Any] = {"cleanup.policy": config["cleanup.policy"].split(",")}
    for name in ("retention.ms", "max.message.bytes"):
        if name in config:
            shown[name] = int(config[name])
    return shown


def _operation(spec: Channel) -> tuple[str, dict[str, Any]]:
    name = f"{spec.action}.{spec.address}"
    return name, {
        "action": spec.action,
        "channel": {"$ref": f"#/channels/{spec.address}"},
        "summary": (
            f"The hub's ingest stage consumes {spec.address}."
            if spec.action == "receive"
            else f"The hub publishes to {spec.address}."
        ),
        "messages": [{"$ref": f"#/channels/{spec.address}/messages/{spec.message.name}"}],
    }


def _components(specs: Iterable[Channel]) -> dict[str, Any]:
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for spec in specs:
        messages[spec.message.name] = _message(spec.message, schemas)
    return {"schemas": dict(sorted(schemas.items())), "messages": messages}


def _message(message: Message, schemas: dict[str, Any]) -> dict[str, Any]:
    rendered: dict[str, Any] = {
        "name": message.name,
        "title": message.title,
        "summary": message.summary,
        "contentType": message.content_type,
        "headers": message.headers,
        "payload": _payload(message, schemas),
    }
    if h.CORRELATION_ID in message.headers["properties"]:
        rendered["correlationId"] = {"location": f"$message.header#/{h.CORRELATION_ID}"}
    if message.key is not None:
        rendered["bindings"] = {"kafka": {"key": message.key, "bindingVersion": _KAFKA_BINDING}}
    if message.contract is not None:
        rendered["x-justishub-contract"] = message.contract
    return rendered


def _payload(message: Message, schemas: dict[str, Any]) -> dict[str, Any]:
    if not message.event_types:
        return _hoisted(message.payload, schemas)
    published = render_all()
    for event_type in message.event_types:
        schema = json.loads(published[f"{event_type}.json"])
        _add(schemas, event_type, _hoisted(schema, schemas))
    return {
        "oneOf": [{"$ref": _SCHEMAS_REF + t} for t in message.event_types],
        "discriminator": "type",
    }


def _hoisted(schema: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    """`schema` without `$schema`/`$id`, its `$defs` moved into `schemas`, refs pointed there."""
    own = {k: v for k, v in schema.items() if k not in {"$schema", "$id", "$defs"}}
    for name, definition in schema.get("$defs", {}).items():
        _add(schemas, name, _repointed(definition))
    return _repointed(own)  # type: ignore[no-any-return]  # a schema object in, one out


def _add(schemas: dict[str, Any], name: str, schema: Any) -> None:
    if name in schemas and schemas[name] != schema:
        raise ValueError(f"two different schemas are both named {name}")
    schemas[name] = schema


def _repointed(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                _SCHEMAS_REF + value.removeprefix(_DEFS_REF)
                if key == "$ref" and isinstance(value, str)
                else _repointed(value)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_repointed(item) for item in node]
    return node


if __name__ == "__main__":
    main()
