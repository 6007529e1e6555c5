"""The notice to the person, in plain Norwegian: what will happen and when, who was told what.

Pure functions over the event's JSON form and the decisions the policy makes for the other
recipient kinds (with the consent in force), so the notice says exactly what the hub shares.
Bokmål (`nb`) or nynorsk (`nn`), by the policy's `person_notice_language`. Fields and codes are
put in words; a path this module has no words for is said as "other information from the case",
never as a code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Mapping
from typing import Any, Final
from zoneinfo import ZoneInfo

from hub.routing.engine import Matched, decide, lookup, projected
from hub.routing.policy import Policy
from schemas.recipients import RecipientKind
from schemas.recipients.person import NoticeLanguage

__all__ = ["compose_notice", "date_words"]

_OSLO: Final = ZoneInfo("Europe/Oslo")
_MONTHS: Final = (
    "januar",
    "februar",
    "mars",
    "april",
    "mai",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "desember",
)

# (bokmål, nynorsk) for each phrase.
_AGENCY: Final[dict[RecipientKind, tuple[str, str]]] = {
    RecipientKind.POLICE_REGISTER: (
        "Politiet (Kripos), som fører straffe- og politiopplysningsregisteret",
        "Politiet (Kripos), som fører straffe- og politiopplysningsregisteret",
    ),
    RecipientKind.NAV: ("NAV", "NAV"),
    RecipientKind.MUNICIPALITY: ("{place} kommune", "{place} kommune"),
    RecipientKind.HEALTH: (
        "Helsetjenesten i helseregion {place}",
        "Helsetenesta i helseregion {place}",
    ),
    RecipientKind.CORRECTIONAL: ("Kriminalomsorgen", "Kriminalomsorga"),
}
_FIELDS: Final[dict[str, tuple[str, str]]] = {
    "person": ("navnet og fødselsnummeret ditt", "namnet og fødselsnummeret ditt"),
    "unit": ("hvilken enhet du er i", "kva eining du er i"),
    "execution_form": ("hvordan du gjennomfører straffen", "korleis du gjennomfører straffa"),
    "case": (
        "straffesaken (saksnummer, reaksjon og lovbrudd)",
        "straffesaka (saksnummer, reaksjon og lovbrot)",
    ),
    "start": ("når du begynte å gjennomføre straffen", "når du byrja å gjennomføre straffa"),
    "start.start_date": (
        "når du begynte å gjennomføre straffen",
        "når du byrja å gjennomføre straffa",
    ),
    "release": ("løslatelsen", "lauslatinga"),
    "release.date": ("datoen for løslatelsen", "datoen for lauslatinga"),
    "release.kind": ("hva slags løslatelse det er", "kva slags lauslating det er"),
    "release.probation_days": ("prøvetiden", "prøvetida"),
    "release.residence_municipality": ("kommunen du skal bo i", "kommunen du skal bu i"),
    "release.needs": (
        "behovene du har samtykket til å dele (som bolig og arbeid)",
        "behova du har samtykt til å dele (som bustad og arbeid)",
    ),
    "transfer": ("overføringen", "overføringa"),
    "transfer.date": ("datoen for overføringen", "datoen for overføringa"),
    "transfer.to_unit": ("hvor du skal", "kvar du skal"),
    "transfer.to_execution_form": (
        "hvordan du skal gjennomføre straffen der",
        "korleis du skal gjennomføre straffa der",
    ),
    "transfer.reason": ("begrunnelsen for overføringen", "grunngjevinga for overføringa"),
    "transfer.residence_municipality": ("kommunen du skal bo i", "kommunen du skal bu i"),
    "escape": ("unnvikelsen", "unnvikinga"),
    "police_district": ("politidistriktet", "politidistriktet"),
    "case_reference": ("politiets saksnummer", "saksnummeret til politiet"),
    "residence_municipality": ("kommunen du bor i", "kommunen du bur i"),
    "custody": (
        "varetektsfengslingen (kjennelsen og hvor du sitter)",
        "varetektsfengslinga (kjennelsen og kvar du sit)",
    ),
    "custody.decided_at": (
        "datoen for kjennelsen om varetekt",
        "datoen for kjennelsen om varetekt",
    ),
    "custody.facility": ("hvor du sitter i varetekt", "kvar du sit i varetekt"),
    "custody.ended_at": ("når varetekten sluttet", "når varetekta slutta"),
    "custody.outcome": ("hvordan varetekten sluttet", "korleis varetekta slutta"),
    "judgment": ("dommen", "dommen"),
}
_OTHER: Final = ("andre opplysninger fra saken", "andre opplysningar frå saka")
_CODES: Final[dict[str, tuple[str, str]]] = {
    "ENDT_STRAFF": ("løslatelse når straffen er sonet", "lauslating når straffa er sona"),
    "PROVELOSLATELSE": ("prøveløslatelse", "prøvelauslating"),
    "ENDT_VARETEKT": ("løslatelse fra varetekt", "lauslating frå varetekt"),
    "BENADNING": ("løslatelse etter benådning", "lauslating etter benåding"),
    "UTVISNING": ("løslatelse ved utvisning", "lauslating ved utvising"),
    "FENGSEL_HOY": ("fengsel med høyt sikkerhetsnivå", "fengsel med høgt tryggingsnivå"),
    "FENGSEL_LAV": ("fengsel med lavere sikkerhetsnivå", "fengsel med lågare tryggingsnivå"),
    "OVERGANGSBOLIG": ("overgangsbolig", "overgangsbustad"),
    "ELEKTRONISK_KONTROLL": (
        "soning hjemme med elektronisk kontroll (fotlenke)",
        "soning heime med elektronisk kontroll (fotlenkje)",
    ),
    "INSTITUSJON": ("soning i behandlingsinstitusjon", "soning i behandlingsinstitusjon"),
    "SAMFUNN": ("straffegjennomføring i samfunnet", "straffegjennomføring i samfunnet"),
    "RELEASED": ("du ble løslatt", "du vart lauslaten"),
    "SENTENCE_EXECUTION": ("du går over til å sone straff", "du går over til å sone straff"),
    "TRANSFERRED": (
        "du ble overført til en annen myndighet",
        "du vart overført til ei anna styresmakt",
    ),
}
_TEXT: Final[dict[str, tuple[str, str]]] = {
    "title": ("Melding til deg fra kriminalomsorgen", "Melding til deg frå kriminalomsorga"),
    "release.planned": (
        "Kriminalomsorgen planlegger at du skal løslates {date}. Det er {kind}.",
        "Kriminalomsorga planlegg at du skal lauslatast {date}. Det er {kind}.",
    ),
    "release.cancelled": (
        "Den planlagte løslatelsen {date} er avlyst.",
        "Den planlagde lauslatinga {date} er avlyst.",
    ),
    "transfer.planned": (
        "Kriminalomsorgen planlegger å overføre deg {date} til {unit}: {form}.",
        "Kriminalomsorga planlegg å overføre deg {date} til {unit}: {form}.",
    ),
    "transfer.cancelled": (
        "Den planlagte overføringen {date} er avlyst.",
        "Den planlagde overføringa {date} er avlyst.",
    ),
    "custody.ended": (
        "Varetektsfengslingen din ble avsluttet {date}: {outcome}.",
        "Varetektsfengslinga di vart avslutta {date}: {outcome}.",
    ),
    "lives": (" Du skal bo i {place} kommune.", " Du skal bu i {place} kommune."),
    "correction": (
        "Dette er en rettelse av en melding du har fått før. ",
        "Dette er ei retting av ei melding du har fått før. ",
    ),
    "nobody": (
        "Ingen andre etater har fått melding om dette.",
        "Ingen andre etatar har fått melding om dette.",
    ),
    "basis": (
        "Du får denne meldingen fordi du har rett til å vite hva som skjer med deg og hvem "
        "som får vite det. Grunnlaget: {basis}.",
        "Du får denne meldinga fordi du har rett til å vite kva som skjer med deg og kven "
        "som får vite det. Grunnlaget: {basis}.",
    ),
    "rights": (
        "Du har rett til innsyn i hvilke opplysninger som er delt om deg, og til å be om at "
        "feil blir rettet. Du kan også protestere mot at opplysninger blir delt. Snakk med "
        "enheten din, eller skriv til Kriminalomsorgsdirektoratet, og oppgi referansen under.",
        "Du har rett til innsyn i kva opplysningar som er delte om deg, og til å be om at feil "
        "blir retta. Du kan også protestere mot at opplysningar blir delte. Snakk med eininga "
        "di, eller skriv til Kriminalomsorgsdirektoratet, og oppgi referansen under.",
    ),
}
# The other recipient kinds, in the order the notice names them.
_OTHERS: Final = tuple(k for k in RecipientKind if k is not RecipientKind.PERSON)

PlaceName = Callable[[RecipientKind, Mapping[str, Any]], str]


def _say(pair: tuple[str, str], language: NoticeLanguage) -> str:
    return pair[0] if language == "nb" else pair[1]


def date_words(value: str | None) -> str:
    """`2026-12-14` (or a timestamp) as "14. desember 2026"."""
    if not value:
        return "?"
    if "T" in value:
        day = dt.datetime.fromisoformat(value).astimezone(_OSLO).date()
    else:
        day = dt.date.fromisoformat(value)
    return f"{day.day}. {_MONTHS[day.month - 1]} {day.year}"


def _code(value: Any, language: NoticeLanguage) -> str:
    return _say(_CODES.get(str(value), _OTHER), language)


def _field(path: str, language: NoticeLanguage) -> str:
    return _say(_FIELDS.get(path) or _FIELDS.get(path.split(".")[0], _OTHER), language)


def _what(event: Mapping[str, Any], place: PlaceName, language: NoticeLanguage) -> str:
    family_status = ".".join(event["type"].split(".")[2:4])
    data = event["data"]
    values = {
        "date": date_words(
            lookup(data, "release.date")
            or lookup(data, "transfer.date")
            or lookup(data, "custody.ended_at")
        ),
        "kind": _code(lookup(data, "release.kind"), language),
        "unit": lookup(data, "transfer.to_unit.name") or "?",
        "form": _code(lookup(data, "transfer.to_execution_form"), language),
        "outcome": _code(lookup(data, "custody.outcome"), language),
    }
    text = _say(_TEXT[family_status], language).format(**values)
    if family_status.endswith("planned") and (
        lookup(data, "release.residence_municipality")
        or lookup(data, "transfer.residence_municipality")
    ):
        text += _say(_TEXT["lives"], language).format(
            place=place(RecipientKind.MUNICIPALITY, event)
        )
    if event.get("replaces"):
        text = _say(_TEXT["correction"], language) + text
    return text


def _told(
    policy: Policy,
    event: Mapping[str, Any],
    consents: Collection[str],
    place: PlaceName,
    language: NoticeLanguage,
) -> list[dict[str, Any]]:
    told = []
    for kind in _OTHERS:
        verdict = decide(policy, kind, event, consents)
        if not isinstance(verdict, Matched):
            continue
        agency = _say(_AGENCY[kind], language).format(place=place(kind, event))
        # What this event gave it, not everything its rule could give.
        sent = projected(verdict.rule, event)
        paths = [p for p in verdict.rule.data_fields if lookup(sent, p) not in (None, [], ())]
        received = list(dict.fromkeys(_field(p, language) for p in paths))
        told.append(
            {"agency": agency, "received": received, "legalbasis": verdict.rule.legal_basis}
        )
    return told


def compose_notice(
    policy: Policy,
    event: Mapping[str, Any],
    *,
    consents: Collection[str],
    basis: str,
    place: PlaceName,
) -> dict[str, Any]:
    """The notice for `event` (its JSON form), as the `notice` member of the person's data."""
    language = policy.settings.person_notice_language
    told = _told(policy, event, consents, place, language)
    return {
        "language": language,
        "title": _say(_TEXT["title"], language),
        "what": _what(event, place, language),
        "told": told,
        "nobody_else": None if told else _say(_TEXT["nobody"], language),
        "basis": _say(_TEXT["basis"], language).format(basis=basis),
        "rights": _say(_TEXT["rights"], language),
        "reference": event["id"],
    }
