"""`KodaHendelse` → canonical event, with the contract rules the XSD cannot express.

Checked in this order, each with its own reason code (the last three as the body is built):
  body element matches Hendelsestype                       body_mismatch
  Status is one Hendelsestype can have                     status_not_allowed
  identity number: date part, check digits, element kind   invalid_identity_number
  synthetic test numbers only where allowed                test_identity_not_allowed
  dates and times are real                                 invalid_date
  residence municipality: no county 00                     invalid_municipality_number
  anything else the canonical models refuse                schema_violation
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Final, TypeVar

from pydantic import ValidationError

from adapters.context import TranslationContext
from adapters.koda.record import (
    KodaBody,
    KodaEnhet,
    KodaHendelse,
    KodaIverksettelse,
    KodaLoslatelse,
    KodaOverforing,
    KodaPerson,
    KodaUnnvikelse,
)
from schemas.errors import InputRejected, Reason
from schemas.events import (
    CanonicalEvent,
    Case,
    ConsentRecipient,
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
from schemas.identity import check_identity_number, check_municipality_number
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
}
_BODY_OF: Final[dict[str, type[KodaBody]]] = {
    "IVERKSETTELSE": KodaIverksettelse,
    "OVERFORING": KodaOverforing,
    "LOSLATELSE": KodaLoslatelse,
    "UNNVIKELSE": KodaUnnvikelse,
}
_KIND_OF: Final = {"Fodselsnummer": IdentityKind.FNR, "DNummer": IdentityKind.DNR}

_E = TypeVar("_E", bound=StrEnum)


def to_canonical(record: KodaHendelse, ctx: TranslationContext) -> CanonicalEvent:
    """The canonical event for `record`, or `InputRejected` naming the rule it breaks."""
    event_class = _event_class(record)
    person = _person(record.person, ctx)
    event_id = canonical_id(SOURCE, record.hendelse_id)
    try:
        return event_class(
            id=event_id,
            source=SOURCE,
            time=_timestamp(record.registrert, "Registrert"),
            subject=ctx.person_key(record.person.identitetsnummer),
            correlationid=ctx.correlation_id or event_id,
            replaces=_replaces(record),
            sourceeventid=record.hendelse_id,
            data=_data(record, person),  # type: ignore[arg-type]  # _data builds the body of this record's type; mypy cannot pair them
        )
    except ValidationError as exc:
        raise _schema_violation(exc) from exc


def _event_class(record: KodaHendelse) -> _EventClass:
    expected_body = _BODY_OF.get(record.hendelsestype)
    if expected_body is None or not isinstance(record.body, expected_body):
        raise InputRejected(
            f"Hendelsestype {record.hendelsestype} has a "
            f"{type(record.body).__name__.removeprefix('Koda')} body",
            reason=Reason.BODY_MISMATCH,
        )
    event_class = _EVENT_CLASSES.get((record.hendelsestype, record.status))
    if event_class is None:
        raise InputRejected(
            f"Status {record.status} is not allowed for Hendelsestype {record.hendelsestype}",
            reason=Reason.STATUS_NOT_ALLOWED,
        )
    return event_class


def _person(person: KodaPerson, ctx: TranslationContext) -> Person:
    info = check_identity_number(person.identitetsnummer, allow_synthetic=ctx.allow_test_identities)
    if info.kind is not _KIND_OF[person.nummertype]:
        raise InputRejected(
            f"{person.nummertype} holds a {info.kind.value} number",
            reason=Reason.INVALID_IDENTITY_NUMBER,
        )
    return _build(
        Person,
        identity_number=person.identitetsnummer,
        identity_kind=info.kind,
        given_name=person.fornavn,
        family_name=person.etternavn,
    )


def _replaces(record: KodaHendelse) -> str | None:
    if record.erstatter is None:
        return None
    if record.erstatter == record.hendelse_id:
        raise InputRejected("Erstatter names the event itself", reason=Reason.SCHEMA_VIOLATION)
    return canonical_id(SOURCE, record.erstatter)


def _data(record: KodaHendelse, person: Person) -> CorrectionalData:
    common = {
        "person": person,
        "case": _build(
            Case,
            case_number=record.straffesak.saksnummer,
            reaction=_code(Reaction, record.straffesak.reaksjon, "Reaksjon"),
            offences=record.straffesak.lovbrudd,
        ),
        "unit": _unit(record.enhet),
        "execution_form": _code(ExecutionForm, record.gjennomforingsform, "Gjennomforingsform"),
    }
    body = record.body
    if isinstance(body, KodaIverksettelse):
        return _build(SentenceStartedData, **common, start=_start(body))
    if isinstance(body, KodaOverforing):
        return _build(TransferData, **common, transfer=_transfer(body))
    if isinstance(body, KodaLoslatelse):
        return _build(ReleaseData, **common, release=_release(body))
    return _build(EscapeData, **common, escape=_escape(body))


def _start(body: KodaIverksettelse) -> SentenceStart:
    expected = body.forventet_loslatelse
    return _build(
        SentenceStart,
        start_date=_date(body.startdato, "Iverksettelse/Startdato"),
        expected_release_date=(
            None if expected is None else _date(expected, "Iverksettelse/ForventetLoslatelse")
        ),
    )


def _transfer(body: KodaOverforing) -> Transfer:
    return _build(
        Transfer,
        date=_date(body.dato, "Overforing/Dato"),
        to_unit=_unit(body.til_enhet),
        to_execution_form=_code(ExecutionForm, body.til_form, "Overforing/TilForm"),
        reason=body.arsak,
    )


def _release(body: KodaLoslatelse) -> Release:
    municipality = body.oppholdskommune
    return _build(
        Release,
        date=_date(body.dato, "Loslatelse/Dato"),
        kind=_code(ReleaseKind, body.type, "Loslatelse/Type"),
        probation_days=body.provetid_dager,
        residence_municipality=(
            None if municipality is None else check_municipality_number(municipality)
        ),
        consent_recipients=tuple(_code(ConsentRecipient, c, "Mottaker") for c in body.samtykke),
        needs=tuple(_code(Need, n, "Behov") for n in body.behov),
    )


def _escape(body: KodaUnnvikelse) -> Escape:
    return _build(
        Escape,
        time=_timestamp(body.tidspunkt, "Unnvikelse/Tidspunkt"),
        description=body.beskrivelse,
    )


def _unit(enhet: KodaEnhet) -> Unit:
    return _build(Unit, code=enhet.kode, name=enhet.navn)


_M = TypeVar("_M")


def _build(model: type[_M], **fields: object) -> _M:
    try:
        return model(**fields)
    except ValidationError as exc:
        raise _schema_violation(exc) from exc


def _code(enum: type[_E], value: str, where: str) -> _E:
    try:
        return enum(value)
    except ValueError as exc:
        raise InputRejected(f"{where}: unknown code {value!r}") from exc


def _date(value: str, where: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise InputRejected(
            f"{where} {value!r} is not a calendar date", reason=Reason.INVALID_DATE
        ) from exc


def _timestamp(value: str, where: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise InputRejected(
            f"{where} {value!r} is not a real date and time", reason=Reason.INVALID_DATE
        ) from exc
    if parsed.tzinfo is None:
        raise InputRejected(f"{where} has no UTC offset", reason=Reason.INVALID_DATE)
    return parsed


def _schema_violation(exc: ValidationError) -> InputRejected:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or exc.title
    return InputRejected(f"{exc.title}.{where}: {first['msg']}", reason=Reason.SCHEMA_VIOLATION)
