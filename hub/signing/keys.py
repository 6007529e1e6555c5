"""The hub's signing keys on disk: one current key, and the retired ones recipients still trust.

A key folder (`HUB_SIGNING__KEY_DIR`, default `<data dir>/keys`, mode 0700) holds:

    keyring.json      every key the hub has signed with: kid, created, retired, public JWK;
                      mode 0600 (it decides which keys the hub and its verifier trust)
    <kid>.key.pem     the current key's private half: PKCS#8, encrypted with the passphrase
                      from settings, mode 0600

`rotate` makes a new key current, marks the old one retired and deletes its private half (it
will never sign again), but keeps its public JWK, so every message signed before the rotation
still verifies with the published JWKS. A `kid` is the RFC 7638 thumbprint of the public key.
Changes take a file lock and replace `keyring.json` atomically, so two processes starting at
once (a test and the hub it starts) cannot both make a first key.

A folder that its group or others may read or write is refused before anything in it is used:
whoever can write there can swap the keyring the hub trusts.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from hub.settings import HubSettings
from hub.signing.signer import Signer
from schemas.errors import HubError, Reason
from schemas.signature import PublicKeys, okp_public_jwk

__all__ = ["KeyEntry", "KeyStore", "Keyring", "KeyringError", "key_store"]

_KEYRING = "keyring.json"
_LOCK = ".lock"
_FORMAT = 1
_MIN_PASSPHRASE = 12


class KeyringError(HubError):
    """No usable signing key: missing, unreadable, or the passphrase does not open it."""

    reason = Reason.SIGNING_KEY_UNAVAILABLE


@dataclass(frozen=True, slots=True)
class KeyEntry:
    kid: str
    created: datetime
    retired: datetime | None
    jwk: dict[str, str]

    def to_json(self) -> dict[str, Any]:
        return {
            "kid": self.kid,
            "created": self.created.isoformat(),
            "retired": self.retired.isoformat() if self.retired else None,
            "jwk": self.jwk,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> KeyEntry:
        retired = data.get("retired")
        return cls(
            kid=data["kid"],
            created=datetime.fromisoformat(data["created"]),
            retired=datetime.fromisoformat(retired) if retired else None,
            jwk=dict(data["jwk"]),
        )


@dataclass(frozen=True, slots=True)
class Keyring:
    """The current key and every retired one, by kid."""

    current: str
    entries: tuple[KeyEntry, ...]

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The public JWKS to give recipients: the current key first, then newest to oldest."""
        ordered = sorted(
            self.entries, key=lambda e: (e.kid != self.current, -e.created.timestamp())
        )
        return {"keys": [dict(e.jwk) for e in ordered]}

    def public_keys(self) -> PublicKeys:
        return PublicKeys.from_jwks(self.jwks())

    def entry(self, kid: str) -> KeyEntry:
        return next(e for e in self.entries if e.kid == kid)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class KeyStore:
    """The key folder. Every method reads the disk afresh: another process may have rotated."""

    def __init__(
        self, directory: Path, passphrase: SecretStr, *, clock: Callable[[], datetime] = _utcnow
    ) -> None:
        self.directory = directory
        self._passphrase = passphrase
        self._clock = clock

    @property
    def keyring_path(self) -> Path:
        return self.directory / _KEYRING

    def exists(self) -> bool:
        return self.keyring_path.exists()

    def load(self) -> Keyring:
        self._check_folder()
        try:
            data = json.loads(self.keyring_path.read_text("utf-8"))
        except FileNotFoundError:
            raise KeyringError(
                f"no signing key in {self.directory}; create one with `hub keys generate`"
            ) from None
        except (OSError, ValueError) as exc:
            raise KeyringError(f"cannot read {self.keyring_path}: {exc}") from exc
        if data.get("format") != _FORMAT:
            raise KeyringError(f"{self.keyring_path} has an unknown format")
        entries = tuple(KeyEntry.from_json(e) for e in data["keys"])
        return Keyring(current=data["current"], entries=entries)

    def generate(self) -> KeyEntry:
        """Make the first key. Refuses when a keyring exists: that is what `rotate` is for."""
        with self._locked():
            if self.exists():
                raise KeyringError(
                    f"{self.keyring_path} exists already; `hub keys rotate` makes a new key"
                )
            entry = self._new_key()
            self._write(Keyring(current=entry.kid, entries=(entry,)))
            return entry

    def ensure(self) -> KeyEntry | None:
        """Make a first key unless there is one; return it when this call made it."""
        with self._locked():
            if self.exists():
                return None
            entry = self._new_key()
            self._write(Keyring(current=entry.kid, entries=(entry,)))
            return entry

    def rotate(self) -> tuple[KeyEntry, KeyEntry]:
        """Make a new key current; the old one is retired. Returns (new, retired)."""
        with self._locked():
            ring = self.load()
            old = replace(ring.entry(ring.current), retired=self._clock())
            new = self._new_key()
            others = tuple(e for e in ring.entries if e.kid != old.kid)
            self._write(Keyring(current=new.kid, entries=(new, old, *others)))
            # It will never sign again; nothing is gained by keeping its private half around.
            self._private_path(old.kid).unlink(missing_ok=True)
            return new, old

    def signer(self) -> Signer:
        """The signer with the current private key."""
        ring = self.load()
        path = self._private_path(ring.current)
        try:
            pem = path.read_bytes()
        except OSError as exc:
            raise KeyringError(f"cannot read the current private key {path}: {exc}") from exc
        try:
            key = serialization.load_pem_private_key(pem, password=self._password())
        except (ValueError, TypeError) as exc:
            raise KeyringError(
                f"cannot open {path}: wrong passphrase (HUB_SIGNING__PASSPHRASE) or not a key"
            ) from exc
        if not isinstance(key, Ed25519PrivateKey):
            raise KeyringError(f"{path} is not an Ed25519 key")
        return Signer(key)

    def _new_key(self) -> KeyEntry:
        key = Ed25519PrivateKey.generate()
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        jwk = okp_public_jwk(raw)
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(self._password()),
        )
        _write_new(self._private_path(jwk["kid"]), pem, mode=0o600)
        return KeyEntry(kid=jwk["kid"], created=self._clock(), retired=None, jwk=jwk)

    def _write(self, ring: Keyring) -> None:
        entries = [e.to_json() for e in ring.entries]
        data = {"format": _FORMAT, "current": ring.current, "keys": entries}
        tmp = self.keyring_path.with_suffix(".tmp")
        tmp.unlink(missing_ok=True)
        _write_new(tmp, (json.dumps(data, indent=2) + "\n").encode("utf-8"), mode=0o600)
        os.replace(tmp, self.keyring_path)

    def _private_path(self, kid: str) -> Path:
        return self.directory / f"{kid}.key.pem"

    def _password(self) -> bytes:
        secret = self._passphrase.get_secret_value().encode("utf-8")
        if len(secret) < _MIN_PASSPHRASE:
            raise KeyringError(f"the signing passphrase must be at least {_MIN_PASSPHRASE} bytes")
        return secret

    def _check_folder(self) -> None:
        try:
            mode = stat.S_IMODE(self.directory.stat().st_mode)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise KeyringError(f"cannot read the key folder {self.directory}: {exc}") from exc
        if mode & 0o077:
            raise KeyringError(
                f"the key folder {self.directory} is open to group or others (mode "
                f"{mode:04o}); only its owner may use it: chmod 700 {self.directory}"
            )

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._check_folder()
        with open(self.directory / _LOCK, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def _write_new(path: Path, data: bytes, *, mode: int) -> None:
    """Write a file that must not exist yet, created with `mode` (never readable in between)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def key_store(settings: HubSettings) -> KeyStore:
    return KeyStore(settings.key_dir, settings.signing.passphrase)
