"""Code lists of the recipient messages: what a message does, and why a recipient got none.

Never rename a value; add new ones at the end. Auditors and recipients build against them.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Action", "ReceiptStatus", "RecipientKind", "Refusal"]


class RecipientKind(StrEnum):
    """The kinds of recipient the hub delivers to. One subscriber module each."""

    POLICE_REGISTER = "police-register"
    NAV = "nav"
    MUNICIPALITY = "municipality"
    HEALTH = "health"
    CORRECTIONAL = "correctional"  # the correctional service's case system
    PERSON = "person"  # the person the events are about (through the unit or digital mailbox)


class Action(StrEnum):
    """What a recipient message does with what the recipient knew before."""

    NOTICE = "notice"  # the first message about this event for this recipient
    CORRECTION = "correction"  # replaces a message this recipient received earlier
    CANCELLATION = "cancellation"  # what this recipient received earlier is called off
    WITHDRAWAL = "withdrawal"  # a correction means what it received no longer concerns it


class Refusal(StrEnum):
    """Why a recipient was sent nothing about an event: the hub doing its job, not a failure."""

    NO_RULE = "no_rule"  # no rule of the policy gives this recipient this event type
    NO_CONSENT = "no_consent"  # a rule needs the person's consent, and there is none
    NO_RESIDENCE_MUNICIPALITY = "no_residence_municipality"  # the event names none
    EXECUTION_FORM_UNCHANGED = "execution_form_unchanged"  # a transfer within the same form
    OTHER_CUSTODY_OUTCOME = "other_custody_outcome"  # custody ended, but not as the rule is for
    OTHER_EXECUTION_FORM = "other_execution_form"  # a transfer, but not to a form the rule is for


class ReceiptStatus(StrEnum):
    """What a recipient says about a message it received."""

    RECEIVED = "received"  # stored; not yet acted upon
    PROCESSED = "processed"  # acted upon
    REJECTED = "rejected"  # the recipient cannot use it (the reason says why)
