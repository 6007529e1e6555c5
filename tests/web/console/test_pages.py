"""The pages that read the audit projection: a message's journey, disclosures about a person."""

from __future__ import annotations

import json
import re
import uuid

from structlog.testing import capture_logs

from hub.bootstrap import person_keys
from schemas.audit import AuditFacts, AuditStep, Where, audit_id
from tests.identities import SYNTHETIC_FNR
from tests.web.console.support import ConsoleClient, seed_projection

MESSAGE = str(uuid.uuid4())
ENTRY = str(uuid.uuid4())
IN = Where(topic="in.koda.v1", partition=0, offset=7)
EVENT = Where(topic="hub.events.v1", partition=1, offset=3)


def _journey(subject: str) -> list[AuditFacts]:
    def fact(step: AuditStep, *parts: str, **values: object) -> AuditFacts:
        return AuditFacts(id=audit_id(step, *parts), step=step, **values)  # type: ignore[arg-type] - test data, checked by the model

    replayed_to = Where(topic="in.koda.v1", partition=0, offset=9)
    return [
        fact(AuditStep.RECEIVED, "1", stage="ingest", input=IN),
        fact(
            AuditStep.DEAD_LETTERED,
            "2",
            stage="ingest",
            input=IN,
            output=Where(topic="hub.dlq.v1", partition=0, offset=0),
            reason="invalid_identity_number",
            entry_id=ENTRY,
        ),
        fact(
            AuditStep.REPLAYED,
            "3",
            stage="ingest",
            input=IN,
            output=replayed_to,
            operator="kari",
            entry_id=ENTRY,
        ),
        fact(AuditStep.RECEIVED, "4", stage="ingest", input=replayed_to),
        fact(
            AuditStep.PUBLISHED,
            "5",
            stage="ingest",
            input=replayed_to,
            output=EVENT,
            message_id=MESSAGE,
            event_type="no.kriminalomsorgen.release.planned.v1",
        ),
        fact(
            AuditStep.DELIVERED,
            "6",
            stage="route_nav",
            input=EVENT,
            output=Where(topic="out.nav.v1", partition=0, offset=0),
            message_id=MESSAGE,
            subject=subject,
            recipient="nav",
            rule_id="nav-release",
            legal_basis="Folketrygdloven § 21-4",
            event_type="no.kriminalomsorgen.release.planned.v1",
        ),
    ]


async def test_the_journey_of_a_message_from_its_dead_letter_entry(
    console: ConsoleClient,
) -> None:
    settings = console.console.settings
    seed_projection(settings.projection_path, _journey(person_keys(settings)(SYNTHETIC_FNR)))
    await console.log_in()
    page = await console.http.get("/trail", params={"id": ENTRY})
    assert page.status_code == 200
    steps = re.findall(r"class=\"step\"><strong>([a-z_]+)</strong>", page.text)
    assert steps == ["received", "dead_lettered", "replayed", "received", "published", "delivered"]
    assert "replayed</strong> by kari" in page.text
    assert "Folketrygdloven § 21-4" in page.text
    unknown = await console.http.get("/trail", params={"id": str(uuid.uuid4())})
    assert "No audit record names" in unknown.text


async def test_disclosures_are_searched_by_a_number_that_stays_out_of_urls_logs_and_records(
    console: ConsoleClient,
) -> None:
    settings = console.console.settings
    subject = person_keys(settings)(SYNTHETIC_FNR)
    seed_projection(settings.projection_path, _journey(subject))
    await console.log_in()
    with capture_logs() as logs:
        found = await console.post("/disclosures", {"number": SYNTHETIC_FNR})
    assert found.status_code == 200
    assert "1 disclosure about person" in found.text
    assert subject in found.text
    assert "nav-release" in found.text
    assert SYNTHETIC_FNR not in found.text, "the number is not sent back"
    assert found.url.path == "/disclosures"
    assert not found.url.query
    assert SYNTHETIC_FNR not in json.dumps(logs, default=str)
    (shown,) = console.steps(AuditStep.DISCLOSURES_SHOWN)
    assert (shown.operator, shown.subject) == ("ops", subject)
    assert SYNTHETIC_FNR not in json.dumps([f.model_dump(mode="json") for f in console.audit])

    wrong = await console.post("/disclosures", {"number": SYNTHETIC_FNR[:10]})
    assert wrong.status_code == 400
    assert SYNTHETIC_FNR[:10] not in wrong.text
    forged = await console.http.post("/disclosures", data={"number": SYNTHETIC_FNR})
    assert forged.status_code == 403, "no CSRF token, no search"
    assert len(console.steps(AuditStep.DISCLOSURES_SHOWN)) == 1
