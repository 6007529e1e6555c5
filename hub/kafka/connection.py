"""How one principal reaches the cluster: addresses, TLS and SASL, for every client library we use.

`KafkaConnection` is a plain value made once from the settings (`HubSettings.kafka_connection`)
and handed to whatever opens a client. It renders itself for aiokafka (keyword arguments), for
FastStream (a security object) and for librdkafka / Kafka's own clients (`key=value` properties,
the names both share), so that no other module has to know how security is spelt for a library.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field, replace
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any

from pydantic import SecretStr

__all__ = ["KafkaConnection", "SecurityProtocol"]


class SecurityProtocol(StrEnum):
    SASL_SSL = "SASL_SSL"
    # Only for a broker a test starts without security on purpose; production refuses it.
    PLAINTEXT = "PLAINTEXT"


SCRAM_SHA_512 = "SCRAM-SHA-512"


@dataclass(frozen=True)
class KafkaConnection:
    bootstrap_servers: str
    protocol: SecurityProtocol = SecurityProtocol.SASL_SSL
    username: str | None = None
    password: SecretStr | None = field(default=None, repr=False)
    ca_file: Path | None = None
    mechanism: str = SCRAM_SHA_512

    @property
    def servers(self) -> list[str]:
        """The bootstrap servers one by one, as aiokafka and FastStream want them."""
        return [server.strip() for server in self.bootstrap_servers.split(",") if server.strip()]

    @property
    def principal(self) -> str:
        """The name the broker's ACLs know this connection by."""
        return f"User:{self.username}" if self.username else "User:ANONYMOUS"

    def as_user(self, username: str, password: SecretStr) -> KafkaConnection:
        """The same cluster, another principal."""
        return replace(self, username=username, password=password)

    @cached_property
    def ssl_context(self) -> ssl.SSLContext | None:
        if self.protocol is SecurityProtocol.PLAINTEXT:
            return None
        # Host names are checked, as librdkafka does by default: the broker's certificate must
        # name the address we dial.
        return ssl.create_default_context(cafile=str(self.ca_file) if self.ca_file else None)

    def aiokafka(self) -> dict[str, Any]:
        """Keyword arguments for aiokafka's producer, consumer and admin client."""
        if self.protocol is SecurityProtocol.PLAINTEXT:
            return {"bootstrap_servers": self.servers}
        return {
            "bootstrap_servers": self.servers,
            "security_protocol": self.protocol.value,
            "sasl_mechanism": self.mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self._password(),
            "ssl_context": self.ssl_context,
        }

    def properties(self) -> dict[str, str]:
        """The client configuration as Kafka's own clients and librdkafka both read it."""
        props = {"bootstrap.servers": self.bootstrap_servers}
        if self.protocol is SecurityProtocol.PLAINTEXT:
            return props | {"security.protocol": "PLAINTEXT"}
        props |= {
            "security.protocol": self.protocol.value,
            "sasl.mechanism": self.mechanism,
            "sasl.username": self.username or "",
            "sasl.password": self._password(),
        }
        if self.ca_file is not None:
            props["ssl.ca.location"] = str(self.ca_file)
        return props

    def faststream_security(self) -> Any:
        """FastStream's security object, or None for a PLAINTEXT test broker."""
        if self.protocol is SecurityProtocol.PLAINTEXT:
            return None
        # Imported here: FastStream is only loaded by the commands that consume with it.
        from faststream.security import SASLScram512

        return SASLScram512(
            username=self.username or "",
            password=self._password(),
            ssl_context=self.ssl_context,
            use_ssl=True,
        )

    def _password(self) -> str:
        return self.password.get_secret_value() if self.password is not None else ""
