"""pydantic's validation errors as one line for people, naming where and what, never the input.

pydantic's messages name the rule, except a few that quote the input (`union_tag_invalid`
quotes the tag it found) or are any text a validator raised (`value_error`); for those the
error's type is said instead. A location may name a key of the input (`extra_forbidden`,
`unexpected_keyword_argument`): that key, which may be anything a sender wrote, is not said.
"""

from __future__ import annotations

from typing import Final

from pydantic import ValidationError
from pydantic_core import ErrorDetails

__all__ = ["describe_error", "describe_errors"]

_MESSAGE_QUOTES_INPUT: Final = frozenset(
    {"union_tag_invalid", "value_error", "assertion_error", "literal_error_input"}
)
_LOCATION_NAMES_INPUT: Final = frozenset({"extra_forbidden", "unexpected_keyword_argument"})


def describe_errors(exc: ValidationError, *, shown: int = 3, title: str = "") -> str:
    """The first `shown` errors of `exc`, then how many more."""
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    described = "; ".join(describe_error(e, title=title) for e in errors[:shown])
    more = len(errors) - shown
    return f"{described} (and {more} more)" if more > 0 else described


def describe_error(error: ErrorDetails, *, title: str = "") -> str:
    """`where: what` for one error."""
    location = [str(part) for part in error["loc"]]
    if error["type"] in _LOCATION_NAMES_INPUT and location:
        location[-1] = "(an unknown field)"
    where = ".".join(([title] if title else []) + location) or title or "document"
    what = error["type"] if error["type"] in _MESSAGE_QUOTES_INPUT else error["msg"]
    return f"{where}: {what}"
