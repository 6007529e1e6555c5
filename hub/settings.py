"""The hub's one settings object, built once at start-up and passed down.

Every value can be set in the environment with the `HUB_` prefix; nested groups use a double
underscore (`HUB_KAFKA__BOOTSTRAP_SERVERS`). Nothing else in the project reads the environment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StringConstraints,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from hub.kafka.connection import KafkaConnection, SecurityProtocol
from schemas.errors import PermanentError, Reason

__all__ = [
    "DEV_CONSOLE_PASSWORD",
    "DEV_CONSOLE_USER",
    "DEV_INGRESS_API_KEY",
    "AuditSettings",
    "ConsoleSettings",
    "DeadLetterSettings",
    "Environment",
    "HubSettings",
    "KafkaSettings",
    "LocalKafkaSettings",
    "MetricsSettings",
    "RoutingSettings",
    "SigningSettings",
    "TopicSettings",
    "WebSettings",
    "child_environment",
]

# The checkout's `deploy/` folder: the bundled routing policy and reference data live there.
_DEPLOY = Path(__file__).resolve().parents[1] / "deploy"

# Only for dev and test: production refuses to start with it (see `_production_has_secrets`).
_DEV_PERSON_KEY_SECRET = "justishub-dev-person-key-not-for-production"  # noqa: S105 - a published dev value; production refuses to start with it
# Outside production, the HTTP ingress's API key of every source not given one; production
# refuses it.
DEV_INGRESS_API_KEY = "justishub-dev-ingress-key"
_DEV_SIGNING_PASSPHRASE = "justishub-dev-signing-passphrase"  # noqa: S105 - a published dev value; production refuses to start with it
# Outside production, the console's one login when no users are configured (`make run` prints
# it); production has no dev login and refuses a user whose password is this one.
DEV_CONSOLE_USER = "ops"
DEV_CONSOLE_PASSWORD = "justishub-dev-console"  # noqa: S105 - a published dev value; production refuses it

# A Kafka principal's name (`hub`, `source.koda`, `recipient.municipality.0301`).
PRINCIPAL_PATTERN = r"^[a-z][a-z0-9.-]{0,99}$"


# Who is at the keyboard: printable ASCII without spaces, as the audit trail records it.
Operator = Annotated[str, StringConstraints(pattern=r"^[\x21-\x7e]{1,64}$")]


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PRODUCTION = "production"


class _Group(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class KafkaSettings(_Group):
    """How the hub's clients reach the broker."""

    bootstrap_servers: str = "127.0.0.1:9092"
    client_id: str = "justishub"
    # Consumer groups are `<group_prefix>.<stage>[.<input>]`: one hub deployment, one prefix.
    group_prefix: str = "justishub"
    request_timeout_ms: int = Field(default=30_000, ge=1_000)
    # Records a stage takes from the broker at once; the whole batch's outputs are acknowledged
    # before its offsets are committed, so this bounds both throughput and redelivery after a crash.
    max_batch_records: int = Field(default=500, ge=1, le=10_000)
    batch_timeout_ms: int = Field(default=100, ge=1)
    linger_ms: int = Field(default=5, ge=0)
    partitions: int = Field(default=6, ge=1)
    # Inbound and dead-letter topics take records this large, so that an oversized document
    # still reaches the hub and is dead-lettered as `too_large` instead of vanishing at the
    # publisher. The document limit itself is `max_document_bytes`.
    max_record_bytes: int = Field(default=8 * 1024 * 1024, ge=1024 * 1024)
    # Replicas of every topic the hub makes. None: as many as the cluster has brokers, up to
    # 3 (1 on the local single node, 3 on the local cluster of three and in production).
    replication_factor: int | None = Field(default=None, ge=1)
    # min.insync.replicas the hub expects of its topics; None: 2 when replicated 3 or more
    # times, else 1. Set on the topics the hub makes only when the replication factor is set.
    min_insync_replicas: int | None = Field(default=None, ge=1)

    # Security: TLS with SASL/SCRAM-SHA-512 unless a test broker says otherwise on purpose.
    security_protocol: SecurityProtocol = SecurityProtocol.SASL_SSL
    # The principal this process connects as. Unset, each command uses its own: `hub run` the
    # hub's, `hub dlq` and `hub audit` the operator's, `hub topics` and `hub acl` the admin's.
    username: str | None = Field(default=None, pattern=PRINCIPAL_PATTERN)
    password: SecretStr | None = None
    # A file holding the password (a mounted secret); read once, at start-up.
    password_file: Path | None = None
    # The CA that signed the brokers' certificates. Default outside production: the local
    # cluster's, `<data_dir>/kafka/tls/ca.pem`.
    ca_file: Path | None = None

    @model_validator(mode="after")
    def _one_password(self) -> Self:
        if self.password is not None and self.password_file is not None:
            raise ValueError("set password or password_file, not both")
        return self

    def needed_replicas(self, brokers: int) -> int:
        """How many replicas each topic needs on a cluster of `brokers`."""
        return self.replication_factor or min(3, brokers)

    def needed_min_isr(self, replicas: int) -> int:
        if self.min_insync_replicas is not None:
            return self.min_insync_replicas
        return 2 if replicas >= 3 else 1


class LocalKafkaSettings(_Group):
    """The local cluster `hub kafka up` runs on this machine (never in production).

    Node n (from 1) listens on `port + 2(n-1)` for clients and `controller_port + 2(n-1)` for
    the KRaft quorum; the ports are fixed when the cluster is first formatted."""

    # 1, or 3 for replication and failover (a quorum of three controllers).
    brokers: Literal[1, 3] = 1
    port: int = Field(default=9092, ge=1, le=65_535)
    controller_port: int = Field(default=9093, ge=1, le=65_535)
    # The JVM's -Xmx, checked here so that a typo is a settings error and not a JVM that
    # refuses to start.
    heap: str = Field(default="1g", pattern="^[1-9][0-9]*[kKmMgG]?$")
    start_timeout_s: float = Field(default=90.0, gt=0)

    @model_validator(mode="after")
    def _ports_differ(self) -> Self:
        if self.port == self.controller_port:
            raise ValueError("port and controller_port must differ")
        return self


class TopicSettings(_Group):
    """Topic names. Versioned: a breaking change to a topic's records is a new topic."""

    in_koda: str = "in.koda.v1"
    in_court: str = "in.court.v1"
    in_police: str = "in.police.v1"
    events: str = "hub.events.v1"
    dlq: str = "hub.dlq.v1"
    # The audit trail (kept forever) and the signed checkpoints that anchor it from outside.
    audit: str = "hub.audit.v1"
    audit_checkpoints: str = "hub.audit.checkpoints.v1"

    # Which recipient received which message: the state corrections and receipts need
    # (compacted, keyed by recipient message id).
    deliveries: str = "hub.deliveries.v1"
    # Each person's consent as it stands (compacted, keyed by person key): what routing asks.
    consent: str = "hub.consent.v1"
    # Alerts for operators (compacted, keyed by alert id: the last record is the alert's state).
    alerts: str = "hub.alerts.v1"
    # Per-person order: who is blocked behind which dead-letter entry, per consumer group
    # (compacted, keyed by `group|person key`; a tombstone releases).
    parking: str = "hub.parking.v1"
    # What operators did with each dead-letter entry: replayed, discarded (compacted, keyed by
    # entry id).
    dlq_state: str = "hub.dlq.state.v1"
    # Put before every recipient topic the policy names (`out.*`, `receipts.*`): tests and
    # side-by-side deployments keep their recipient topics apart with it.
    recipient_prefix: str = Field(default="", pattern=r"^([a-z0-9-]+\.)?$")


class RoutingSettings(_Group):
    """The routing policy and the reference data it routes by. Read once, at start-up."""

    policy_path: Path = _DEPLOY / "policy" / "routing.toml"
    municipalities_path: Path = _DEPLOY / "reference" / "municipalities.csv"
    units_path: Path = _DEPLOY / "reference" / "units.csv"
    # Per-municipality and per-region topics are made on first use, with this many partitions:
    # one recipient's traffic is small, and one partition keeps it in one order.
    place_topic_partitions: int = Field(default=1, ge=1)
    # How often the hub looks for notices whose receipt is overdue.
    deadline_check_every_s: float = Field(default=30.0, gt=0)
    # How often the hub writes again a delivery entry an older revision overwrote on the topic
    # (`hub.recipients.overwrites`); well within the deliveries topic's compaction lag.
    overwrite_repair_every_s: float = Field(default=5.0, gt=0)
    # How soon a receipts topic made on first use is consumed (the consumers' metadata refresh).
    topic_discovery_ms: int = Field(default=5_000, ge=500)


class SigningSettings(_Group):
    """The hub's signing keys (see `hub keys --help`)."""

    # Default: `<data_dir>/keys`.
    key_dir: Path | None = None
    # Encrypts every private key file at rest.
    passphrase: SecretStr = SecretStr(_DEV_SIGNING_PASSPHRASE)
    # Outside production, `hub run` makes a first key itself so a fresh clone just runs.
    generate_dev_key: bool = True


class AuditSettings(_Group):
    """The audit trail: how often each writer anchors its chain, and the queryable projection."""

    # A signed checkpoint after at most this many records, or this many seconds, of a chain.
    checkpoint_every_records: int = Field(default=1_000, ge=1, le=1_000_000)
    checkpoint_every_s: float = Field(default=30.0, gt=0)
    # An idle writer still writes a checkpoint this often, so a verifier sees it is alive.
    heartbeat_every_s: float = Field(default=300.0, gt=0)
    # A writer without a closing checkpoint counts as live (its open tail is fine) while its last
    # record is at most this old; after that, its open tail is a failure of `hub audit verify`.
    live_grace_s: float = Field(default=900.0, gt=0)
    # How long the trail is kept (None: forever). Each writer records it in its start record, so
    # the verifier tells records gone by retention from deleted ones. The audit topics'
    # `retention.ms` must not be shorter.
    retention_days: int | None = Field(default=None, ge=1)
    # Default: `<data_dir>/audit.sqlite`.
    projection_path: Path | None = None
    # The running hub keeps the projection current; off for a hub that only writes.
    project: bool = True
    # How often the running hub checks the whole trail (`hub audit verify`) for its
    # `hub_audit_*` metrics; off by default: each check reads the whole trail.
    verify_every_s: float | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _grace_outlasts_the_heartbeat(self) -> Self:
        if self.live_grace_s <= max(self.heartbeat_every_s, self.checkpoint_every_s):
            raise ValueError(
                "live_grace_s must be longer than heartbeat_every_s and checkpoint_every_s, "
                "or a live writer looks dead between two checkpoints"
            )
        return self


class WebSettings(_Group):
    """The hub's HTTP server: the ingress for publishers without Kafka, health checks.

    Plain HTTP on loopback by default: TLS belongs to the deployment (a reverse proxy or load
    balancer in front), which also decides who may reach the port.
    """

    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65_535)
    # Per source system: the key its publisher sends in the `X-API-Key` header. In production
    # a source without a key cannot publish over HTTP; elsewhere it gets DEV_INGRESS_API_KEY.
    api_keys: dict[str, SecretStr] = Field(default_factory=dict)
    # Documents per second each source may publish over HTTP, and how many at once above it.
    rate_per_s: float = Field(default=50.0, gt=0)
    burst: int = Field(default=100, ge=1)
    # How long /readyz waits for the broker before it says "not ready".
    ready_timeout_s: float = Field(default=2.0, gt=0)


class ConsoleSettings(_Group):
    """The operations console, served by the same HTTP server as the ingress.

    Sessions live in the hub process's memory: a restart logs everyone out, and a deployment
    of several hubs behind one address needs sticky sessions.
    """

    enabled: bool = True
    # Username → password hash, made with `hub console hash-password` (Argon2id, PHC string).
    # Outside production, with none given, DEV_CONSOLE_USER logs in with DEV_CONSOLE_PASSWORD.
    users: dict[Operator, SecretStr] = Field(default_factory=dict)
    # A session ends this long after the last request, and at the latest this long after login.
    idle_timeout_s: float = Field(default=15 * 60, gt=0)
    absolute_timeout_s: float = Field(default=8 * 60 * 60, gt=0)
    # Cookies only over HTTPS (TLS ends at the proxy in front). Default: on in production.
    secure_cookies: bool | None = None
    # Login attempts per client address and per username: this many a minute, `login_burst` at once.
    login_per_minute: float = Field(default=10.0, gt=0)
    login_burst: int = Field(default=5, ge=1)


class MetricsSettings(_Group):
    """Prometheus metrics at `/metrics`, for a logged-in operator or a scraper with the token."""

    # `Authorization: Bearer <token>`; without one, only logged-in operators see the metrics.
    token: SecretStr | None = None
    # How often the running hub asks the broker how far behind each consumer group is.
    lag_every_s: float = Field(default=15.0, gt=0)
    # How often the running hub counts the open dead-letter entries (`hub_dead_letters_open`);
    # off by default: each count reads the dead-letter topic and its state topic.
    dead_letters_every_s: float | None = Field(default=None, gt=0)


class DeadLetterSettings(_Group):
    """How long dead-letter entries are kept, and how early operators hear that one that holds
    people back is about to go (`HUB_DLQ__*`)."""

    # The dead-letter topic's retention: operators must have time to fix a cause and replay.
    # Applied when the topic is created (`hub topics ensure`, or the hub's start).
    retention_days: int = Field(default=90, ge=1)
    # A `dead_letter_expiring` alert is raised this long before retention may delete an entry
    # that people's later inputs are parked behind.
    warn_before_days: float = Field(default=14.0, gt=0)
    # How often the hub looks for such entries.
    check_every_s: float = Field(default=3600.0, gt=0)

    @model_validator(mode="after")
    def _warns_within_retention(self) -> Self:
        if self.warn_before_days >= self.retention_days:
            raise ValueError("warn_before_days must be shorter than retention_days")
        return self


class HubSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HUB_",
        env_nested_delimiter="__",
        extra="forbid",
        frozen=True,
    )

    env: Environment = Environment.DEV
    data_dir: Path = Path(".hub")
    log_format: str | None = Field(default=None, pattern="^(console|json)$")
    log_level: str = Field(default="INFO", pattern="^(DEBUG|INFO|WARNING|ERROR)$")

    kafka: KafkaSettings = KafkaSettings()
    local_kafka: LocalKafkaSettings = LocalKafkaSettings()
    topics: TopicSettings = TopicSettings()
    routing: RoutingSettings = RoutingSettings()
    web: WebSettings = WebSettings()
    signing: SigningSettings = SigningSettings()
    audit: AuditSettings = AuditSettings()
    console: ConsoleSettings = ConsoleSettings()
    metrics: MetricsSettings = MetricsSettings()
    dlq: DeadLetterSettings = DeadLetterSettings()

    # Key of the HMAC that turns an identity number into the pseudonymous person key.
    person_key_secret: SecretStr = SecretStr(_DEV_PERSON_KEY_SECRET)
    # Synthetic test identities (month + 40 / + 80): allowed unless production says otherwise.
    allow_test_identities: bool | None = None
    max_document_bytes: int = Field(default=1024 * 1024, ge=1_024)
    # How long each part of a stop may wait for the broker before the hub stops without it.
    stop_timeout_s: float = Field(default=10.0, gt=0)
    # Who is at the keyboard: operator actions (replay, discard, reveal) are refused without it
    # and put it on the audit trail. The CLI's --operator overrides it.
    operator: Operator | None = None

    @model_validator(mode="after")
    def _production_has_secrets(self) -> Self:
        if self.env is not Environment.PRODUCTION:
            return self
        if self.person_key_secret.get_secret_value() == _DEV_PERSON_KEY_SECRET:
            raise ValueError("HUB_PERSON_KEY_SECRET must be set in production")
        for source, key in self.web.api_keys.items():
            if key.get_secret_value() == DEV_INGRESS_API_KEY or len(key) < 24:
                raise ValueError(
                    f"HUB_WEB__API_KEYS: the key of {source} must have at least 24 characters "
                    "in production, and not be the dev key"
                )
        if self.signing.passphrase.get_secret_value() == _DEV_SIGNING_PASSPHRASE:
            raise ValueError("HUB_SIGNING__PASSPHRASE must be set in production")
        token = self.metrics.token
        if token is not None and len(token) < 24:
            raise ValueError("HUB_METRICS__TOKEN must have at least 24 characters in production")
        _no_dev_password(self.console.users)
        _secure_kafka(self.kafka)
        if self.person_key_secret.get_secret_value() == self.signing.passphrase.get_secret_value():
            raise ValueError(
                "HUB_PERSON_KEY_SECRET and HUB_SIGNING__PASSPHRASE must differ in production"
            )
        if len(self.person_key_secret) < 32:
            raise ValueError("HUB_PERSON_KEY_SECRET must have at least 32 characters in production")
        if len(self.signing.passphrase) < 16:
            raise ValueError(
                "HUB_SIGNING__PASSPHRASE must have at least 16 characters in production"
            )
        return self

    @property
    def local_kafka_dir(self) -> Path:
        """Where `hub kafka up` keeps the local cluster: nodes, certificates, credentials."""
        return self.data_dir / "kafka"

    def kafka_connection(self) -> KafkaConnection:
        """How this process reaches the cluster, as `kafka.username` (see `with_principal`).

        Outside production a principal without a configured password uses the one `hub kafka
        up` or `hub kafka credentials` stored for it under the local cluster's folder."""
        kafka = self.kafka
        username = kafka.username or "hub"
        ca_file = kafka.ca_file or self._local_ca()
        # Absolute: the path goes into client configurations handed to others.
        ca_file = ca_file.resolve() if ca_file is not None else None
        if ca_file is not None and not ca_file.is_file():
            raise PermanentError(
                f"the cluster's CA certificate {ca_file} is missing: set HUB_KAFKA__CA_FILE, or "
                "for the local cluster run `hub kafka up`",
                reason=Reason.NO_CREDENTIALS,
            )
        return KafkaConnection(
            bootstrap_servers=kafka.bootstrap_servers,
            protocol=kafka.security_protocol,
            username=username,
            password=self._kafka_password(username),
            ca_file=ca_file,
        )

    def with_principal(self, principal: str) -> HubSettings:
        """These settings for a command that acts as `principal`, unless one was configured."""
        if self.kafka.username is not None:
            return self
        kafka = self.kafka.model_copy(update={"username": principal})
        return self.model_copy(update={"kafka": kafka})

    def _kafka_password(self, username: str) -> SecretStr | None:
        kafka = self.kafka
        if kafka.security_protocol is SecurityProtocol.PLAINTEXT:
            return None
        if kafka.password is not None:
            return kafka.password
        if kafka.password_file is not None:
            return SecretStr(_read_secret(kafka.password_file, "HUB_KAFKA__PASSWORD_FILE"))
        stored = self.local_kafka_dir / "credentials" / f"{username}.password"
        if self.env is not Environment.PRODUCTION and stored.is_file():
            return SecretStr(_read_secret(stored, f"the local password of {username}"))
        raise PermanentError(
            f"no Kafka password for principal {username}: set HUB_KAFKA__PASSWORD_FILE, or for "
            f"the local cluster run `hub kafka credentials {username}`",
            reason=Reason.NO_CREDENTIALS,
        )

    def _local_ca(self) -> Path | None:
        if self.kafka.security_protocol is SecurityProtocol.PLAINTEXT:
            return None
        return self.local_kafka_dir / "tls" / "ca.pem"

    @property
    def dev_console_login(self) -> bool:
        """Outside production, with no users configured, DEV_CONSOLE_USER may log in."""
        return not self.console.users and self.env is not Environment.PRODUCTION

    @property
    def secure_cookies(self) -> bool:
        if self.console.secure_cookies is not None:
            return self.console.secure_cookies
        return self.env is Environment.PRODUCTION

    @property
    def key_dir(self) -> Path:
        return self.signing.key_dir or self.data_dir / "keys"

    @property
    def projection_path(self) -> Path:
        return self.audit.projection_path or self.data_dir / "audit.sqlite"

    @property
    def may_generate_dev_key(self) -> bool:
        """Production never makes its own key: an operator generates it on purpose."""
        return self.signing.generate_dev_key and self.env is not Environment.PRODUCTION

    def ingress_key(self, source: str) -> SecretStr | None:
        """The API key `source` publishes over HTTP with, or None when it may not."""
        configured = self.web.api_keys.get(source)
        if configured is not None or self.env is Environment.PRODUCTION:
            return configured
        return SecretStr(DEV_INGRESS_API_KEY)

    @property
    def test_identities_allowed(self) -> bool:
        if self.allow_test_identities is not None:
            return self.allow_test_identities
        return self.env is not Environment.PRODUCTION

    @property
    def effective_log_format(self) -> str:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.env is Environment.PRODUCTION else "console"


def _no_dev_password(users: dict[str, SecretStr]) -> None:
    # Imported here: only production pays for loading the password hasher with the settings.
    from hub.passwords import verify_password

    for name, hashed in users.items():
        if verify_password(hashed.get_secret_value(), DEV_CONSOLE_PASSWORD):
            raise ValueError(f"HUB_CONSOLE__USERS: {name} has the dev password; not in production")


def _secure_kafka(kafka: KafkaSettings) -> None:
    if kafka.security_protocol is not SecurityProtocol.SASL_SSL:
        raise ValueError("HUB_KAFKA__SECURITY_PROTOCOL must be SASL_SSL in production")
    if kafka.ca_file is None:
        raise ValueError("HUB_KAFKA__CA_FILE must name the cluster's CA certificate in production")
    if kafka.username is None:
        raise ValueError("HUB_KAFKA__USERNAME must name this process's principal in production")
    if kafka.password is None and kafka.password_file is None:
        # The local cluster's stored passwords are development credentials.
        raise ValueError("HUB_KAFKA__PASSWORD_FILE (or _PASSWORD) must be set in production")
    if kafka.password is not None and len(kafka.password) < 16:
        raise ValueError("HUB_KAFKA__PASSWORD must have at least 16 characters in production")


def _read_secret(path: Path, what: str) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise PermanentError(
            f"cannot read {what} ({path}): {exc.strerror}", reason=Reason.NO_CREDENTIALS
        ) from None
    if not text:
        raise PermanentError(f"{what} ({path}) is empty", reason=Reason.NO_CREDENTIALS)
    return text


def child_environment(values: Mapping[str, str]) -> dict[str, str]:
    """The environment of a child `hub` process that must run with exactly the `HUB_*` `values`:
    this process's environment (PATH, locale, the venv) without its own `HUB_*` settings."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    return inherited | dict(values)
