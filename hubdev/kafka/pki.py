"""The local cluster's own certificate authority and broker certificate, made with `cryptography`.

Development and tests only: a production cluster brings its own CA and certificates. Files, in
the folder given (`<kafka work dir>/tls`):

    ca.pem        the CA certificate: what every client trusts (`ssl.ca.location`)
    ca.key        the CA's private key (0600); kept so a lost broker certificate can be remade
    broker.pem    the brokers' private key and certificate chain in one PEM file (0600), which
                  Kafka reads directly (`ssl.keystore.type=PEM`, KIP-651)

One certificate serves every node of the local cluster: all of them listen on 127.0.0.1 only, and
it is also the client certificate a broker shows the controllers, so its subject is the brokers'
principal (`BROKER_PRINCIPAL`), a super user. Its names are `IP:127.0.0.1` and `DNS:localhost`,
which librdkafka checks by default.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = ["BROKER_PRINCIPAL", "LocalPki", "ensure_pki"]

_BROKER_CN = "justishub-local-broker"
# Kafka names an SSL client by its certificate's subject, in RFC 2253 form.
BROKER_PRINCIPAL = f"User:CN={_BROKER_CN}"
_CA_CN = "justishub local development CA"
_VALID_DAYS = 825
# Remade a month before it would expire, so a long-lived dev folder never fails one morning.
_RENEW_BEFORE = dt.timedelta(days=30)


@dataclass(frozen=True)
class LocalPki:
    ca_file: Path
    ca_key_file: Path
    broker_file: Path


def ensure_pki(folder: Path) -> LocalPki:
    """The CA and broker certificate in `folder`, made when missing or about to expire."""
    pki = LocalPki(folder / "ca.pem", folder / "ca.key", folder / "broker.pem")
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    if not _valid(pki.ca_file) or not pki.ca_key_file.exists():
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_cert = _ca_certificate(ca_key)
        _write_private(pki.ca_key_file, _key_pem(ca_key))
        _write_public(pki.ca_file, ca_cert.public_bytes(serialization.Encoding.PEM))
        pki.broker_file.unlink(missing_ok=True)
    if not _valid(pki.broker_file):
        ca_key = _load_key(pki.ca_key_file)
        ca_cert = x509.load_pem_x509_certificate(pki.ca_file.read_bytes())
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _broker_certificate(key, ca_key, ca_cert)
        chain = cert.public_bytes(serialization.Encoding.PEM) + pki.ca_file.read_bytes()
        _write_private(pki.broker_file, _key_pem(key) + chain)
    return pki


def _ca_certificate(key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _CA_CN)])
    return (
        _builder(name, name, key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )


def _broker_certificate(
    key: ec.EllipticCurvePrivateKey, ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate
) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, _BROKER_CN)])
    names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    return (
        _builder(subject, ca.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            # Server towards clients, client towards the controllers.
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=_VALID_DAYS))
    )


def _valid(path: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError):
        return False
    return cert.not_valid_after_utc - _RENEW_BEFORE > dt.datetime.now(dt.UTC)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    # Unencrypted PKCS#8: Kafka's PEM key store refuses a password on the key (KIP-651).
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _load_key(path: Path) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{path} is not the local CA's EC key")
    return key


def _write_private(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    # Created 0600, never readable by others for even a moment.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    partial.replace(path)


def _write_public(path: Path, data: bytes) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    partial.chmod(0o644)
    partial.replace(path)
