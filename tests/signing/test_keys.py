"""The key folder: generate, rotate, the JWKS, and the files' protection."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from hub.signing.keys import KeyringError, KeyStore
from schemas.errors import Reason
from schemas.signature import verify

PASSPHRASE = SecretStr("correct horse battery staple")


def store(path: Path, passphrase: SecretStr = PASSPHRASE) -> KeyStore:
    return KeyStore(path / "keys", passphrase)


def test_generate_writes_an_encrypted_private_key_readable_only_by_its_owner(
    tmp_path: Path,
) -> None:
    keys = store(tmp_path)
    entry = keys.generate()
    pem = keys.directory / f"{entry.kid}.key.pem"
    assert stat.S_IMODE(pem.stat().st_mode) == 0o600
    assert stat.S_IMODE(keys.directory.stat().st_mode) == 0o700
    assert b"ENCRYPTED PRIVATE KEY" in pem.read_bytes()
    assert keys.signer().kid == entry.kid


def test_the_keyring_is_readable_only_by_its_owner_after_every_change(tmp_path: Path) -> None:
    keys = store(tmp_path)
    keys.generate()
    assert stat.S_IMODE(keys.keyring_path.stat().st_mode) == 0o600
    keys.rotate()
    assert stat.S_IMODE(keys.keyring_path.stat().st_mode) == 0o600


@pytest.mark.parametrize("mode", [0o750, 0o705, 0o770, 0o707, 0o755])
def test_a_key_folder_open_to_group_or_others_is_refused_in_one_line(
    tmp_path: Path, mode: int
) -> None:
    keys = store(tmp_path)
    keys.generate()
    keys.directory.chmod(mode)
    for use in (keys.signer, keys.load, keys.ensure, keys.rotate):
        with pytest.raises(KeyringError) as caught:
            use()
        message = str(caught.value)
        assert "\n" not in message
        assert f"open to group or others (mode {mode:04o})" in message
        assert f"chmod 700 {keys.directory}" in message


def test_a_loose_folder_made_by_someone_else_gets_no_key(tmp_path: Path) -> None:
    keys = store(tmp_path)
    keys.directory.mkdir(mode=0o777)
    keys.directory.chmod(0o777)  # whatever the umask left
    with pytest.raises(KeyringError, match="open to group or others"):
        keys.generate()
    assert list(keys.directory.iterdir()) == [], "nothing written into it"


def test_generate_refuses_to_replace_an_existing_keyring(tmp_path: Path) -> None:
    keys = store(tmp_path)
    first = keys.generate()
    with pytest.raises(KeyringError, match="exists already"):
        keys.generate()
    assert keys.load().current == first.kid


def test_a_wrong_passphrase_is_a_clear_error(tmp_path: Path) -> None:
    store(tmp_path).generate()
    with pytest.raises(KeyringError, match="wrong passphrase") as caught:
        store(tmp_path, SecretStr("not the passphrase at all")).signer()
    assert caught.value.reason is Reason.SIGNING_KEY_UNAVAILABLE


def test_a_short_passphrase_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="at least"):
        store(tmp_path, SecretStr("short")).generate()


def test_no_keyring_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(KeyringError, match="hub keys generate"):
        store(tmp_path).signer()


def test_ensure_makes_a_key_only_once(tmp_path: Path) -> None:
    keys = store(tmp_path)
    made = keys.ensure()
    assert made is not None
    assert keys.ensure() is None
    assert keys.load().current == made.kid


def test_messages_signed_before_and_after_a_rotation_verify_with_the_published_jwks(
    tmp_path: Path,
) -> None:
    keys = store(tmp_path)
    keys.generate()
    before = keys.signer()
    old_header = before.sign(b"old", message_id="a", message_type="t")
    new, retired = keys.rotate()
    after = keys.signer()
    new_header = after.sign(b"new", message_id="b", message_type="t")

    assert (after.kid, retired.kid) == (new.kid, before.kid)
    jwks = keys.load().jwks()
    assert [k["kid"] for k in jwks["keys"]] == [new.kid, retired.kid], "current key first"
    assert all("d" not in k for k in jwks["keys"]), "the JWKS holds public keys only"
    assert verify(b"old", old_header, jwks).kid == before.kid
    assert verify(b"new", new_header, jwks).kid == after.kid
    assert not (keys.directory / f"{retired.kid}.key.pem").exists(), "a retired key never signs"
    assert keys.load().entry(retired.kid).retired is not None


def test_two_rotations_keep_every_public_key(tmp_path: Path) -> None:
    keys = store(tmp_path)
    first = keys.generate()
    second, _ = keys.rotate()
    third, _ = keys.rotate()
    kids = [k["kid"] for k in keys.load().jwks()["keys"]]
    assert kids == [third.kid, second.kid, first.kid]
