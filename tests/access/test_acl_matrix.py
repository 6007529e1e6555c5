"""The broker is the trust boundary: every principal by {read, write} by every class of topic, tried
with librdkafka (confluent-kafka, the agencies' client) on the real secured broker after `hub
topics ensure` (`prepare_cluster`) has applied the policy's ACLs, against a table written here
from the issue's rules, not from `hub.access`. Also: anonymous, wrong-password and PLAINTEXT
connections are refused.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import pytest
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition

from hub.cluster import credential, prepare_cluster
from hub.kafka.admin import TopicSpec, ensure_topics
from hub.settings import Environment, HubSettings
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

# The places probed: two municipalities and one health region, each its own principal.
OSLO, BERGEN, REGION = "0301", "4601", "sor-ost"

INBOUND = {"koda": "in.koda.v1", "court": "in.court.v1", "police": "in.police.v1"}
HUB_TOPICS = {
    "events": "hub.events.v1",
    "dlq": "hub.dlq.v1",
    "audit": "hub.audit.v1",
    "checkpoints": "hub.audit.checkpoints.v1",
    "deliveries": "hub.deliveries.v1",
    "alerts": "hub.alerts.v1",
    "parking": "hub.parking.v1",
    "dlq_state": "hub.dlq.state.v1",
    "consent": "hub.consent.v1",
}
RECIPIENTS = {
    "correctional": ("out.correctional.v1", "receipts.correctional.v1"),
    "person": ("out.person.v1", "receipts.person.v1"),
    "police-register": ("out.police-register.v1", "receipts.police-register.v1"),
    "nav": ("out.nav.v1", "receipts.nav.v1"),
    f"municipality.{OSLO}": (f"out.municipality.{OSLO}.v1", f"receipts.municipality.{OSLO}.v1"),
    f"municipality.{BERGEN}": (
        f"out.municipality.{BERGEN}.v1",
        f"receipts.municipality.{BERGEN}.v1",
    ),
    f"health.{REGION}": (f"out.health.{REGION}.v1", f"receipts.health.{REGION}.v1"),
}
OUTS = {out for out, _ in RECIPIENTS.values()}
RECEIPTS = {receipts for _, receipts in RECIPIENTS.values()}
ALL_TOPICS = sorted({*INBOUND.values(), *HUB_TOPICS.values(), *OUTS, *RECEIPTS})


def expected(principal: str) -> tuple[set[str], set[str]]:
    """(may read, may write) for `principal`, from the issue's table of principals."""
    h = HUB_TOPICS
    if principal == "hub":
        reads = {*INBOUND.values(), *RECEIPTS, *HUB_TOPICS.values()}
        writes = {*INBOUND.values(), *OUTS, *RECEIPTS, *HUB_TOPICS.values()}
        return reads, writes
    if principal == "operator":
        reads = {
            h[k]
            for k in ("events", "dlq", "dlq_state", "audit", "checkpoints", "alerts", "consent")
        }
        writes = {*INBOUND.values(), *RECEIPTS} | {
            h[k] for k in ("events", "dlq_state", "audit", "checkpoints")
        }
        return reads, writes
    if principal.startswith("source."):
        return set(), {INBOUND[principal.removeprefix("source.")]}
    out, receipts = RECIPIENTS[principal.removeprefix("recipient.")]
    return {out}, {receipts}


PRINCIPALS = [
    "hub",
    "operator",
    *(f"source.{name}" for name in INBOUND),
    *(f"recipient.{name}" for name in RECIPIENTS),
]


@pytest.fixture(scope="module")
def prepared(kafka: RunningKafka, tmp_path_factory: pytest.TempPathFactory) -> HubSettings:
    settings = HubSettings.model_validate(
        {
            "env": Environment.TEST,
            "data_dir": str(tmp_path_factory.mktemp("acl")),
            "kafka": kafka.values(),
        }
    )
    prepare_cluster(settings)
    # Per-place topics are made by the hub on first use; here, before it.
    places = [TopicSpec(t, 1) for t in (*OUTS, *RECEIPTS)]
    asyncio.run(ensure_topics(kafka.connection, places, timeout=30))
    for place in (f"municipality.{OSLO}", f"municipality.{BERGEN}"):
        credential(settings, f"recipient.{place}")
    _wait_for_acls(settings)
    return settings


def test_every_principal_reads_and_writes_exactly_what_the_table_allows(
    prepared: HubSettings,
) -> None:
    mismatches: list[str] = []
    for principal in PRINCIPALS:
        config = credential(prepared, principal).connection.properties()
        may_read, may_write = expected(principal)
        wrote = _writable(config, ALL_TOPICS)
        read = _readable(config, ALL_TOPICS)
        for topic in ALL_TOPICS:
            for action, allowed, did in (
                ("write", topic in may_write, topic in wrote),
                ("read", topic in may_read, topic in read),
            ):
                if allowed != did:
                    verdict = "allowed" if did else "denied"
                    mismatches.append(f"{principal} {action} {topic}: {verdict}")
    assert mismatches == [], "\n".join(mismatches)


def test_a_recipient_consumes_only_in_groups_named_after_itself(prepared: HubSettings) -> None:
    config = credential(prepared, "recipient.nav").connection.properties()
    out = "out.nav.v1"
    assert _joins(config, "recipient.nav.app", out)
    assert _joins(config, "recipient.nav", out)
    assert not _joins(config, "recipient.navx", out)
    assert not _joins(config, "recipient.police-register.app", out)
    assert not _joins(config, "justishub.ingest.koda", out)


@pytest.mark.parametrize(
    "change",
    [
        {"sasl.password": "not-the-password"},
        {"sasl.username": "nobody", "sasl.password": "whatever"},
    ],
    ids=["wrong password", "unknown user"],
)
def test_a_wrong_login_is_refused(prepared: HubSettings, change: dict[str, str]) -> None:
    config = credential(prepared, "recipient.nav").connection.properties() | change
    assert _refused(config)


def test_plaintext_and_anonymous_connections_are_refused(prepared: HubSettings) -> None:
    config = credential(prepared, "recipient.nav").connection.properties()
    plain = {"bootstrap.servers": config["bootstrap.servers"], "security.protocol": "PLAINTEXT"}
    assert _refused(plain)
    # TLS without SASL: the anonymous principal, which the listener does not take.
    tls_only = plain | {"security.protocol": "SSL", "ssl.ca.location": config["ssl.ca.location"]}
    assert _refused(tls_only)


def test_the_controller_listener_wants_a_client_certificate(
    kafka: RunningKafka, prepared: HubSettings
) -> None:
    config = credential(prepared, "recipient.nav").connection.properties()
    # Even the admin's password is no way in through the KRaft listener.
    controller = config | {"bootstrap.servers": f"127.0.0.1:{kafka.controller_port}"}
    assert _refused(controller)


# --- probes -------------------------------------------------------------------------------


def _writable(config: dict[str, str], topics: list[str]) -> set[str]:
    delivered: set[str] = set()

    def report(error: KafkaError | None, message: Any) -> None:
        if error is None:
            delivered.add(message.topic())

    producer = Producer(
        config | {"message.timeout.ms": 10_000, "log_level": 0, "error_cb": lambda _: None}
    )
    for topic in topics:
        # With a key: compacted topics refuse records without one, whoever writes them.
        producer.produce(topic, b"acl matrix probe", key=b"probe", callback=report)
    producer.flush(30)
    return delivered


def _readable(config: dict[str, str], topics: list[str]) -> set[str]:
    readable: set[str] = set()
    with _consumer(config, f"probe-{uuid.uuid4().hex[:8]}") as consumer:
        visible = set(consumer.list_topics(timeout=10).topics)
        # A topic the principal cannot describe stays silent after assign(): not readable.
        pending = {t for t in topics if t in visible}
        consumer.assign([TopicPartition(t, 0, -2) for t in sorted(pending)])
        deadline = time.monotonic() + 20
        while pending and time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            topic, error = message.topic(), message.error()
            if error is None or error.code() == KafkaError._PARTITION_EOF:
                readable.add(topic)
            pending.discard(topic)
    return readable


def _joins(config: dict[str, str], group: str, topic: str) -> bool:
    """Whether `group` may consume `topic`: it joins and reads, or the broker refuses the group."""
    deadline = time.monotonic() + 30
    with _consumer(config | {"auto.offset.reset": "earliest"}, group) as consumer:
        consumer.subscribe([topic])
        while time.monotonic() < deadline:
            message = consumer.poll(0.5)
            if message is None:
                continue
            error = message.error()
            return error is None or error.code() != KafkaError.GROUP_AUTHORIZATION_FAILED
    raise AssertionError(f"group {group} neither read {topic} nor was refused within 30 s")


def _refused(config: dict[str, str]) -> bool:
    errors: list[KafkaError] = []
    consumer = Consumer(
        config
        | {"group.id": "refused-probe", "log_level": 0, "error_cb": errors.append}
        | {"socket.timeout.ms": 5_000}
    )
    try:
        consumer.list_topics(timeout=8)
    except KafkaException:
        return True
    finally:
        consumer.close()
    return False


class _consumer:  # noqa: N801 -- reads as the context manager it is
    def __init__(self, config: dict[str, Any], group: str) -> None:
        self._consumer = Consumer(
            {"error_cb": lambda _: None}
            | config
            | {
                "group.id": group,
                "enable.partition.eof": True,
                "enable.auto.commit": False,
                "log_level": 0,
            }
        )

    def __enter__(self) -> Consumer:
        return self._consumer

    def __exit__(self, *exc: object) -> None:
        self._consumer.close()


def _wait_for_acls(settings: HubSettings) -> None:
    # ACLs reach every broker's cache a moment after they are made: wait until the last
    # principal made can see its own topic.
    config = credential(settings, f"recipient.municipality.{BERGEN}").connection.properties()
    topic = f"out.municipality.{BERGEN}.v1"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with _consumer(config, "acl-wait") as consumer:
            if topic in consumer.list_topics(timeout=5).topics:
                return
        time.sleep(0.5)
    raise AssertionError("the ACLs did not take effect within 30 s")
