"""The hub's signing: its keys, the signer every published message passes, and the verifying
wrapper of the stages that consume signed messages. The format is `schemas.signature`."""

from hub.signing.keys import Keyring, KeyringError, KeyStore, key_store
from hub.signing.signer import Signer
from hub.signing.verifying import TrustedKeys, verify_record, verifying

__all__ = [
    "KeyStore",
    "Keyring",
    "KeyringError",
    "Signer",
    "TrustedKeys",
    "key_store",
    "verify_record",
    "verifying",
]
