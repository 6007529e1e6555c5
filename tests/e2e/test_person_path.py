"""A person's whole path on the real broker (issue 13): final judgment → sentence started →
consent given → transfer to electronic monitoring (planned, completed) → release planned →
consent to health withdrawn → release completed. Every agency's topic and the person's notices
are checked, and a notice is printed as a PDF letter from the topic."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from typer.testing import CliRunner

from adapters.court.record import CourtJudgment, CourtPerson, CourtSanction
from adapters.koda.record import (
    KodaBody,
    KodaEnhet,
    KodaHendelse,
    KodaIverksettelse,
    KodaLoslatelse,
    KodaOverforing,
    KodaPerson,
    KodaSamtykke,
    KodaStraffesak,
)
from hub.bootstrap import build_hub
from hub.cli.app import app
from hub.cli.commands import register
from hub.tools.notice import find_notice, letter_pdf
from hubdev.demo.court import render as render_court
from hubdev.demo.kodaxml import render as render_koda
from tests.e2e.harness import HubEnv, collect
from tests.identities import SYNTHETIC_FNR
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

register(app)

CASE = KodaStraffesak("27-000123MED-TOSL/01", "UBETINGET_FENGSEL", ("Straffeloven § 321",))
PRISON = KodaEnhet("1001", "Agder fengsel, avdeling Froland")
MONITORING = KodaEnhet("5099", "Kriminalomsorgen Trøndelag friomsorgskontor")
PERSON = KodaPerson(SYNTHETIC_FNR, "Fodselsnummer", "Åse", "Ødegård")


def _koda(n: int, kind: str, status: str, body: KodaBody, *, at: str, unit: KodaEnhet) -> bytes:
    consent = kind == "SAMTYKKE"
    return render_koda(
        KodaHendelse(
            versjon="1",
            hendelse_id=f"KODA-PATH-{n}",
            hendelsestype=kind,
            status=status,
            registrert=f"{at}T10:00:00+01:00",
            erstatter=None,
            person=PERSON,
            straffesak=None if consent else CASE,
            enhet=unit,
            gjennomforingsform=None
            if consent
            else ("ELEKTRONISK_KONTROLL" if unit is MONITORING else "FENGSEL_LAV"),
            body=body,
        )
    )


def _path() -> list[bytes]:
    to_monitoring = KodaOverforing(
        "2027-03-01", MONITORING, "ELEKTRONISK_KONTROLL", "Soningsprogresjon", "5001"
    )
    release = KodaLoslatelse("2027-06-01", "PROVELOSLATELSE", 365, "5001", (), ("BOLIG", "RUS"))
    return [
        _koda(
            1,
            "IVERKSETTELSE",
            "GJENNOMFORT",
            KodaIverksettelse("2027-01-10", None),
            at="2027-01-10",
            unit=PRISON,
        ),
        _koda(
            2,
            "SAMTYKKE",
            "GITT",
            KodaSamtykke("BRIK", None, ("KOMMUNE", "HELSE")),
            at="2027-01-20",
            unit=PRISON,
        ),
        _koda(3, "OVERFORING", "PLANLAGT", to_monitoring, at="2027-02-01", unit=PRISON),
        _koda(4, "OVERFORING", "GJENNOMFORT", to_monitoring, at="2027-03-01", unit=PRISON),
        _koda(5, "LOSLATELSE", "PLANLAGT", release, at="2027-04-01", unit=MONITORING),
        _koda(
            6,
            "SAMTYKKE",
            "TRUKKET",
            KodaSamtykke("BRIK", None, ("HELSE",)),
            at="2027-04-10",
            unit=MONITORING,
        ),
        _koda(7, "LOSLATELSE", "GJENNOMFORT", release, at="2027-06-01", unit=MONITORING),
    ]


def _judgment() -> bytes:
    return render_court(
        CourtJudgment(
            dom_id="TOSL-PATH-1",
            saksnummer="27-000123MED-TOSL/01",
            domstol="Oslo tingrett",
            avsagt="2026-11-20",
            rettskraftig="2026-12-11",
            domfelt=CourtPerson(SYNTHETIC_FNR, "Fodselsnummer", "Åse", "Ødegård"),
            reaksjon=CourtSanction("UBETINGET_FENGSEL", dager=365),
            lovbrudd=("Straffeloven § 321",),
        )
    )


def _values(records: list[Any]) -> list[dict[str, Any]]:
    return [json.loads(r.value) for r in records]


async def _read(env: HubEnv, name: str, count: int) -> list[dict[str, Any]]:
    topic = env.topic(name)
    records = await collect(env.connection, topic, until=lambda r: len(r) >= count)
    return _values(records)


async def test_a_persons_whole_path_reaches_every_agency_and_the_person(
    kafka: RunningKafka, tmp_path: Path
) -> None:
    env = HubEnv(kafka.connection, tmp_path)
    await env.create_topics()
    settings = env.settings()
    async with build_hub(settings):
        await env.publish([_judgment()], source="court")
        (judgment,) = await _read(env, "out.correctional.v1", 1)
        assert (judgment["rule"], judgment["data"]["judgment"]["court"]) == (
            "correctional.judgment",
            "Oslo tingrett",
        )
        path = _path()
        await env.publish(path[:5])
        # The person's notice of the planned release names what each agency was told with the
        # consent in force when it is decided: wait for it before the withdrawal comes.
        await _read(env, "out.person.v1", 2)
        await env.publish(path[5:])

        police = await _read(env, "out.police-register.v1", 6)
        assert [m["type"].split(".", 2)[2] for m in police] == [
            "judgment.final.v1",
            "sentence.started.v1",
            "transfer.planned.v1",
            "transfer.completed.v1",
            "release.planned.v1",
            "release.completed.v1",
        ]
        nav = await _read(env, "out.nav.v1", 3)
        assert [m["rule"] for m in nav] == [
            "nav.imprisoned",
            "nav.execution-form-changed",
            "nav.released",
        ]
        trondheim = await _read(env, "out.municipality.5001.v1", 4)
        assert [m["rule"] for m in trondheim] == [
            "municipality.transfer-planned",
            "municipality.transfer-completed",
            "municipality.release-planned.with-needs",
            "municipality.release-completed.with-needs",  # consent to KOMMUNE still stands
        ]
        assert all("respondby" in m for m in trondheim[::2])
        health = await _read(env, "out.health.midt.v1", 4)
        # Consent from the store: health hears of the transfer, then of the planned release,
        # then that consent is withdrawn; the completed release never reaches it.
        assert [(m["rule"], m["action"]) for m in health] == [
            ("health.transfer", "notice"),
            ("health.transfer", "notice"),
            ("health.release", "notice"),
            ("health.release", "withdrawal"),
        ]
        assert health[3]["replacesmessageid"] == health[2]["id"]
        people = await _read(env, "out.person.v1", 2)
        assert [m["rule"] for m in people] == ["person.planned-transfer", "person.planned-release"]
        transfer_notice, release_notice = (m["data"]["notice"] for m in people)
        assert "fotlenke" in transfer_notice["what"]
        assert {t["agency"] for t in release_notice["told"]} == {
            "Politiet (Kripos), som fører straffe- og politiopplysningsregisteret",
            "Trondheim kommune",
            "Helsetjenesten i helseregion midt",
        }

        # The notice printed from the topic, as an operator would with `hub notice print`.
        message = await find_notice(settings, people[1]["id"])
        assert message == people[1]
        pdf = letter_pdf(message)
        text = " ".join(
            " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split()
        )
        assert "1. juni 2027" in text
        assert "Trondheim kommune" in text

        # And through the command itself: `hub notice print ID --out FILE`.
        letter = tmp_path / "letter.pdf"
        args = ["notice", "print", people[1]["id"], "--out", str(letter)]
        result = await asyncio.to_thread(CliRunner().invoke, app, args, env=env.environ())
        assert result.exit_code == 0, result.output
        printed = PdfReader(io.BytesIO(letter.read_bytes())).pages
        assert " ".join(" ".join(p.extract_text() for p in printed).split()) == text
        missing = await asyncio.to_thread(
            CliRunner().invoke, app, ["notice", "print", judgment["id"]], env=env.environ()
        )
        assert missing.exit_code == 2
        assert "no notice" in missing.output
