"""The hub's AsyncAPI 3.0 document, generated into `schemas/asyncapi.yaml`.

FastStream generates the skeleton from a broker that declares every channel of
`hub.contracts.channels` (a subscriber where the hub receives, a publisher where it sends; the
broker is never started). This module then completes what FastStream leaves out: each message's
headers (`hub.contracts.headers`), content type, Kafka key, correlation id location, and
payload. Canonical event payloads are the very JSON Schemas checked in under `schemas/json/`
(`schemas.jsonschema.render_all`), their `$defs` moved into `components/schemas`, so the two
contracts cannot disagree. Canonical event, recipient message, receipt and alert payloads are
those files as they are.

Regenerate after a change: `python -m hub.contracts.asyncapi`. A test fails while the checked-in
file is out of date, and another validates it with the AsyncAPI initiative's own parser.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Final

import yaml
from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from hub.contracts.channels import Channel, Message, channels
from hub.kafka.admin import TopicSpec
from hub.pipeline import headers as h
from hub.routing.policy import load_policy
from hub.settings import HubSettings, TopicSettings
from hub.topics import catalogue, place_topic_config, recipient_catalogue
from schemas.jsonschema import render_all

__all__ = [
    "ASYNCAPI_PATH",
    "DOCUMENT_VERSION",
    "REGENERATE_COMMAND",
    "build_document",
    "channel_key",
    "main",
    "render",
]

ASYNCAPI_PATH: Final = Path(__file__).parents[2] / "schemas" / "asyncapi.yaml"
REGENERATE_COMMAND: Final = "python -m hub.contracts.asyncapi"
# The document's own version: bump the minor for an added channel, message or optional field.
DOCUMENT_VERSION: Final = "1.1.0"
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
    policy = load_policy(settings.routing.policy_path)
    specs = channels(settings, policy)
    document: dict[str, Any] = _skeleton(specs).to_jsonable()
    document["servers"] = _servers()
    topics = {t.name: t for t in (*catalogue(settings), *recipient_catalogue(settings, policy))}
    document["channels"] = {channel_key(s): _channel(document, s, topics, settings) for s in specs}
    document["operations"] = {name: operation for s in specs for name, operation in _operations(s)}
    document["components"] = _components(specs) | {"securitySchemes": _SECURITY_SCHEMES}
    return document


def channel_key(channel: Channel) -> str:
    """The channel's name in the document: its address without the placeholders' braces."""
    return channel.address.replace("{", "").replace("}", "")


def render(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def main() -> None:
    ASYNCAPI_PATH.write_text(render(build_document()), encoding="utf-8")
    sys.stdout.write(f"wrote {ASYNCAPI_PATH}\n")


_SECURITY_SCHEMES: Final = {
    "scram": {
        "type": "scramSha512",
        "description": "SASL/SCRAM-SHA-512 over TLS; the cluster's ACLs follow the routing policy.",
    }
}


def _skeleton(specs: Iterable[Channel]) -> Any:
    broker = KafkaBroker("{bootstrap}", description="The hub's Kafka cluster.")
    for spec in specs:
        key = channel_key(spec)
        if "receive" in spec.actions:
            subscriber = broker.subscriber(key, title=key, description=spec.description)
            subscriber(_no_handler())
        else:
            broker.publisher(key, title=key, description=spec.description)
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
            "protocol": "kafka-secure",
            "description": "The deployment's Kafka cluster: TLS, and SASL/SCRAM-SHA-512 with one "
            "principal per source system and per recipient, each allowed its own topics only "
            "(`hub kafka credentials PRINCIPAL` prints a client's configuration).",
            "security": [{"$ref": "#/components/securitySchemes/scram"}],
            "variables": {
                "bootstrap": {
                    "default": "127.0.0.1:9092",
                    "description": "Bootstrap servers; the default is the local dev broker.",
                }
            },
        }
    }


def _channel(
    document: dict[str, Any],
    spec: Channel,
    topics: dict[str, TopicSpec],
    settings: HubSettings,
) -> Any:
    generated = document["channels"][channel_key(spec)]["bindings"]["kafka"]
    binding = {} if spec.parameters else {"topic": generated["topic"]}
    config = topics[spec.address].config if spec.address in topics else place_topic_config(settings)
    channel: dict[str, Any] = {
        "address": spec.address,
        "title": spec.address,
        "description": spec.description,
        "servers": [{"$ref": f"#/servers/{_SERVER}"}],
        "messages": {spec.message.name: {"$ref": f"#/components/messages/{spec.message.name}"}},
    }
    if spec.parameters:
        channel["parameters"] = {
            name: {"description": text} for name, text in spec.parameters.items()
        }
    channel["bindings"] = {
        "kafka": {
            **binding,
            "topicConfiguration": _topic_configuration(config),
            "bindingVersion": _KAFKA_BINDING,
        }
    }
    return channel


def _topic_configuration(config: Mapping[str, str]) -> dict[str, Any]:
    shown: dict[str, Any] = {"cleanup.policy": config["cleanup.policy"].split(",")}
    for name in ("retention.ms", "max.message.bytes"):
        if name in config:
            shown[name] = int(config[name])
    return shown


def _operations(spec: Channel) -> Iterator[tuple[str, dict[str, Any]]]:
    key = channel_key(spec)
    for action in spec.actions:
        yield (
            f"{action}.{key}",
            {
                "action": action,
                "channel": {"$ref": f"#/channels/{key}"},
                "summary": (
                    f"The hub consumes {spec.address}."
                    if action == "receive"
                    else f"The hub publishes to {spec.address}."
                ),
                "messages": [{"$ref": f"#/channels/{key}/messages/{spec.message.name}"}],
            },
        )


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
    if not message.published:
        return _hoisted(message.payload, schemas, message.name)
    rendered = render_all()
    for name in message.published:
        schema = json.loads(rendered[f"{name}.json"])
        _add(schemas, name, _hoisted(schema, schemas, name))
    if len(message.published) == 1:
        return {"$ref": _SCHEMAS_REF + message.published[0]}
    return {
        "oneOf": [{"$ref": _SCHEMAS_REF + name} for name in message.published],
        "discriminator": "type",
    }


def _hoisted(schema: dict[str, Any], schemas: dict[str, Any], owner: str) -> dict[str, Any]:
    """`schema` without `$schema`/`$id`, its `$defs` moved into `schemas`, refs pointed there.

    A definition keeps its name unless `schemas` already has a different one of that name
    (two documents' `Person` need not agree); then it is named `<owner>.<name>`.
    """
    definitions: dict[str, Any] = schema.get("$defs", {})
    names = {name: name for name in definitions}
    while True:  # renaming one definition can change another that refers to it
        clashes = [
            name
            for name, definition in definitions.items()
            if names[name] == name
            and name in schemas
            and schemas[name] != _repointed(definition, names)
        ]
        if not clashes:
            break
        names.update({name: f"{owner}.{name}" for name in clashes})
    for name, definition in definitions.items():
        _add(schemas, names[name], _repointed(definition, names))
    own = {k: v for k, v in schema.items() if k not in {"$schema", "$id", "$defs"}}
    return _repointed(own, names)  # type: ignore[no-any-return]  # a schema object in, one out


def _add(schemas: dict[str, Any], name: str, schema: Any) -> None:
    if name in schemas and schemas[name] != schema:
        raise ValueError(f"two different schemas are both named {name}")
    schemas[name] = schema


def _repointed(node: Any, names: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {
            key: (
                _SCHEMAS_REF + names[value.removeprefix(_DEFS_REF)]
                if key == "$ref" and isinstance(value, str) and value.startswith(_DEFS_REF)
                else _repointed(value, names)
            )
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_repointed(item, names) for item in node]
    return node


if __name__ == "__main__":
    main()
