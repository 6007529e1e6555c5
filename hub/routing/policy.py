"""The routing policy: which recipient gets which event, under which rule and legal basis, with
which fields. Data, not code: a TOML file (`deploy/policy/routing.toml`), checked strictly when
the hub starts, and never reloaded while it runs (change it, `hub policy check`, restart).

    version = 1
    [settings]                      lead time and receipt deadline
    [recipients.<kind>]             one table per recipient kind the policy delivers to
    [[rules]]                       in order; per recipient, the first rule that matches applies

A rule names an `id`, its `recipient` (a kind), the event `types`, a condition (`when`), the
`fields` the recipient receives (dotted paths into the canonical event's `data`; a path names a
whole subtree; everything else is dropped), the `legal_basis` recorded with every delivery, the
destination `topic` (a template: `{municipality}` and `{region}` are the recipient's place), and
whether a delivery needs a receipt and a lead time.

Every mistake is refused with one line naming the rule and the problem: unknown keys, unknown
event types, fields the event does not have or the recipient's message schema cannot hold,
duplicate rule ids, unknown recipients, bad topic templates.
"""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from hub.routing.paths import descendants, model_paths
from schemas.events import EVENT_CLASSES, ConsentRecipient, Envelope, event_type_of
from schemas.events.codes import CustodyOutcome, ExecutionForm
from schemas.identity import identity_number_spans
from schemas.recipients import RecipientKind, data_model_of
from schemas.recipients.envelope import RuleId
from schemas.recipients.person import NoticeLanguage

__all__ = [
    "PLACE_OF",
    "PLANNED_DATE",
    "Condition",
    "Policy",
    "PolicyError",
    "PolicySettings",
    "RecipientSpec",
    "Rule",
    "load_policy",
    "parse_policy",
]

_EVENT_MODELS: Final[dict[str, type[Envelope]]] = {event_type_of(c): c for c in EVENT_CLASSES}
# The placeholder each recipient kind's topics must name: the place the recipient is.
PLACE_OF: Final[dict[RecipientKind, str | None]] = {
    RecipientKind.POLICE_REGISTER: None,
    RecipientKind.NAV: None,
    RecipientKind.MUNICIPALITY: "municipality",
    RecipientKind.HEALTH: "region",
    RecipientKind.CORRECTIONAL: None,
    RecipientKind.PERSON: None,
}
_SAMPLE_PLACE: Final = {"municipality": "0301", "region": "sor-ost"}
# Where a planned event says its day: what a lead time is measured to.
PLANNED_DATE: Final[dict[str, str]] = {
    "no.kriminalomsorgen.release.planned.v1": "release.date",
    "no.kriminalomsorgen.transfer.planned.v1": "transfer.date",
}
_TOPIC: Final = re.compile(r"^[a-zA-Z0-9._{}-]{1,200}$")


class PolicyError(ValueError):
    """A policy the hub will not start with; the message is one line for the operator."""


class _Strict(BaseModel):
    # Lax only where TOML has no type of its own: arrays to tuples, strings to enums.
    model_config = ConfigDict(extra="forbid", frozen=True)


class PolicySettings(_Strict):
    # A planned release must reach the residence municipality this long before the day.
    municipality_lead_time_days: int = Field(default=14, ge=0, le=365)
    # A delivery under a rule with `receipt_required` must be acknowledged within this time.
    receipt_deadline_hours: int = Field(default=48, ge=1, le=24 * 60)
    # A dead letter still open this close to a person's planned release is an alert.
    blocked_release_days: int = Field(default=7, ge=0, le=365)
    # The language of the notice to the person: bokmål (nb) or nynorsk (nn).
    person_notice_language: NoticeLanguage = "nb"


class RecipientSpec(_Strict):
    description: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    # Where the recipient sends its receipts; the same placeholders as its topics.
    receipts: Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Condition(_Strict):
    """What must hold for a rule to apply, beyond the event type. All must hold."""

    consent: ConsentRecipient | None = None
    residence_municipality: Literal["present"] | None = None
    execution_form_changes: Literal[True] | None = None
    # A transfer to one of these forms (e.g. out of prison: electronic monitoring, § 12, a
    # halfway house); a transfer from prison to prison then does not match.
    to_execution_form: tuple[ExecutionForm, ...] | None = Field(default=None, min_length=1)
    # Remand custody ended this way (e.g. RELEASED: out of custody, not on to serve a sentence).
    custody_outcome: CustodyOutcome | None = None


class Rule(_Strict):
    id: RuleId
    recipient: RecipientKind
    types: tuple[str, ...] = Field(min_length=1)
    when: Condition = Condition()
    fields: tuple[str, ...] = Field(min_length=1)
    legal_basis: Annotated[str, StringConstraints(min_length=1, max_length=500)]
    topic: str
    receipt_required: bool = False
    lead_time: bool = False

    @cached_property
    def data_fields(self) -> tuple[str, ...]:
        """The allowed paths relative to the event's `data` (and the recipient's `data`)."""
        return tuple(f.removeprefix("data.") for f in self.fields)


class Policy(_Strict):
    version: Literal[1]
    settings: PolicySettings = PolicySettings()
    recipients: dict[RecipientKind, RecipientSpec]
    rules: tuple[Rule, ...] = Field(min_length=1)

    def rules_for(self, kind: RecipientKind) -> tuple[Rule, ...]:
        return tuple(rule for rule in self.rules if rule.recipient is kind)

    def rule(self, rule_id: str) -> Rule | None:
        return next((rule for rule in self.rules if rule.id == rule_id), None)

    def checked(self) -> Self:
        """`self`, or the first mistake as a `PolicyError`."""
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise PolicyError(f"rule {rule.id}: the id is used by an earlier rule")
            seen.add(rule.id)
            _check_rule(rule, self)
        for kind, spec in self.recipients.items():
            _check_template(f"recipient {kind.value}: receipts", spec.receipts, kind)
        return self


def load_policy(path: Path) -> Policy:
    """The checked policy in the TOML file at `path`."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PolicyError(f"{path}: cannot read the policy: {exc.strerror or exc}") from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise PolicyError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return parse_policy(raw)
    except PolicyError as exc:
        raise PolicyError(f"{path}: {exc}") from exc


def parse_policy(raw: dict[str, Any]) -> Policy:
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyError(_first_problem(exc, raw)) from exc
    return policy.checked()


def _check_rule(rule: Rule, policy: Policy) -> None:
    where = f"rule {rule.id}"
    if rule.recipient not in policy.recipients:
        raise PolicyError(f"{where}: recipient {rule.recipient.value} has no [recipients] table")
    unknown = [t for t in rule.types if t not in _EVENT_MODELS]
    if unknown:
        raise PolicyError(f"{where}: unknown event type {unknown[0]}")
    if len(set(rule.types)) != len(rule.types):
        raise PolicyError(f"{where}: an event type is listed twice")
    _check_fields(rule)
    _check_template(f"{where}: topic", rule.topic, rule.recipient)
    _check_text(where, rule.legal_basis)
    if rule.lead_time and any(t not in PLANNED_DATE for t in rule.types):
        raise PolicyError(
            f"{where}: lead_time is only for planned events ({', '.join(PLANNED_DATE)})"
        )


def _check_fields(rule: Rule) -> None:
    where = f"rule {rule.id}"
    if len(set(rule.fields)) != len(rule.fields):
        raise PolicyError(f"{where}: a field is listed twice")
    schema = model_paths(data_model_of(rule.recipient))  # type: ignore[arg-type]  # a model class
    for field in rule.fields:
        if not field.startswith("data."):
            raise PolicyError(f"{where}: field {field} is not a path into the event's data")
        in_events = [model_paths(_EVENT_MODELS[t]) for t in rule.types]
        if not any(field in paths for paths in in_events):
            raise PolicyError(f"{where}: field {field} is in none of the rule's event types")
        for paths in in_events:
            for path in sorted(descendants(paths, field)):
                if path.removeprefix("data.") not in schema:
                    raise PolicyError(
                        f"{where}: field {path} is not in the {rule.recipient.value} message "
                        "schema (schemas/recipients)"
                    )


def _check_template(where: str, template: str, kind: RecipientKind) -> None:
    place = PLACE_OF[kind]
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        raise PolicyError(f"{where} {template!r} is not a valid template: {exc}") from exc
    expected = {place} if place else set()
    if names != expected:
        wanted = f"{{{place}}}" if place else "no placeholder"
        raise PolicyError(f"{where} {template!r} must name {wanted}")
    rendered = template.format(**_SAMPLE_PLACE)
    if not _TOPIC.fullmatch(template) or rendered in {".", ".."}:
        raise PolicyError(f"{where} {template!r} does not make a valid Kafka topic name")


def _check_text(where: str, text: str) -> None:
    if next(identity_number_spans(text), None) is not None:
        raise PolicyError(f"{where}: legal_basis holds what may be an identity number")


def _first_problem(exc: ValidationError, raw: dict[str, Any]) -> str:
    error = exc.errors()[0]
    loc = [str(part) for part in error["loc"]]
    where = _where(loc, raw)
    if error["type"] == "extra_forbidden":
        return f"{where}: unknown key {loc[-1]!r}"
    if error["type"] == "enum" and len(loc) >= 2 and loc[0] == "recipients":
        return f"unknown recipient {loc[1]!r} (known: {', '.join(k.value for k in RecipientKind)})"
    return f"{where}: {'.'.join(loc[2:] if loc[0] == 'rules' else loc) or 'policy'}: {error['msg']}"


def _where(loc: Sequence[str], raw: dict[str, Any]) -> str:
    if len(loc) >= 2 and loc[0] == "rules" and loc[1].isdigit():
        rules = raw.get("rules") or []
        index = int(loc[1])
        rule = rules[index] if index < len(rules) and isinstance(rules[index], dict) else {}
        return f"rule {rule.get('id', f'#{index + 1}')}"
    return "policy" if not loc else f"[{loc[0]}]"
