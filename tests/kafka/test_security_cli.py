"""`hub kafka credentials`, `hub acl plan | apply` and `hub topics ensure | check`, run as a
person runs them, against the session's secured broker; and production's refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from confluent_kafka import Consumer
from pydantic import ValidationError

from hub.kafka.admin import TopicSpec, TopicState
from hub.settings import HubSettings, KafkaSettings
from hub.topics import Severity, catalogue, check_topics
from tests.e2e.harness import HubEnv
from tests.support import PRODUCTION_KAFKA, RunningKafka, hub_environment, run_hub

__all__: list[str] = []


@pytest.fixture
def env(kafka: RunningKafka, tmp_path: Path) -> dict[str, str]:
    """A hub of its own topics and data folder, acting as the admin where a command needs it."""
    hub = HubEnv(kafka.connection, tmp_path / "hub")
    values = {k: v for k, v in hub.environ().items() if k.startswith("HUB_")}
    # Each command picks its own principal; the admin's password is what the folder keeps.
    del values["HUB_KAFKA__USERNAME"], values["HUB_KAFKA__PASSWORD"]
    credentials = tmp_path / "hub" / "kafka" / "credentials"
    credentials.mkdir(parents=True)
    assert kafka.connection.password is not None
    (credentials / "admin.password").write_text(kafka.connection.password.get_secret_value())
    return hub_environment(values)


@pytest.mark.kafka
@pytest.mark.slow
def test_topics_acls_and_credentials_from_the_command_line(env: dict[str, str]) -> None:
    ensured = run_hub("topics", "ensure", env=env)
    assert ensured.returncode == 0, ensured.stderr
    assert "acls:" in ensured.stdout
    assert "credentials:" in ensured.stdout

    planned = run_hub("acl", "plan", env=env)
    assert planned.returncode == 0, planned.stderr
    assert planned.stdout.splitlines()[-1].endswith("0 to add, 0 to remove")
    assert "User:recipient.nav" in planned.stdout
    again = run_hub("acl", "apply", env=env)
    assert again.stdout == "acls: 0 added, 0 removed\n"

    checked = run_hub("topics", "check", env=env)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.endswith("topics: 0 refusals, 0 warnings\n")

    printed = run_hub("kafka", "credentials", "recipient.nav", env=env)
    assert printed.returncode == 0, printed.stderr
    config = dict(line.split("=", 1) for line in printed.stdout.splitlines())
    assert set(config) == {
        "bootstrap.servers",
        "security.protocol",
        "sasl.mechanism",
        "sasl.username",
        "sasl.password",
        "ssl.ca.location",
    }
    assert (config["security.protocol"], config["sasl.mechanism"]) == ("SASL_SSL", "SCRAM-SHA-512")
    as_json = run_hub("kafka", "credentials", "recipient.nav", "--format", "json", env=env)
    assert json.loads(as_json.stdout) == config, "the same configuration, and the same password"
    # The configuration is all an agency needs: librdkafka logs in with it and sees its topic.
    consumer = Consumer(config | {"group.id": "recipient.nav.cli-test", "log_level": 0})
    try:
        visible = consumer.list_topics(timeout=10).topics
        assert [t for t in visible if t.endswith(".out.nav.v1")], "its own topic, with the prefix"
    finally:
        consumer.close()

    stranger = run_hub("kafka", "credentials", "recipient.nobody", env=env)
    assert stranger.returncode == 2
    assert stranger.stderr.startswith("hub: error: no_credentials: recipient.nobody is no ")


@pytest.mark.kafka
def test_topics_check_refuses_a_topic_that_risks_data(env: dict[str, str]) -> None:
    assert run_hub("topics", "ensure", env=env).returncode == 0
    broken = env | {"HUB_TOPICS__AUDIT": env["HUB_TOPICS__AUDIT"] + ".never-made"}
    checked = run_hub("topics", "check", env=broken)
    assert checked.returncode == 1
    assert f"refuse: topic {broken['HUB_TOPICS__AUDIT']}: exists: it does not" in checked.stdout


def _state(spec: TopicSpec, **config: str) -> TopicState:
    return TopicState(spec.name, spec.partitions, 3, {**spec.config, **config})


def test_the_check_names_topic_and_setting_and_tells_risk_from_nuisance() -> None:
    settings = HubSettings(kafka=KafkaSettings(password="unused"))  # noqa: S106 - no broker here
    specs = catalogue(settings)
    found = {spec.name: _state(spec, **{"min.insync.replicas": "2"}) for spec in specs}
    audit, deliveries, events = "hub.audit.v1", "hub.deliveries.v1", "hub.events.v1"
    audit_spec = specs[[s.name for s in specs].index(audit)]
    found[audit] = _state(audit_spec, **{"retention.ms": "1000", "min.insync.replicas": "2"})
    found[deliveries] = TopicState(deliveries, 6, 3, {"cleanup.policy": "delete"})
    found[events] = TopicState(events, 2, 1, found[events].config)
    findings = {(f.severity, f.topic, f.setting) for f in check_topics(settings, specs, found, 3)}
    assert findings == {
        (Severity.REFUSE, audit, "retention.ms"),
        (Severity.REFUSE, deliveries, "cleanup.policy"),
        (Severity.REFUSE, deliveries, "min.insync.replicas"),
        (Severity.REFUSE, events, "replication"),
        (Severity.WARN, events, "partitions"),
    }


@pytest.mark.parametrize(
    ("kafka", "says"),
    [
        ({"security_protocol": "PLAINTEXT"}, "HUB_KAFKA__SECURITY_PROTOCOL must be SASL_SSL"),
        ({"ca_file": None}, "HUB_KAFKA__CA_FILE must name the cluster's CA certificate"),
        ({"password": None}, "HUB_KAFKA__PASSWORD_FILE (or _PASSWORD) must be set"),
        ({"password": "short"}, "HUB_KAFKA__PASSWORD must have at least 16 characters"),
        ({"username": None}, "HUB_KAFKA__USERNAME must name this process's principal"),
    ],
)
def test_production_refuses_an_unsafe_kafka_connection(kafka: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says.replace("(", r"\(").replace(")", r"\)")):
        HubSettings.model_validate(_production(kafka=PRODUCTION_KAFKA | kafka))


@pytest.mark.parametrize(
    ("secrets", "says"),
    [
        ({"person_key_secret": "s" * 40, "signing": {"passphrase": "s" * 40}}, "must differ"),
        ({"person_key_secret": "short but not the dev one"}, "at least 32 characters"),
        ({"signing": {"passphrase": "short"}}, "at least 16 characters"),
    ],
)
def test_production_refuses_weak_or_equal_secrets(secrets: dict[str, object], says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        HubSettings.model_validate(_production(**secrets))


def test_production_says_what_is_wrong_in_one_line(tmp_path: Path) -> None:
    env = hub_environment(
        {
            "HUB_ENV": "production",
            "HUB_DATA_DIR": str(tmp_path),
            "HUB_PERSON_KEY_SECRET": "p" * 40,
            "HUB_SIGNING__PASSPHRASE": "s" * 40,
            "HUB_KAFKA__SECURITY_PROTOCOL": "PLAINTEXT",
        }
    )
    result = run_hub("topics", "check", env=env)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1, result.stderr
    assert "HUB_KAFKA__SECURITY_PROTOCOL must be SASL_SSL in production" in result.stderr


def _production(**values: object) -> dict[str, object]:
    base: dict[str, object] = {
        "env": "production",
        "person_key_secret": "p" * 40,
        "signing": {"passphrase": "a production passphrase"},
        "kafka": PRODUCTION_KAFKA,
    }
    return base | values
