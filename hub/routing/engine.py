"""Deciding, for one canonical event and one recipient kind, which rule applies or why none does.

Pure functions over the policy and the event's JSON form, so that the stages, `hub policy
explain` and the tests all decide alike.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from hub.routing.paths import project
from hub.routing.policy import Policy, Rule
from schemas.recipients import RecipientKind, Refusal

__all__ = [
    "RESIDENCE_PATHS",
    "Matched",
    "Refused",
    "Verdict",
    "decide",
    "explain",
    "lookup",
    "projected",
    "residence_municipality",
]

# Where an event names the municipality the person lives in: a release, a transfer to a form
# served outside prison, and the police's custody events.
RESIDENCE_PATHS = (
    "release.residence_municipality",
    "transfer.residence_municipality",
    "residence_municipality",
)


@dataclass(frozen=True, slots=True)
class Matched:
    rule: Rule


@dataclass(frozen=True, slots=True)
class Refused:
    reason: Refusal
    # The first rule for the event type whose condition failed; None when no rule has the type.
    rule_id: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """One rule's answer for one event, as `hub policy explain` shows it."""

    rule: Rule
    matched: bool
    why: str


def lookup(document: Mapping[str, Any], path: str) -> Any:
    """The value at dotted `path` of a JSON object, or None."""
    value: Any = document
    for part in path.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def decide(
    policy: Policy,
    kind: RecipientKind,
    event: Mapping[str, Any],
    consents: Collection[str] | None = None,
) -> Matched | Refused:
    """The first rule for `kind` that matches `event` (its JSON form), or why none does.

    `consents`: the person's consent in force now (`ConsentRecipient` values); without it, the
    consent the event itself carries (what `hub policy explain` can see offline).
    """
    first_failure: Refused | None = None
    for rule in policy.rules_for(kind):
        if event["type"] not in rule.types:
            continue
        failed = _failed_condition(rule, event["data"], consents)
        if failed is None:
            return Matched(rule)
        first_failure = first_failure or Refused(failed[0], rule.id, failed[1])
    if first_failure is not None:
        return first_failure
    return Refused(Refusal.NO_RULE, None, f"no rule gives {kind.value} {event['type']}")


def explain(
    policy: Policy, event: Mapping[str, Any], consents: Collection[str] | None = None
) -> list[Verdict]:
    """Every rule's verdict on `event`, in policy order; per recipient the first match applies."""
    verdicts: list[Verdict] = []
    applied: set[RecipientKind] = set()
    for rule in policy.rules:
        if event["type"] not in rule.types:
            verdicts.append(Verdict(rule, False, "not for this event type"))
            continue
        failed = _failed_condition(rule, event["data"], consents)
        if failed is not None:
            verdicts.append(Verdict(rule, False, f"{failed[0].value}: {failed[1]}"))
        elif rule.recipient in applied:
            verdicts.append(Verdict(rule, False, "an earlier rule for this recipient applied"))
        else:
            applied.add(rule.recipient)
            verdicts.append(Verdict(rule, True, "applies"))
    return verdicts


def residence_municipality(data: Mapping[str, Any]) -> str | None:
    """The residence municipality an event's `data` names, if any."""
    return next((v for path in RESIDENCE_PATHS if (v := lookup(data, path))), None)


def projected(rule: Rule, event: Mapping[str, Any]) -> dict[str, Any]:
    """The parts of the event's `data` that `rule` allows, and nothing else."""
    return project(event["data"], rule.data_fields)


def _failed_condition(
    rule: Rule, data: Mapping[str, Any], consents: Collection[str] | None
) -> tuple[Refusal, str] | None:
    # What kind of event it is first, then what it lacks: a transfer from prison to prison is
    # `other_execution_form` whether or not it names a municipality.
    return (
        _kind_failed(rule, data)
        or _residence_failed(rule, data)
        or _consent_failed(rule, data, consents)
    )


def _kind_failed(rule: Rule, data: Mapping[str, Any]) -> tuple[Refusal, str] | None:
    when = rule.when
    if when.execution_form_changes:
        before, after = data.get("execution_form"), lookup(data, "transfer.to_execution_form")
        if after is None or before == after:
            return Refusal.EXECUTION_FORM_UNCHANGED, "the execution form does not change"
    if when.to_execution_form:
        to_form = lookup(data, "transfer.to_execution_form")
        if to_form not in {form.value for form in when.to_execution_form}:
            return Refusal.OTHER_EXECUTION_FORM, f"the transfer is to {to_form}"
    if when.custody_outcome is not None:
        outcome = lookup(data, "custody.outcome")
        if outcome != when.custody_outcome.value:
            return (
                Refusal.OTHER_CUSTODY_OUTCOME,
                f"custody ended as {outcome}, the rule is for {when.custody_outcome.value}",
            )
    return None


def _residence_failed(rule: Rule, data: Mapping[str, Any]) -> tuple[Refusal, str] | None:
    if rule.when.residence_municipality and not residence_municipality(data):
        return Refusal.NO_RESIDENCE_MUNICIPALITY, "the event names no residence municipality"
    return None


def _consent_failed(
    rule: Rule, data: Mapping[str, Any], consents: Collection[str] | None
) -> tuple[Refusal, str] | None:
    consent = rule.when.consent
    if consent is None:
        return None
    if consents is None:
        consents = lookup(data, "release.consent_recipients") or ()
    if consent.value not in consents:
        return Refusal.NO_CONSENT, f"the person has not consented to sharing with {consent}"
    return None
