"""The bundled samples: what the demo shows, and what people copy. They must stay exemplary."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from pathlib import Path

import pytest

from adapters.context import TranslationContext
from adapters.koda import parse, translate
from adapters.koda.record import KodaHendelse, KodaLoslatelse
from hubdev.demo import KODA_SAMPLES
from schemas.errors import InputRejected
from schemas.events import EVENT_CLASSES, event_type_of
from schemas.identity import identify

SAMPLES = sorted(KODA_SAMPLES.glob("*.xml"))
CTX = TranslationContext(lambda number: f"pk-test-{len(number)}", True, 1024 * 1024)


@pytest.fixture(scope="module")
def records() -> list[KodaHendelse]:
    return [parse(path.read_bytes(), CTX) for path in SAMPLES]


def test_every_event_type_and_status_is_shown() -> None:
    shown = {translate(path.read_bytes(), CTX).type for path in SAMPLES}
    assert shown == {
        t for t in map(event_type_of, EVENT_CLASSES) if t.startswith("no.kriminalomsorgen.")
    }


def test_every_number_in_every_sample_is_synthetic() -> None:
    for path in SAMPLES:
        for number in re.findall(r"(?<!\d)\d{11}(?!\d)", path.read_text(encoding="utf-8")):
            assert identify(number).synthetic, f"{path.name} has a non-synthetic number"


def test_a_d_number_is_shown(records: list[KodaHendelse]) -> None:
    assert any(r.person.nummertype == "DNummer" for r in records)


def test_names_with_norwegian_letters_and_accents(records: list[KodaHendelse]) -> None:
    names = " ".join(f"{r.person.fornavn} {r.person.etternavn}" for r in records)
    assert set("ÅØÆåøæ") & set(names)
    assert set("éüÉÜ") & set(names)


def test_a_correction_of_another_sample(records: list[KodaHendelse]) -> None:
    ids = {r.hendelse_id for r in records}
    corrections = [r for r in records if r.erstatter is not None]
    assert corrections
    assert all(r.erstatter in ids for r in corrections)


def test_consent_variations_and_municipalities(records: list[KodaHendelse]) -> None:
    releases = [r.body for r in records if isinstance(r.body, KodaLoslatelse)]
    consents = {body.samtykke for body in releases}
    assert {(), ("KOMMUNE",), ("KOMMUNE", "HELSE")} <= consents
    assert {"0301", "4204", "5001"} <= {body.oppholdskommune for body in releases}


def test_ids_are_unique_and_each_persons_events_in_order(records: list[KodaHendelse]) -> None:
    assert len({r.hendelse_id for r in records}) == len(records)
    times: dict[str, list[str]] = defaultdict(list)
    for record in records:
        times[record.person.identitetsnummer].append(record.registrert)
    for registered in times.values():
        assert registered == sorted(registered, key=_instant)


def _instant(registrert: str) -> float:
    return dt.datetime.fromisoformat(registrert).timestamp()


INVALID_SAMPLES = sorted((KODA_SAMPLES / "invalid").glob("*.xml"))


@pytest.mark.parametrize("path", INVALID_SAMPLES, ids=lambda p: p.name)
def test_the_invalid_samples_are_refused_for_the_reason_they_state(path: Path) -> None:
    with pytest.raises(InputRejected) as refused:
        translate(path.read_bytes(), CTX)
    assert refused.value.reason.value in path.read_text(encoding="utf-8")
