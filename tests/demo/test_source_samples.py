"""The bundled samples of every source: valid ones translate, invalid ones state their reason,
together they show every canonical event type, and every identity number is synthetic."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.context import TranslationContext
from hub.settings import HubSettings
from hub.sources import Source, sources
from hubdev.demo.run import bundled_samples
from schemas.errors import InputRejected
from schemas.events import EVENT_CLASSES, event_type_of

CTX = TranslationContext(lambda number: f"pk-test-{number[::-1]}", True, 1024 * 1024)
SOURCES = sources(HubSettings())
SAMPLES = [
    (s, p) for s in SOURCES.values() for p in bundled_samples(s) if p.parent.name != "invalid"
]
INVALID = [
    (s, p) for s in SOURCES.values() for p in bundled_samples(s) if p.parent.name == "invalid"
]


def test_together_the_samples_show_every_event_type() -> None:
    shown = {source.translate(path.read_bytes(), CTX).type for source, path in SAMPLES}
    assert shown == {event_type_of(cls) for cls in EVENT_CLASSES}


@pytest.mark.parametrize("name", sorted(SOURCES))
def test_every_source_has_an_invalid_sample(name: str) -> None:
    assert any(source.name == name for source, _ in INVALID)


@pytest.mark.parametrize(("source", "path"), INVALID, ids=lambda x: getattr(x, "name", ""))
def test_invalid_samples_are_refused_for_the_reason_they_state(source: Source, path: Path) -> None:
    with pytest.raises(InputRejected) as refused:
        source.translate(path.read_bytes(), CTX)
    assert refused.value.reason.value in path.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("source", "path"), SAMPLES + INVALID, ids=lambda x: getattr(x, "name", "")
)
def test_every_number_is_synthetic(source: Source, path: Path) -> None:
    for number in re.findall(r"(?<!\d)\d{11}(?!\d)", path.read_text(encoding="utf-8")):
        # The month part says it (+ 40 or + 80), valid check digits or not.
        assert int(number[2:4]) > 40, f"{path.name} has a non-synthetic number"


def test_the_same_person_is_followed_across_sources() -> None:
    # The demo tells one story end to end: custody, judgment, custody ended, sentence started.
    subjects = {
        (source.name, source.translate(path.read_bytes(), CTX).subject) for source, path in SAMPLES
    }
    by_person: dict[str, set[str]] = {}
    for name, subject in subjects:
        by_person.setdefault(subject, set()).add(name)
    assert {"koda", "court", "police"} in by_person.values()
