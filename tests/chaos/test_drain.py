"""The chaos run's wait for the hub to catch up: a leader moving under it is no failure."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from confluent_kafka import KafkaError, KafkaException

from hub.kafka.connection import SecurityProtocol
from hub.settings import HubSettings, KafkaSettings
from tests.chaos.run import ChaosPlan, _drain, _Run

_SETTINGS = HubSettings(kafka=KafkaSettings(security_protocol=SecurityProtocol.PLAINTEXT))


def _answers(*answers: int | KafkaError) -> Callable[[dict[str, str], str], int]:
    """Lags in turn; a `KafkaError` is raised as the admin client raises it."""
    left = list(answers)

    def lag_of(props: dict[str, str], prefix: str) -> int:
        answer = left.pop(0)
        if isinstance(answer, KafkaError):
            raise KafkaException(answer)
        return answer

    return lag_of


def test_the_lag_is_asked_again_while_a_leader_moves(tmp_path: Path) -> None:
    said: list[str] = []
    run = _Run(ChaosPlan(documents=1), tmp_path, said.append)
    moving = KafkaError(KafkaError.NOT_LEADER_FOR_PARTITION)
    asked = _answers(12, moving, 3, moving, 0, 0)

    _drain(_SETTINGS, run, timeout_s=60, pause_s=0, lag_of=asked)

    assert any("NOT_LEADER_FOR_PARTITION" in line for line in said)
    assert said[-1].endswith("every consumer group of the hub has caught up")


def test_any_other_kafka_error_ends_the_run(tmp_path: Path) -> None:
    run = _Run(ChaosPlan(documents=1), tmp_path, lambda _line: None)
    denied = KafkaError(KafkaError.GROUP_AUTHORIZATION_FAILED)

    with pytest.raises(KafkaException):
        _drain(_SETTINGS, run, timeout_s=60, pause_s=0, lag_of=_answers(5, denied))
