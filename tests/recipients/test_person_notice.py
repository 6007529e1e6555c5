"""The person is told (issue 13, § 1): a notice on `out.person.v1` for every planned release,
planned transfer and end of remand, in plain Norwegian, naming every agency told and what each
received in words, and a printable PDF letter of it."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
import json
from typing import Any

from pypdf import PdfReader

from hub.routing.policy import PolicySettings
from hub.tools.notice import letter_pdf
from schemas.events import (
    ConsentRecipient,
    CustodyEnded,
    ExecutionForm,
    ReleaseCancelled,
    ReleasePlanned,
    TransferPlanned,
)
from schemas.events.codes import CustodyOutcome
from schemas.ids import canonical_id
from schemas.recipients import PersonMessage, RecipientKind
from tests.events import make_event, sample_data
from tests.recipients.support import Router

ALL = (ConsentRecipient.NAV, ConsentRecipient.KOMMUNE, ConsentRecipient.HELSE)
CODES = ("PROVELOSLATELSE", "ELEKTRONISK_KONTROLL", "release.", "transfer.", "KOMMUNE", "HELSE")


def release_planned(consent: tuple[ConsentRecipient, ...]) -> Any:
    data = sample_data("release", "planned")
    release = data.release.model_copy(
        update={"consent_recipients": consent, "residence_municipality": "0301"}
    )
    return make_event(ReleasePlanned, data=data.model_copy(update={"release": release}))


def everyone(router: Router, event: Any) -> dict[str, dict[str, Any]]:
    messages = [m for kind in RecipientKind for m in router.route(event, kind).messages()]
    return {m["recipient"]: m for m in messages}


def test_a_planned_release_tells_the_person_who_got_what_in_words() -> None:
    told = everyone(Router(), release_planned(ALL))
    person = told.pop("person")
    PersonMessage.model_validate_json(json.dumps(person))
    notice = person["data"]["notice"]
    assert notice["language"] == "nb"
    assert notice["what"] == (
        "Kriminalomsorgen planlegger at du skal løslates 14. desember 2026. "
        "Det er prøveløslatelse. Du skal bo i Oslo kommune."
    )
    agencies = {t["agency"]: t for t in notice["told"]}
    assert len(agencies) == len(told)  # exactly the agencies that were sent a message
    assert set(agencies) == {
        "Politiet (Kripos), som fører straffe- og politiopplysningsregisteret",
        "Oslo kommune",
        "Helsetjenesten i helseregion sor-ost",
    }
    municipality = agencies["Oslo kommune"]
    assert "behovene du har samtykket til å dele (som bolig og arbeid)" in municipality["received"]
    assert municipality["legalbasis"] == told["municipality.0301"]["legalbasis"]
    text = json.dumps(notice, ensure_ascii=False)
    assert not [code for code in CODES if code in text]
    assert "innsyn" in notice["rights"]
    assert "Forvaltningsloven § 27" in notice["basis"]


def test_without_consent_the_notice_says_so_by_what_it_leaves_out() -> None:
    person = everyone(Router(), release_planned(()))["person"]
    agencies = {t["agency"]: t for t in person["data"]["notice"]["told"]}
    assert "Helsetjenesten i helseregion sor-ost" not in agencies
    assert not [r for r in agencies["Oslo kommune"]["received"] if "behov" in r]


def test_a_transfer_and_the_end_of_remand_are_told_too() -> None:
    data = sample_data("transfer", "planned")
    transfer = data.transfer.model_copy(
        update={
            "to_execution_form": ExecutionForm.ELEKTRONISK_KONTROLL,
            "residence_municipality": "5001",
        }
    )
    planned = make_event(TransferPlanned, data=data.model_copy(update={"transfer": transfer}))
    notice = everyone(Router(), planned)["person"]["data"]["notice"]
    assert notice["what"].startswith("Kriminalomsorgen planlegger å overføre deg 1. mars 2026")
    assert "fotlenke" in notice["what"]
    assert "Trondheim kommune" in {t["agency"] for t in notice["told"]}
    ended = sample_data("custody", "ended")
    released = ended.custody.model_copy(update={"outcome": CustodyOutcome.RELEASED})
    custody = make_event(CustodyEnded, data=ended.model_copy(update={"custody": released}))
    notice = everyone(Router(), custody)["person"]["data"]["notice"]
    assert (
        notice["what"] == "Varetektsfengslingen din ble avsluttet 1. desember 2026: du ble løslatt."
    )


def cancellation_of(planned: Any, **changes: Any) -> Any:
    """The plan's cancellation: its own document, never the planned document itself."""
    return make_event(
        ReleaseCancelled,
        data=planned.data,
        id=canonical_id(planned.source, "KODA-TEST-CANCEL"),
        sourceeventid="KODA-TEST-CANCEL",
        **changes,
    )


def test_a_cancellation_and_a_correction_reach_the_person() -> None:
    router = Router()
    planned = release_planned(ALL)
    first = everyone(router, planned)["person"]
    cancel = cancellation_of(planned)
    cancelled = router.route(cancel, RecipientKind.PERSON).messages()
    (message,) = cancelled
    assert message["action"] == "cancellation"
    assert message["replacesmessageid"] == first["id"]
    assert "avlyst" in message["data"]["notice"]["what"]


def test_a_cancellation_registered_before_the_plan_leaves_the_plan_standing() -> None:
    # Published after the plan, but registered before it: it cannot be the plan's own
    # cancellation, and it decides the same however often its batch is consumed again.
    router = Router()
    planned = release_planned(ALL)
    everyone(router, planned)
    cancel = cancellation_of(planned, time=planned.time - dt.timedelta(days=1))
    (message,) = router.route(cancel, RecipientKind.PERSON).messages()
    assert message["action"] == "notice"
    later = cancel.model_copy(
        update={
            "id": canonical_id(planned.source, "KODA-TEST-CANCEL-2"),
            "time": planned.time + dt.timedelta(days=1),
        }
    )
    (message,) = router.route(later, RecipientKind.PERSON).messages()
    assert message["action"] == "cancellation"


def test_a_correction_of_a_cancelled_plan_leaves_the_cancellation_what_closed_it() -> None:
    # Consumed again (its first pass's writes partly lost), the cancellation finds the plan it
    # closed by that mark alone: a later correction must not take the mark over.
    router = Router()
    planned = release_planned(ALL)
    first = everyone(router, planned)["person"]
    cancel = cancellation_of(planned)
    (cancelled,) = router.route(cancel, RecipientKind.PERSON).messages()
    correction = planned.model_copy(
        update={
            "id": canonical_id(planned.source, "KODA-TEST-CORRECT"),
            "sourceeventid": "KODA-TEST-CORRECT",
            "replaces": planned.id,
        }
    )
    everyone(router, correction)
    entry = router.index.get(first["id"])
    assert entry is not None
    assert entry.closedby == cancel.id
    (again,) = router.route(cancel, RecipientKind.PERSON).messages()
    assert (again["id"], again["action"]) == (cancelled["id"], "cancellation")


def test_the_notice_in_nynorsk() -> None:
    router = Router()
    policy = router.routing.policy
    nynorsk = policy.model_copy(update={"settings": PolicySettings(person_notice_language="nn")})
    router.routing = dataclasses.replace(router.routing, policy=nynorsk)
    notice = everyone(router, release_planned(ALL))["person"]["data"]["notice"]
    assert notice["language"] == "nn"
    assert notice["what"].startswith("Kriminalomsorga planlegg at du skal lauslatast")
    assert "Helsetenesta i helseregion sor-ost" in {t["agency"] for t in notice["told"]}


def test_the_printed_letter_says_what_the_message_says() -> None:
    person = everyone(Router(), release_planned(ALL))["person"]
    pdf = letter_pdf(person)
    assert pdf.startswith(b"%PDF-")
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    words = " ".join(text.split())
    notice = person["data"]["notice"]
    assert notice["title"] in words
    assert "Til: Åse Ødegård" in words
    assert "14. desember 2026" in words
    assert "Oslo kommune" in words
    assert "Hvem som har fått vite om dette" in words
    assert notice["reference"] in words
    assert " ".join(notice["rights"].split()) in words


def test_the_notice_lists_what_each_agency_got_of_this_event_only() -> None:
    notice = everyone(Router(), release_planned(()))["person"]["data"]["notice"]
    police = next(t for t in notice["told"] if t["agency"].startswith("Politiet"))
    assert "unnvikelsen" not in police["received"]  # its rule could give it; this event has none
    assert "straffesaken (saksnummer, reaksjon og lovbrudd)" in police["received"]
