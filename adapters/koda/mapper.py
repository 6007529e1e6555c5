"""`KodaHendelse` → canonical event, with the contract rules the XSD cannot express.

Checked in this order, each with its own reason code (the last three as the body is built):
  body element matches Hendelsestype                       body_mismatch
  an expected release is not before the start             body_mismatch
  Status is one Hendelsestype can have                     status_not_allowed
  Straffesak and Gjennomforingsform, except for SAMTYKKE   schema_violation
  identity number: date part, check digits, element kind   invalid_identity_number
  synthetic test numbers only where allowed                test_identity_not_allowed
  dates and times are real and plausible                   invalid_date
  residence municipality: no county 00                     invalid_municipality_number
  anything else the canonical models refuse                schema_violation
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from pydantic import ValidationError

from adapters import rules
from adapters.context import TranslationContext
from adapters.koda.record import (
    KodaBody,
    KodaEnhet,
    KodaHendelse,
    KodaIverksettelse,
    KodaLoslatelse,
    KodaOverforing,
    KodaPerson,
    KodaSamtykke,
    KodaUnnvikelse,
)
from schemas.errors import InputRejected, Reason
from schemas.events import (
    CanonicalEvent,
    Case,
    Consent,
    ConsentData,
    ConsentGiven,
    ConsentRecipient,
    ConsentWithdrawn,
    CorrectionalData,
    Escape,
    EscapeData,
    EscapeReported,
    ExecutionForm,
    IdentityKind,
    Need,
    Person,
    Reaction,
    Release,
    ReleaseCancelled,
    ReleaseCompleted,
    ReleaseData,
    ReleaseKind,
    ReleasePlanned,
    SentenceStart,
    SentenceStarted,
    SentenceStartedData,
    Transfer,
    TransferCancelled,
    TransferCompleted,
    TransferData,
    TransferPlanned,
    Unit,
)
from schemas.identity import check_municipality_number
from schemas.ids import canonical_id

__all__ = ["SOURCE", "to_canonical"]

SOURCE: Final = "urn:no:kriminalomsorgen:koda"

_EventClass = (
    type[SentenceStarted]
    | type[TransferPlanned]
    | type[TransferCompleted]
    | type[TransferCancelled]
    | type[ReleasePlanned]
    | type[ReleaseCompleted]
    | type[ReleaseCancelled]
    | type[EscapeReported]
    | type[ConsentGiven]
    | type[ConsentWithdrawn]
)
# Starts and escapes are reported when they have happened; transfers and releases are announced
# ahead, and can be called off.
_EVENT_CLASSES: Final[dict[tuple[str, str], _EventClass]] = {
    ("IVERKSETTELSE", "GJENNOMFORT"): SentenceStarted,
    ("OVERFORING", "PLANLAGT"): TransferPlanned,
    ("OVERFORING", "GJENNOMFORT"): TransferCompleted,
    ("OVERFORING", "KANSELLERT"): TransferCancelled,
    ("LOSLATELSE", "PLANLAGT"): ReleasePlanned,
    ("LOSLATELSE", "GJENNOMFORT"): ReleaseCompleted,
    ("LOSLATELSE", "KANSELLERT"): ReleaseCancelled,
    ("UNNVIKELSE", "GJENNOMFORT"): EscapeReported,
    ("SAMTYKKE", "GITT"): ConsentGiven,
    ("SAMTYKKE", "TRUKKET"): ConsentWithdrawn,
}
_BODY_OF: Final[dict[str, type[KodaBody]]] = {
    "IVERKSETTELSE": KodaIverksettelse,
    "OVERFORING": KodaOverforing,
    "LOSLATELSE": KodaLoslatelse,
    "UNNVIKELSE": KodaUnnvikelse,
    "SAMTYKKE": KodaSamtykke,
}
_KIND_OF: Final = {"Fodselsnummer": IdentityKind.FNR, "DNummer": IdentityKind.DNR}


def to_canonical(record: KodaHendelse, ctx: TranslationContext) -> CanonicalEvent:
    """The canonical event for `record`, or `InputRejected` naming the rule it breaks."""
    event_class = _event_class(record)
    person = _person(record.person, ctx)
    event_id = canonical_id(SOURCE, record.hendelse_id)
    try:
        return event_class(
            id=event_id,
            source=SOURCE,
            time=rules.real_timestamp(record.registrert, "Registrert"),
            subject=ctx.person_key(record.person.identitetsnummer),
            correlationid=ctx.correlation_id or event_id,
            replaces=rules.replaced(SOURCE, record.hendelse_id, record.erstatter, "Erstatter"),
            sourceeventid=record.hendelse_id,
            data=_data(record, person),  # type: ignore[arg-type]  # _data builds the body of this record's type; mypy cannot pair them
        )
    except ValidationError as exc:
        raise rules.schema_violation(exc) from exc


def _event_class(record: KodaHendelse) -> _EventClass:
    # Values are named only when they are codes the contract knows: a record built in code has
    # not been through the XSD, and its fields could hold anything.
    expected_body = _BODY_OF.get(record.hendelsestype)
    if expected_body is None or not isinstance(record.body, expected_body):
        raise InputRejected(
            f"Hendelsestype {_known(record.hendelsestype, _BODY_OF)} has a "
            f"{type(record.body).__name__.removeprefix('Koda')} body",
            reason=Reason.BODY_MISMATCH,
        )
    event_class = _EVENT_CLASSES.get((record.hendelsestype, record.status))
    if event_class is None:
        statuses = {status for _, status in _EVENT_CLASSES}
        raise InputRejected(
            f"Status {_known(record.status, statuses)} is not allowed for "
            f"Hendelsestype {record.hendelsestype}",
            reason=Reason.STATUS_NOT_ALLOWED,
        )
    return event_class


def _known(value: str, codes: Iterable[str]) -> str:
    return value if value in codes else "(not a known code)"


def _person(person: KodaPerson, ctx: TranslationContext) -> Person:
    return rules.person(
        person.identitetsnummer,
        person.fornavn,
        person.etternavn,
        ctx,
        declared=_KIND_OF[person.nummertype],
        where=person.nummertype,
    )


def _data(record: KodaHendelse, person: Person) -> CorrectionalData | ConsentData:
    body = record.body
    if isinstance(body, KodaSamtykke):
        return rules.build(
            ConsentData, person=person, unit=_unit(record.enhet), consent=_consent(body)
        )
    case, form = record.straffesak, record.gjennomforingsform
    if case is None or form is None:
        raise InputRejected(
            f"Hendelsestype {record.hendelsestype} needs Straffesak and Gjennomforingsform",
            reason=Reason.SCHEMA_VIOLATION,
        )
    common = {
        "person": person,
        "case": rules.build(
            Case,
            case_number=case.saksnummer,
            reaction=rules.code(Reaction, case.reaksjon, "Reaksjon"),
            offences=case.lovbrudd,
        ),
        "unit": _unit(record.enhet),
        "execution_form": rules.code(ExecutionForm, form, "Gjennomforingsform"),
    }
    if isinstance(body, KodaIverksettelse):
        return rules.build(SentenceStartedData, **common, start=_start(body))
    if isinstance(body, KodaOverforing):
        return rules.build(TransferData, **common, transfer=_transfer(body))
    if isinstance(body, KodaLoslatelse):
        return rules.build(ReleaseData, **common, release=_release(body))
    return rules.build(EscapeData, **common, escape=_escape(body))


def _start(body: KodaIverksettelse) -> SentenceStart:
    start = rules.real_date(body.startdato, "Iverksettelse/Startdato")
    expected = body.forventet_loslatelse
    release = (
        None if expected is None else rules.real_date(expected, "Iverksettelse/ForventetLoslatelse")
    )
    if release is not None and release < start:
        raise InputRejected(
            "Iverksettelse/ForventetLoslatelse is before Iverksettelse/Startdato",
            reason=Reason.BODY_MISMATCH,
        )
    return rules.build(SentenceStart, start_date=start, expected_release_date=release)


def _transfer(body: KodaOverforing) -> Transfer:
    return rules.build(
        Transfer,
        date=rules.real_date(body.dato, "Overforing/Dato"),
        to_unit=_unit(body.til_enhet),
        to_execution_form=rules.code(ExecutionForm, body.til_form, "Overforing/TilForm"),
        reason=body.arsak,
        residence_municipality=_municipality(body.oppholdskommune),
    )


def _release(body: KodaLoslatelse) -> Release:
    return rules.build(
        Release,
        date=rules.real_date(body.dato, "Loslatelse/Dato"),
        kind=rules.code(ReleaseKind, body.type, "Loslatelse/Type"),
        probation_days=body.provetid_dager,
        residence_municipality=_municipality(body.oppholdskommune),
        consent_recipients=tuple(
            rules.code(ConsentRecipient, c, "Mottaker") for c in body.samtykke
        ),
        needs=tuple(rules.code(Need, n, "Behov") for n in body.behov),
    )


def _municipality(number: str | None) -> str | None:
    return None if number is None else check_municipality_number(number)


def _consent(body: KodaSamtykke) -> Consent:
    until = body.gyldig_til
    return rules.build(
        Consent,
        recipients=tuple(rules.code(ConsentRecipient, m, "Mottaker") for m in body.mottakere),
        source=body.kilde,
        valid_until=None if until is None else rules.real_date(until, "Samtykke/@gyldigTil"),
    )


def _escape(body: KodaUnnvikelse) -> Escape:
    return rules.build(
        Escape,
        time=rules.real_timestamp(body.tidspunkt, "Unnvikelse/Tidspunkt"),
        description=body.beskrivelse,
    )


def _unit(enhet: KodaEnhet) -> Unit:
    return rules.build(Unit, code=enhet.kode, name=enhet.navn)
