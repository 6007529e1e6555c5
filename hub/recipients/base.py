"""The shape every recipient stage shares: verify → the recipient's contract → project → sign.

A recipient module (`police_register`, `nav`, `municipality`, `health`, `correctional`,
`person`) supplies a `Contract`: where its recipient is (`place`) and what it insists on
(`check`); the person's also `Composes` its notice. `recipient_step` does the rest, for one
canonical event at a time:

1. verify the canonical event's signature (a failure is dead-lettered, never acted upon);
2. decide by the policy, with the person's consent as it stands now (a consent event, or a
   release carrying consent, is applied to it first): the first matching rule for this
   recipient kind, or a refusal;
3. find where the recipient is (a contract failure, such as an unknown municipality, raises
   `ContractViolation`: the runner dead-letters the event with its reason);
4. project the event to the rule's fields and check the recipient's own contract;
5. reach every recipient of this kind that received the event this one corrects or cancels
   (any event kind), or the plan it cancels, even when the new version would no longer go to
   it: a `correction` or `cancellation` to those it still concerns, a `withdrawal` to the rest;
6. for a withdrawal of consent, tell each recipient that received information under it;
7. sign each message as the hub, and stage the delivery entries (and the consent state).

It returns its records with a note of what it decided (deliveries and refusals: `Effects`); the
runner carries the notes to the input's outcome, and the audit hook records them once the
outputs are acknowledged.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeGuard, runtime_checkable

import orjson
import structlog
from pydantic import ValidationError

from hub.audit.notes import AuditNote, where
from hub.pipeline import headers as h
from hub.pipeline.records import InboundRecord, OutboundRecord, Position, text_headers
from hub.pipeline.runner import Effects
from hub.recipients.alerts import alert_record, gap_alert, new_alert, resolved
from hub.routing.consent import StagedConsent, withdrawn_from
from hub.routing.deliveries import (
    INFORMING,
    DeliveryEntry,
    Receipted,
    StagedIndex,
    entry_record,
    plan_key,
)
from hub.routing.engine import Matched, Refused, decide, lookup, projected
from hub.routing.policy import PLANNED_DATE, Policy, Rule
from schemas import codec
from schemas.alerts import AlertKind
from schemas.audit import AuditFacts, AuditStep, audit_id
from schemas.errors import ContractViolation
from schemas.events import IDENTITY_CHECKED, CanonicalEvent
from schemas.recipients import (
    MESSAGE_CLASSES,
    Action,
    RecipientKind,
    Refusal,
    recipient_message_id,
)
from schemas.recipients.envelope import encode_message
from schemas.validation import describe_errors

__all__ = [
    "Composes",
    "Contract",
    "Decision",
    "Note",
    "Place",
    "ReceiptNote",
    "StageContext",
    "recipient_step",
    "verified_event",
]

log = structlog.get_logger(__name__)

RECIPIENT_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"
_CANCELLED = ".cancelled."
_COMPLETED = ".completed."
_PLANNED = ".planned."


@dataclass(frozen=True, slots=True)
class Place:
    """Where a recipient is: its id, the values of its topic placeholders, and whether the event
    named a retired place that was followed to its successor."""

    recipient: str
    values: dict[str, str] = field(default_factory=dict)
    redirected_from: str | None = None


class Contract(Protocol):
    """What one recipient kind insists on. Both raise `ContractViolation` with a reason code."""

    kind: RecipientKind

    def place(self, rule: Rule, event: dict[str, Any]) -> Place: ...

    def check(self, data: dict[str, Any]) -> None: ...


@runtime_checkable
class Composes(Protocol):
    """A recipient whose message adds to the projected fields (the person's notice)."""

    def compose(
        self, rule: Rule, event: dict[str, Any], data: dict[str, Any], consents: Collection[str]
    ) -> dict[str, Any]: ...


def _composes(contract: Contract) -> TypeGuard[Composes]:
    return _composing(type(contract))


@functools.cache
def _composing(kind: type) -> bool:
    # Asked for every event and kind; a runtime protocol check looks at every member each time.
    return issubclass(kind, Composes)


@dataclass(frozen=True, slots=True)
class Decision(AuditNote):
    """A delivery or a refusal, as the audit trail records it.

    A delivery is recorded from the acknowledged message itself (`delivered`, with its
    position); the decision adds only the retired place it was redirected from. A refusal is a
    record of its own, with its reason."""

    delivered: bool
    canonical_id: str
    event_type: str
    subject: str
    recipient: str
    rule_id: str | None = None
    legal_basis: str | None = None
    reason: str | None = None
    message_id: str | None = None
    action: Action | None = None
    redirected_from: str | None = None
    topic: str | None = None

    def fact(self, stage: str, position: Position) -> AuditFacts | None:
        if self.delivered:
            return None
        return AuditFacts(
            id=audit_id(AuditStep.REFUSED, stage, str(position), self.recipient),
            step=AuditStep.REFUSED,
            stage=stage,
            input=where(position),
            subject=self.subject or None,
            message_id=self.canonical_id,
            event_type=self.event_type or None,
            recipient=self.recipient,
            rule_id=self.rule_id,
            reason=self.reason,
        )

    def amend(self, fact: AuditFacts) -> AuditFacts:
        moved = self.redirected_from
        if moved is None or fact.delivered_id != self.message_id:
            return fact
        return fact.model_copy(update={"redirected_from": moved})


@dataclass(frozen=True, slots=True)
class ReceiptNote(AuditNote):
    """A recipient's receipt the hub accepted, as the audit trail records it."""

    recipient: str
    message_id: str
    canonical_id: str
    subject: str
    status: str

    def fact(self, stage: str, position: Position) -> AuditFacts | None:
        return AuditFacts(
            id=audit_id(AuditStep.RECEIPT, stage, str(position)),
            step=AuditStep.RECEIPT,
            stage=stage,
            input=where(position),
            subject=self.subject,
            message_id=self.canonical_id,
            recipient=self.recipient,
            delivered_id=self.message_id,
            receipt_status=self.status,
        )


Note = Decision | ReceiptNote


@dataclass
class StageContext:
    """Everything a recipient step needs besides its contract; built once in `bootstrap`."""

    policy: Policy
    index: StagedIndex
    deliveries_topic: str
    alerts_topic: str
    topic_prefix: str
    verify: Callable[[InboundRecord], object]
    sign: Callable[[OutboundRecord], OutboundRecord]
    clock: Callable[[], dt.datetime]
    # Each person's consent as it stands: what a decision asks, not the event's own snapshot.
    consent: StagedConsent
    # Topics a message may go to that are made on first use: out topic → it and its receipts.
    place_topics: dict[str, tuple[str, ...]] = field(default_factory=dict)
    # The verified event of a record, shared by every kind's step (`hub.recipients.fanout`);
    # None: each step verifies and decodes on its own.
    read: Callable[[InboundRecord], CanonicalEvent] | None = None
    # False: the step applies what an event says about consent to its own view but leaves the
    # writing of the state to the one pass, which writes it once for every kind
    # (`hub.recipients.fanout.ConsentWrites`).
    writes_consent: bool = True


def recipient_step(contract: Contract, ctx: StageContext) -> Callable[[InboundRecord], Effects]:
    """The messages and delivery entries for one event and `contract`'s kind, with a note of
    each delivery or refusal for the audit."""

    def step(record: InboundRecord) -> Effects:
        event = ctx.read(record) if ctx.read is not None else verified_event(record, ctx.verify)
        plan = _Plan(contract, ctx, event, record.position)
        plan.replayed = record.header(h.REPLAY_ID) is not None
        return Effects(plan.run(), plan.decisions)

    return step


def verified_event(
    record: InboundRecord, verify: Callable[[InboundRecord], object]
) -> CanonicalEvent:
    """The canonical event of `record`, once its signature verified (else its error)."""
    verify(record)
    # Verified, so written by the hub; a failure here is a schema the hub no longer reads.
    return codec.decode(record.value, verified=True)


class _Plan:
    """The messages, entries and decisions for one event and one recipient kind."""

    def __init__(
        self, contract: Contract, ctx: StageContext, event: CanonicalEvent, position: Position
    ) -> None:
        self.contract, self.ctx, self.event, self.position = contract, ctx, event, position
        self.doc: dict[str, Any] = event.model_dump(mode="json")
        self.kind = contract.kind
        self.now = ctx.clock()
        self.outputs: list[OutboundRecord] = []
        self.entries: list[DeliveryEntry] = []
        self.decisions: list[Decision] = []
        self.consents: frozenset[str] = frozenset()
        # An operator's replay: a new decision, with consent as it stands (hub.routing.consent).
        self.replayed = False

    def run(self) -> list[OutboundRecord]:
        self.consents = self._consent_in_force()
        verdict = decide(self.ctx.policy, self.kind, self.doc, self.consents)
        priors = self._priors()
        reached: set[str] = set()
        if isinstance(verdict, Matched):
            place = self.contract.place(verdict.rule, self.doc)
            data = projected(verdict.rule, self.doc)
            self.contract.check(data)
            if _composes(self.contract):
                data = self.contract.compose(verdict.rule, self.doc, data, self.consents)
            replacing = self.event.replaces is not None or _CANCELLED in self.event.type
            same = [p for p in priors if p.recipient == place.recipient] if replacing else []
            prior = same[0] if same else None
            self._deliver(verdict.rule, place, data, prior, unannounced=self._unannounced(priors))
            reached.add(place.recipient)
            self._municipality_now_known()
        else:
            self._municipality_unknown(verdict)
        for prior in priors:
            if prior.recipient in reached:
                continue
            if _CANCELLED in self.event.type:
                self._follow_up(prior, Action.CANCELLATION)
            elif self.event.replaces is not None:
                self._follow_up(prior, Action.WITHDRAWAL)
        for prior in priors:
            self._close(prior)
        self._withdraw_shared_needs()
        if not self.decisions:
            self.decisions.append(self._refusal(verdict))
        for entry in self.entries:
            self.ctx.index.stage(entry)
            self.outputs.append(entry_record(entry, self.ctx.deliveries_topic))
        return self.outputs

    def _unannounced(self, priors: list[DeliveryEntry]) -> bool:
        """A completed release the municipality hears of with no planned notice before it: a
        gap the duty to notify is there to close (`no_prior_notice`)."""
        completed = self.event.type == "no.kriminalomsorgen.release.completed.v1"
        first = self.event.replaces is None and not priors
        return self.kind is RecipientKind.MUNICIPALITY and completed and first

    def _municipality_unknown(self, verdict: Refused) -> None:
        """A plan no municipality can be told of, for want of one: `no_municipality`, open
        until a correction of the plan names one."""
        planned = _PLANNED in self.event.type
        if self.kind is not RecipientKind.MUNICIPALITY or not planned:
            return
        if verdict.reason is not Refusal.NO_RESIDENCE_MUNICIPALITY:
            return
        detail = "planned with no residence municipality: no municipality can be told"
        alert = gap_alert(self.event, verdict.rule_id, AlertKind.NO_MUNICIPALITY, detail, self.now)
        log.warning("alert.raised", kind=alert.kind.value, canonical_id=self.event.id)
        self.outputs.append(self.ctx.sign(alert_record(alert, self.ctx.alerts_topic)))

    def _municipality_now_known(self) -> None:
        replaced = self.event.replaces
        if self.kind is not RecipientKind.MUNICIPALITY or replaced is None:
            return
        if _PLANNED not in self.event.type:
            return
        if any(self.ctx.index.told_of(self.kind.value, replaced)):
            return  # a municipality had the plan: there was no gap to close
        earlier = gap_alert(
            self.event, None, AlertKind.NO_MUNICIPALITY, "superseded", self.now, about=replaced
        )
        done = resolved(earlier, "municipality_named", self.now)
        self.outputs.append(self.ctx.sign(alert_record(done, self.ctx.alerts_topic)))

    def _consent_in_force(self) -> frozenset[str]:
        """The person's consent now, with what this event says about it applied first; consent
        registered after the event counts only in a replay (see `hub.routing.consent`)."""
        record = self.ctx.consent.apply(self.event)
        if record is not None and self.ctx.writes_consent:
            self.outputs.append(record)
        registered_by = None if self.replayed else self.event.time
        return self.ctx.consent.in_force(self.event.subject, self.now.date(), registered_by)

    def _withdraw_shared_needs(self) -> None:
        """A withdrawal of consent: tell each recipient that received information under that
        consent, once, naming the last such message; future sharing stops by the decision."""
        withdrawn = withdrawn_from(self.event)
        if not withdrawn:
            return
        shared: dict[str, list[DeliveryEntry]] = {}
        for entry in self.ctx.index.about(self.kind.value, self.event.subject):
            # Withdrawn by this very event on an earlier pass: told again, as any part of that
            # pass's writes may have landed, this entry's change without the message.
            untold = not entry.consentwithdrawn or entry.withdrawnby == self.event.id
            informed = entry.action in INFORMING and untold
            if informed and self._before_this(entry) and self._consent_of(entry) in withdrawn:
                shared.setdefault(entry.recipient, []).append(entry)
        for entries in shared.values():
            self._follow_up(max(entries, key=lambda e: e.deliveredat), Action.WITHDRAWAL)
            self.entries.extend(
                e.changed(consentwithdrawn=True, withdrawnby=self.event.id)
                for e in entries
                if e.withdrawnby != self.event.id
            )

    def _before_this(self, entry: DeliveryEntry) -> bool:
        """Whether `entry`'s event was registered before this one. A withdrawal reaches only
        what was shared before it; consumed again after a crash, its batch would otherwise also
        find (and withdraw) what later events shared under consent given after it."""
        if entry.eventtime is None:
            return True
        return (entry.eventtime, entry.canonicalid) < (self.event.time, self.event.id)

    def _consent_of(self, entry: DeliveryEntry) -> str | None:
        rule = self.ctx.policy.rule(entry.rule)
        consent = rule.when.consent if rule is not None else None
        return None if consent is None else consent.value

    def _priors(self) -> list[DeliveryEntry]:
        """What this kind's recipients were told that this event corrects, cancels or completes:
        of a correction, every message about the event it replaces, whatever its kind (a
        completed release, a judgment, custody); else the open messages of its plan."""
        event = self.event
        if event.replaces is not None:
            # What was told of the replaced document, open or not: the same on every pass.
            return [
                e
                for e in self.ctx.index.told_of(self.kind.value, event.replaces)
                if e.subject == event.subject
            ]
        if _CANCELLED not in event.type and _COMPLETED not in event.type:
            return []
        key = plan_key(event.type, lookup(self.doc, "data.case.case_number"))
        if key is None:
            return []
        # Consumed again (after a crash, or by a new owner of the partition while the old one
        # still writes), the event finds what it closed then, and what it was to close but
        # whose closing has not reached the topic: any part of a batch's writes may land, its
        # new message's entry without its prior's closing. Of its plan it closes what was
        # registered by its own time, never a plan registered later, on every pass alike.
        still_open = [
            e
            for e in self.ctx.index.open_for(self.kind.value, event.subject)
            if e.plan == key and (e.eventtime is None or e.eventtime <= event.time)
        ]
        # In one order on every pass: which prior a recipient's message replaces must not
        # depend on which of them the first pass's writes left closed.
        found = {e.messageid: e for e in self.ctx.index.closed_by(self.kind.value, event.id)}
        found.update((e.messageid, e) for e in still_open)
        return [found[message_id] for message_id in sorted(found)]

    def _deliver(
        self,
        rule: Rule,
        place: Place,
        data: dict[str, Any],
        prior: DeliveryEntry | None,
        *,
        unannounced: bool = False,
    ) -> None:
        action = Action.NOTICE
        if prior is not None:
            action = Action.CANCELLATION if _CANCELLED in self.event.type else Action.CORRECTION
        topic = self.ctx.topic_prefix + rule.topic.format(**place.values)
        receipts = self.ctx.policy.recipients[self.kind].receipts.format(**place.values)
        if place.values:
            self.ctx.place_topics[topic] = (topic, self.ctx.topic_prefix + receipts)
        replaces = self.event.replaces or (prior.canonicalid if prior else None)
        message = self._message(rule.id, rule.legal_basis, place.recipient, action, data, prior)
        message = message.model_copy(
            update={"replaces": replaces, "respondby": self._respond_by(rule)}
        )
        if self.ctx.index.get(message.id) is None:
            self.entries.append(
                self._new_entry(rule, place, topic, action, message.id, unannounced)
            )
        # else sent before: the same message again, but its entry (and alerts) stay as they are.
        self._emit(topic, message, rule.id, rule.legal_basis, place)
        delivered = self._delivered(
            place.recipient, rule.id, rule.legal_basis, message.id, action, topic
        )
        self.decisions.append(dataclasses.replace(delivered, redirected_from=place.redirected_from))

    def _follow_up(self, prior: DeliveryEntry, action: Action) -> None:
        """Tell a recipient that what it received no longer holds, with no new data."""
        message = self._message(prior.rule, prior.legalbasis, prior.recipient, action, None, prior)
        message = message.model_copy(update={"replaces": self.event.replaces or prior.canonicalid})
        self._emit(prior.topic, message, prior.rule, prior.legalbasis, Place(prior.recipient))
        if self.ctx.index.get(message.id) is None:
            self.entries.append(self._follow_up_entry(prior, action, message.id))
        self.decisions.append(
            self._delivered(
                prior.recipient, prior.rule, prior.legalbasis, message.id, action, prior.topic
            )
        )

    def _new_entry(
        self,
        rule: Rule,
        place: Place,
        topic: str,
        action: Action,
        message_id: str,
        unannounced: bool,
    ) -> DeliveryEntry:
        entry = self._entry(rule, place.recipient, topic, action, message_id)
        entry = self._deadlines(rule, entry, place.recipient, message_id)
        if unannounced:
            detail = f"released with no planned-release notice to {place.recipient} before it"
            self.outputs.append(self._alert_raised(entry, AlertKind.NO_PRIOR_NOTICE, detail))
            entry = entry.model_copy(
                update={"alerts": (*entry.alerts, AlertKind.NO_PRIOR_NOTICE.value)}
            )
        return entry

    def _follow_up_entry(
        self, prior: DeliveryEntry, action: Action, message_id: str
    ) -> DeliveryEntry:
        return DeliveryEntry(
            messageid=message_id,
            kind=self.kind.value,
            recipient=prior.recipient,
            topic=prior.topic,
            subject=self.event.subject,
            canonicalid=self.event.id,
            eventtype=self.event.type,
            action=action,
            rule=prior.rule,
            legalbasis=prior.legalbasis,
            deliveredat=self.now,
            eventtime=self.event.time,
        )

    def _close(self, prior: DeliveryEntry) -> None:
        """The plan's earlier message is superseded: no follow-ups, and its alerts are done."""
        if prior.closedby is not None:
            # Closed before: by another event (a correction of a cancelled plan must leave the
            # cancellation as what closed it, or the cancellation consumed again would no
            # longer find it), or by this very one on an earlier pass, whose batch may have
            # lost the resolutions while the closing landed: those are written again.
            if prior.closedby == self.event.id:
                self._resolve(prior, prior.resolvedalerts)
            return
        self._resolve(prior, prior.alerts)
        closed = prior.changed(
            open=False, alerts=(), closedby=self.event.id, resolvedalerts=prior.alerts
        )
        self.entries.append(closed)

    def _resolve(self, prior: DeliveryEntry, kinds: tuple[str, ...]) -> None:
        for kind in kinds:
            self.outputs.append(self._alert_resolved(prior, AlertKind(kind), "superseded"))

    def _message(
        self,
        rule_id: str,
        legal_basis: str,
        recipient: str,
        action: Action,
        data: dict[str, Any] | None,
        prior: DeliveryEntry | None,
    ) -> Any:
        event = self.event
        body = {
            "id": recipient_message_id(recipient, event.id, action),
            "type": event.type,
            "origin": event.source,
            "time": self.doc["time"],
            "subject": event.subject,
            "recipient": recipient,
            "canonicalid": event.id,
            "correlationid": event.correlationid,
            "action": action.value,
            "replacesmessageid": prior.messageid if prior else None,
            "rule": rule_id,
            "legalbasis": legal_basis,
            "data": data,
        }
        try:
            # Its identity number is the verified event's, checked when the hub wrote that.
            return MESSAGE_CLASSES[self.kind].model_validate_json(
                _as_json(body), context=IDENTITY_CHECKED
            )
        except ValidationError as exc:
            raise ContractViolation(
                f"the {self.kind.value} message does not fit its schema: "
                f"{describe_errors(exc, shown=1)}"
            ) from exc

    def _emit(self, topic: str, message: Any, rule_id: str, basis: str, place: Place) -> None:
        pairs = [
            (h.CONTENT_TYPE, RECIPIENT_CONTENT_TYPE),
            (h.EVENT_ID, message.id),
            (h.EVENT_TYPE, message.type),
            (h.CANONICAL_ID, self.event.id),
            (h.CORRELATION_ID, self.event.correlationid),
            (h.RECIPIENT, message.recipient),
            (h.RULE_ID, rule_id),
            (h.LEGAL_BASIS, basis),
            (h.ACTION, message.action.value),
        ]
        if place.redirected_from:
            pairs.append((h.REDIRECTED_FROM, place.redirected_from))
        record = OutboundRecord(
            topic=topic,
            key=self.event.subject.encode("ascii"),
            value=encode_message(message),
            headers=text_headers(pairs),
        )
        self.outputs.append(self.ctx.sign(record))

    def _entry(
        self, rule: Rule, recipient: str, topic: str, action: Action, message_id: str
    ) -> DeliveryEntry:
        planned = ".planned." in self.event.type
        return DeliveryEntry(
            messageid=message_id,
            kind=self.kind.value,
            recipient=recipient,
            topic=topic,
            subject=self.event.subject,
            canonicalid=self.event.id,
            eventtype=self.event.type,
            action=action,
            rule=rule.id,
            legalbasis=rule.legal_basis,
            deliveredat=self.now,
            eventtime=self.event.time,
            plan=plan_key(self.event.type, lookup(self.doc, "data.case.case_number")),
            open=planned,
            planneddate=self._planned_date(),
        )

    def _planned_date(self) -> dt.date | None:
        path = PLANNED_DATE.get(self.event.type)
        value = lookup(self.doc["data"], path) if path else None
        return dt.date.fromisoformat(value) if value else None

    def _respond_by(self, rule: Rule) -> dt.datetime | None:
        """When a receipt is due under `rule`, if it needs one: the message says so."""
        if not rule.receipt_required:
            return None
        return self.now + dt.timedelta(hours=self.ctx.policy.settings.receipt_deadline_hours)

    def _deadlines(
        self, rule: Rule, entry: DeliveryEntry, recipient: str, message_id: str
    ) -> DeliveryEntry:
        settings = self.ctx.policy.settings
        due = self._respond_by(rule)
        if due is not None:
            entry = entry.model_copy(update={"receipt": Receipted(required=True, due=due)})
        if rule.lead_time:
            day = dt.date.fromisoformat(lookup(self.doc["data"], PLANNED_DATE[self.event.type]))
            ahead = (day - self.now.date()).days
            if ahead < settings.municipality_lead_time_days:
                detail = (
                    f"notice published {ahead} days before {day}; the policy requires "
                    f"{settings.municipality_lead_time_days}"
                )
                log.warning(
                    "alert.raised", kind="late_notice", recipient=recipient, message_id=message_id
                )
                self.outputs.append(self._alert_raised(entry, AlertKind.LATE_NOTICE, detail))
                entry = entry.model_copy(update={"alerts": (AlertKind.LATE_NOTICE.value,)})
        return entry

    def _alert_raised(self, entry: DeliveryEntry, kind: AlertKind, detail: str) -> OutboundRecord:
        alert = new_alert(entry, kind, detail, self.now)
        return self.ctx.sign(alert_record(alert, self.ctx.alerts_topic))

    def _alert_resolved(self, entry: DeliveryEntry, kind: AlertKind, why: str) -> OutboundRecord:
        alert = new_alert(entry, kind, "superseded by a later message", entry.deliveredat)
        return self.ctx.sign(alert_record(resolved(alert, why, self.now), self.ctx.alerts_topic))

    def _delivered(
        self,
        recipient: str,
        rule_id: str,
        basis: str,
        message_id: str,
        action: Action,
        topic: str,
    ) -> Decision:
        return Decision(
            delivered=True,
            canonical_id=self.event.id,
            event_type=self.event.type,
            subject=self.event.subject,
            recipient=recipient,
            rule_id=rule_id,
            legal_basis=basis,
            message_id=message_id,
            action=action,
            topic=topic,
        )

    def _refusal(self, verdict: Any) -> Decision:
        return Decision(
            delivered=False,
            canonical_id=self.event.id,
            event_type=self.event.type,
            subject=self.event.subject,
            recipient=self.kind.value,
            rule_id=verdict.rule_id,
            reason=verdict.reason.value,
        )


def _as_json(body: dict[str, Any]) -> bytes:
    """`body` as JSON for the message model to read (from JSON, so dates are read as a
    recipient reads them). orjson for what it writes; a value it refuses (a lone surrogate, an
    integer beyond 64 bits) goes to `json`, and the model says what is wrong with it."""
    try:
        return orjson.dumps(body)
    except orjson.JSONEncodeError:
        return json.dumps(body).encode("ascii")  # escapes all beyond ASCII
