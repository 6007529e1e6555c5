"""A fresh clone runs without key steps; production never makes its own key."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from hub.bootstrap import load_signer
from hub.settings import Environment, HubSettings, KafkaSettings, SigningSettings
from hub.signing.keys import KeyringError
from tests.support import PRODUCTION_KAFKA


def test_outside_production_a_first_key_is_made_once(tmp_path: Path) -> None:
    settings = HubSettings(env=Environment.DEV, data_dir=tmp_path)
    first = load_signer(settings)
    assert (tmp_path / "keys" / "keyring.json").exists()
    assert load_signer(settings).kid == first.kid


def test_production_refuses_to_start_without_a_key(tmp_path: Path) -> None:
    settings = HubSettings(
        env=Environment.PRODUCTION,
        data_dir=tmp_path,
        person_key_secret=SecretStr("a production person key secret, long enough"),
        kafka=KafkaSettings.model_validate(PRODUCTION_KAFKA),
        signing=SigningSettings(passphrase=SecretStr("a production passphrase")),
    )
    with pytest.raises(KeyringError, match="hub keys generate"):
        load_signer(settings)
    assert not (tmp_path / "keys" / "keyring.json").exists()


def test_production_refuses_the_published_dev_passphrase(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="HUB_SIGNING__PASSPHRASE"):
        HubSettings(
            env=Environment.PRODUCTION,
            data_dir=tmp_path,
            person_key_secret=SecretStr("a production person key secret, long enough"),
            kafka=KafkaSettings.model_validate(PRODUCTION_KAFKA),
        )
