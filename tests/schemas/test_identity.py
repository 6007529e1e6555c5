from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from pydantic import TypeAdapter, ValidationError

from schemas.errors import InputRejected, Reason
from schemas.identity import (
    IdentityKind,
    MunicipalityNumber,
    check_digits,
    check_identity_number,
    check_municipality_number,
    identify,
)
from tests.identities import FUTURE_DNR, FUTURE_FNR, SYNTHETIC_DNR, SYNTHETIC_FNR, complete


@st.composite
def valid_numbers(draw: st.DrawFn) -> str:
    day = draw(st.integers(1, 28)) + draw(st.sampled_from([0, 40]))
    month = draw(st.integers(1, 12)) + draw(st.sampled_from([0, 40, 80]))
    year, individual = draw(st.integers(0, 99)), draw(st.integers(0, 999))
    first_nine = f"{day:02d}{month:02d}{year:02d}{individual:03d}"
    digits = check_digits(first_nine)
    assume(digits is not None)
    return f"{first_nine}{digits}"


def rejected(number: str, reason: Reason = Reason.INVALID_IDENTITY_NUMBER) -> InputRejected:
    with pytest.raises(InputRejected) as caught:
        check_identity_number(number, allow_synthetic=True)
    assert caught.value.reason is reason
    return caught.value


@pytest.mark.parametrize(
    ("number", "kind", "synthetic"),
    [
        (FUTURE_FNR, IdentityKind.FNR, False),
        (FUTURE_DNR, IdentityKind.DNR, False),
        (SYNTHETIC_FNR, IdentityKind.FNR, True),
        (SYNTHETIC_DNR, IdentityKind.DNR, True),
        ("12838545619", IdentityKind.FNR, True),  # the example in the KODA contract
        (complete("014185"), IdentityKind.FNR, True),  # month + 40
        (complete("714185"), IdentityKind.DNR, True),  # D-nummer on the 31st, month + 40
    ],
)
def test_valid_numbers_are_classified(number: str, kind: IdentityKind, synthetic: bool) -> None:
    info = identify(number)
    assert (info.kind, info.synthetic) == (kind, synthetic)


def test_the_known_check_digit_example() -> None:
    # Worked by hand from the weights: 128385456 → 1, 9.
    assert check_digits("128385456") == "19"


@pytest.mark.parametrize(
    "date_part",
    [
        "290201",  # 29 February is never real in a year 01 of any century
        "310485",  # 31 April
        "000185",  # day 0
        "320185",  # day 32 is neither an ordinary day nor a D-nummer (41-71)
        "720185",  # D-nummer day 32
        "011385",  # month 13
        "015385",  # month 13 + 40
        "019385",  # month 13 + 80
        "016085",  # month 60: no offset makes it a month
        "010085",  # month 0
    ],
)
def test_date_part_must_be_a_calendar_date(date_part: str) -> None:
    error = rejected(date_part + "00000")
    assert "not a calendar date" in error.detail


@pytest.mark.parametrize("date_part", ["290200", "298204", "694296"])
def test_29_february_is_accepted_when_some_century_has_it(date_part: str) -> None:
    identify(complete(date_part))


@pytest.mark.parametrize(
    "number", ["", "1283854561", "128385456190", "1283854561a", "12838 45619", "\u0661" * 11]
)
def test_only_eleven_ascii_digits(number: str) -> None:
    rejected(number)


def test_a_wrong_first_check_digit_is_named() -> None:
    wrong = SYNTHETIC_FNR[:9] + str((int(SYNTHETIC_FNR[9]) + 1) % 10) + SYNTHETIC_FNR[10]
    assert "first check digit" in rejected(wrong).detail


def test_a_wrong_second_check_digit_is_named() -> None:
    wrong = SYNTHETIC_FNR[:10] + str((int(SYNTHETIC_FNR[10]) + 1) % 10)
    assert "second check digit" in rejected(wrong).detail


def test_a_check_digit_of_ten_makes_every_number_invalid() -> None:
    first_nine = next(
        f"128385{i:03d}" for i in range(1000) if check_digits(f"128385{i:03d}") is None
    )
    for last_two in range(100):
        assert "check digit 10" in rejected(f"{first_nine}{last_two:02d}").detail


def test_synthetic_numbers_refused_when_not_allowed() -> None:
    for number in (SYNTHETIC_FNR, SYNTHETIC_DNR):
        with pytest.raises(InputRejected) as caught:
            check_identity_number(number, allow_synthetic=False)
        assert caught.value.reason is Reason.TEST_IDENTITY_NOT_ALLOWED
    check_identity_number(FUTURE_FNR, allow_synthetic=False)


def test_no_message_quotes_the_number() -> None:
    wrong = SYNTHETIC_FNR[:10] + str((int(SYNTHETIC_FNR[10]) + 1) % 10)
    for number in (wrong, wrong[:6] + "0" + wrong[7:], "31048500000"):
        error = rejected(number)
        assert number not in str(error)
        assert number[:6] not in str(error)


@given(valid_numbers())
def test_generated_valid_numbers_are_accepted(number: str) -> None:
    info = identify(number)
    assert info.kind is (IdentityKind.DNR if number[0] >= "4" else IdentityKind.FNR)
    assert info.synthetic is (int(number[2:4]) > 40)


@given(valid_numbers(), st.integers(0, 10), st.integers(1, 9))
def test_any_single_changed_digit_is_refused(number: str, position: int, shift: int) -> None:
    changed = str((int(number[position]) + shift) % 10)
    rejected(number[:position] + changed + number[position + 1 :])


@given(valid_numbers(), st.integers(0, 9))
def test_any_swap_of_neighbouring_digits_is_refused(number: str, position: int) -> None:
    a, b = number[position], number[position + 1]
    if a != b:
        rejected(number[:position] + b + a + number[position + 2 :])


@pytest.mark.parametrize("number", ["0301", "4204", "5001", "2100", "9999"])
def test_municipality_numbers(number: str) -> None:
    assert check_municipality_number(number) == number
    assert TypeAdapter(MunicipalityNumber).validate_python(number) == number


FULLWIDTH_4204 = "\uff14\uff12\uff10\uff14"


@pytest.mark.parametrize("number", ["", "301", "04204", "42O4", "0012", "0000", FULLWIDTH_4204])
def test_bad_municipality_numbers(number: str) -> None:
    with pytest.raises(InputRejected) as caught:
        check_municipality_number(number)
    assert caught.value.reason is Reason.INVALID_MUNICIPALITY_NUMBER
    with pytest.raises(ValidationError):
        TypeAdapter(MunicipalityNumber).validate_python(number)
