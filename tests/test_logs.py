"""Logs never carry an identity number in clear, whoever wrote the log call."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator

import pytest
import structlog

from hub.logs import configure_logging
from hub.privacy import PersonKeys, mask_text

NUMBER = "12838545619"  # synthetic: month 83
ELEVEN_DIGITS = re.compile(r"(?<!\d)\d{11}(?!\d)")


@pytest.fixture
def json_logs(capsys: pytest.CaptureFixture[str]) -> Iterator[pytest.CaptureFixture[str]]:
    configure_logging(log_format="json", level="INFO")
    try:
        yield capsys
    finally:
        structlog.reset_defaults()
        logging.getLogger().handlers.clear()


def test_every_string_value_and_nested_value_is_masked(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    log = structlog.get_logger("test")
    log.info(f"looked up {NUMBER}", detail={"ids": [NUMBER, int(NUMBER)]}, number=int(NUMBER))
    line = json_logs.readouterr().err.strip()
    assert NUMBER not in line
    assert json.loads(line)["event"] == "looked up ***********"


def test_exceptions_and_stdlib_loggers_are_masked(json_logs: pytest.CaptureFixture[str]) -> None:
    try:
        int(f"bad number {NUMBER}")
    except ValueError:
        structlog.get_logger("test").exception("failed")
    logging.getLogger("aiokafka.something").warning("from a library: %s", NUMBER)
    err = json_logs.readouterr().err
    assert "bad number ***********" in err, "the exception text is masked too"
    assert not ELEVEN_DIGITS.search(err)


def test_mask_text_hides_quoted_input_values_that_may_be_names() -> None:
    masked = mask_text("Element 'Fornavn': The value 'Kari' is not accepted; got 'Ola'")
    assert "Kari" not in masked
    assert "Ola" not in masked
    assert "Fornavn" in masked, "what failed stays readable"


def test_person_key_is_keyed_and_stable() -> None:
    one, other = PersonKeys(b"k" * 32), PersonKeys(b"x" * 32)
    assert one(NUMBER) == one(NUMBER)
    assert one(NUMBER) != other(NUMBER), "without the key the number cannot be enumerated"
    assert not ELEVEN_DIGITS.search(one(NUMBER))


def test_the_hubs_own_ids_stay_searchable_but_a_number_dressed_as_one_is_masked(
    json_logs: pytest.CaptureFixture[str],
) -> None:
    # A uuid5 the hub minted whose last group holds eleven digits that are no valid number.
    minted = "716b3dec-d396-5e4a-b123-a45678901234"
    # Made up to carry a valid number, whole or across a dash.
    carrying = f"716b3dec-d396-5e4a-b123-0{NUMBER}"
    across = f"{NUMBER[:8]}-{NUMBER[8:]}0-5e4a-b123-0123abcdef01"
    log = structlog.get_logger("test")
    log.info("alert.raised", message_id=minted, other=carrying, third=across)
    logged = json.loads(json_logs.readouterr().err.strip())
    assert logged["message_id"] == minted
    assert NUMBER not in logged["other"]
    assert "***" in logged["third"]
    assert NUMBER[:8] not in logged["third"]
