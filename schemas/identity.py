"""Norwegian identity numbers (fødselsnummer, D-nummer) and municipality numbers.

An identity number is 11 digits: a birth date DDMMYY, a 3-digit individual number and two mod-11
check digits. A D-nummer adds 4 to the first digit; a synthetic test number (from the national
test data service) adds 40 or 80 to the month. Check failures say *which* check failed and never
quote the number: exception texts end up in logs and dead-letter headers.

`identity_number_spans` finds identity numbers in free text however they are written:
`12838545619`, `128385 45619`, `128385-45619`, `12.83.85.456.19`, with no-break spaces or mixed
separators. A *run* is digits joined by up to three separator characters (white space, dots,
dashes, slashes, underscores). A run of exactly 11 digits counts, valid or not (a mistyped
number is still someone's), when it is cut only where people cut a number (after the date, and
perhaps the day, the month and the individual number) or its first six digits are a date as a
number has them; so `KODA-2026-0000105` is an id, not a number. A longer run counts when any 11
consecutive digits in it make a valid identity number, or one of its groups is 11 digits, so
that a number glued to others is found while timestamps, offsets and sizes (whose runs a colon,
a `T` or a letter ends) are not.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Final

from pydantic import StringConstraints

from schemas.errors import InputRejected, Reason

__all__ = [
    "IdentityInfo",
    "IdentityKind",
    "MunicipalityNumber",
    "check_digits",
    "check_identity_number",
    "check_municipality_number",
    "holds_valid_identity_number",
    "identify",
    "identity_number_spans",
    "kind_of",
]

_WEIGHTS_1: Final = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_WEIGHTS_2: Final = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)
_D_NUMBER_DAY_OFFSET: Final = 40
_SYNTHETIC_MONTH_OFFSETS: Final = (40, 80)
# A two-digit year says nothing about its century, so 29 February is a real date if it is one
# in any century an identity number can name (the individual number spans 1854-2039).
_CENTURIES: Final = (1800, 1900, 2000)
_DIGITS: Final = 11
_SEPARATOR: Final = r"[\s.\-_/\u2010-\u2015\u2212]"
# A run starts at a digit that does not continue an earlier run (`re` has no variable-width
# look-behind, hence one look-behind per separator length).
_RUN: Final = re.compile(
    rf"(?<!\d)(?<!\d{_SEPARATOR})(?<!\d{_SEPARATOR}{{2}})(?<!\d{_SEPARATOR}{{3}})"
    rf"\d(?:{_SEPARATOR}{{0,3}}\d){{10,}}"
)
_NOT_DIGIT: Final = re.compile(r"\D")
_GROUP_END: Final = re.compile(rf"(?<=\d){_SEPARATOR}+")
_NATURAL_CUTS: Final = frozenset({2, 4, 6, 9})
_DATE_END: Final = 6

# County part 00 is no county; beyond that the set of municipalities changes with each reform,
# so whether a number is in use is for the recipient's own register to say.
MunicipalityNumber = Annotated[str, StringConstraints(pattern=r"^(0[1-9]|[1-9][0-9])[0-9]{2}$")]


class IdentityKind(StrEnum):
    FNR = "FNR"
    DNR = "DNR"


@dataclass(frozen=True, slots=True)
class IdentityInfo:
    """What an identity number is. Holds no part of the number, so it is safe to log."""

    kind: IdentityKind
    synthetic: bool


def check_digits(first_nine: str) -> str | None:
    """The two check digits for the first nine digits, or None when no valid number has them."""
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise ValueError("expected nine ASCII digits")
    first = _mod11([int(c) for c in first_nine], _WEIGHTS_1)
    if first is None:
        return None
    second = _mod11([int(c) for c in first_nine + str(first)], _WEIGHTS_2)
    if second is None:
        return None
    return f"{first}{second}"


def identify(number: str) -> IdentityInfo:
    """Classify a fødselsnummer or D-nummer, raising `InputRejected` naming the failed check."""
    if len(number) != 11 or not number.isascii() or not number.isdigit():
        raise _invalid("an identity number is exactly 11 ASCII digits")
    day, month = int(number[0:2]), int(number[2:4])
    kind = kind_of(number)
    if kind is IdentityKind.DNR:
        day -= _D_NUMBER_DAY_OFFSET
    synthetic = month > _SYNTHETIC_MONTH_OFFSETS[0]
    if synthetic:
        month -= max(o for o in _SYNTHETIC_MONTH_OFFSETS if o < month)
    if not _is_calendar_date(day, month, int(number[4:6])):
        raise _invalid("the date part of the identity number is not a calendar date")
    _verify_check_digits(number)
    return IdentityInfo(kind=kind, synthetic=synthetic)


def kind_of(number: str) -> IdentityKind:
    """The kind of an identity number, from its day (a D-nummer's has 40 added); no check: for a
    number `identify` has passed, whose kind is all a caller still needs."""
    return IdentityKind.DNR if int(number[0:2]) > _D_NUMBER_DAY_OFFSET else IdentityKind.FNR


def identity_number_spans(text: str) -> Iterator[tuple[int, int]]:
    """Where `text` holds what may be an identity number (see the module docstring)."""
    for run in _RUN.finditer(text):
        digits = _NOT_DIGIT.sub("", run.group())
        if len(digits) == _DIGITS:
            if _grouped_as_a_number(run.group()) or _has_a_date_part(digits):
                yield run.span()
        elif holds_valid_identity_number(digits) or _DIGITS in map(
            len, _GROUP_END.split(run.group())
        ):
            yield run.span()


def _grouped_as_a_number(run: str) -> bool:
    # Cut only where people cut a number: after the day, the month, the year, the individual
    # number (`128385 45619`, `12.83.85 456 19`), or not at all.
    groups = [len(part) for part in _GROUP_END.split(run)]
    cuts = set(itertools.accumulate(groups[:-1]))
    return cuts <= _NATURAL_CUTS and (not cuts or _DATE_END in cuts)


def _has_a_date_part(digits: str) -> bool:
    day, month = int(digits[0:2]), int(digits[2:4])
    day -= _D_NUMBER_DAY_OFFSET if day > _D_NUMBER_DAY_OFFSET else 0
    month -= max((o for o in _SYNTHETIC_MONTH_OFFSETS if o < month), default=0)
    return _is_calendar_date(day, month, int(digits[4:6]))


def holds_valid_identity_number(digits: str) -> bool:
    """Whether any 11 consecutive digits of `digits` (digits only) make a valid number."""
    for start in range(len(digits) - _DIGITS + 1):
        try:
            identify(digits[start : start + _DIGITS])
        except InputRejected:
            continue
        return True
    return False


def check_identity_number(number: str, *, allow_synthetic: bool) -> IdentityInfo:
    """`identify`, and refuse synthetic test numbers where they are not allowed."""
    info = identify(number)
    if info.synthetic and not allow_synthetic:
        raise InputRejected(
            "synthetic test identity numbers are not allowed here",
            reason=Reason.TEST_IDENTITY_NOT_ALLOWED,
        )
    return info


def check_municipality_number(number: str) -> str:
    """Return `number` if it is a well-formed municipality number, else raise `InputRejected`."""
    if len(number) != 4 or not number.isascii() or not number.isdigit():
        raise InputRejected(
            "a municipality number is exactly 4 ASCII digits",
            reason=Reason.INVALID_MUNICIPALITY_NUMBER,
        )
    if number.startswith("00"):
        raise InputRejected(
            "a municipality number cannot start with county 00",
            reason=Reason.INVALID_MUNICIPALITY_NUMBER,
        )
    return number


def _mod11(digits: list[int], weights: tuple[int, ...]) -> int | None:
    remainder = sum(d * w for d, w in zip(digits, weights, strict=True)) % 11
    digit = (11 - remainder) % 11
    return None if digit == 10 else digit


def _is_calendar_date(day: int, month: int, year_in_century: int) -> bool:
    for century in _CENTURIES:
        try:
            dt.date(century + year_in_century, month, day)
        except ValueError:
            continue
        return True
    return False


def _verify_check_digits(number: str) -> None:
    expected = check_digits(number[:9])
    if expected is None:
        raise _invalid("no valid identity number starts with these nine digits (check digit 10)")
    if number[9] != expected[0]:
        raise _invalid("the first check digit of the identity number does not match")
    if number[10] != expected[1]:
        raise _invalid("the second check digit of the identity number does not match")


def _invalid(detail: str) -> InputRejected:
    return InputRejected(detail, reason=Reason.INVALID_IDENTITY_NUMBER)
