"""Identity numbers for tests, all of which can belong to no living person.

Synthetic numbers add 40 or 80 to the month. The few ordinary ("real-month") numbers the tests
need are dated in 2039 with an individual number of the 2000-2039 series: nobody is born yet.
"""

from __future__ import annotations

from schemas.identity import check_digits

__all__ = ["FUTURE_DNR", "FUTURE_FNR", "SYNTHETIC_DNR", "SYNTHETIC_FNR", "complete"]


def complete(ddmmyy: str, first_individual: int = 0) -> str:
    """The first valid number with this date part, from `first_individual` upwards."""
    for individual in range(first_individual, 1000):
        first_nine = f"{ddmmyy}{individual:03d}"
        digits = check_digits(first_nine)
        if digits is not None:
            return first_nine + digits
    raise ValueError("no valid number with this date part")


SYNTHETIC_FNR = complete("128385", 456)  # 12 March 1985, month + 80
SYNTHETIC_DNR = complete("528190", 123)  # D-nummer: 12 January 1990, day + 40, month + 80
FUTURE_FNR = complete("150639", 900)  # 15 June 2039
FUTURE_DNR = complete("550639", 900)  # D-nummer, 15 June 2039
