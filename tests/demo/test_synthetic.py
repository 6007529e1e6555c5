from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict

import pytest

from adapters.context import TranslationContext
from adapters.koda import parse, translate
from adapters.koda.record import KodaLoslatelse
from hubdev.demo.synthetic import (
    invalid_documents,
    mixed_documents,
    synthetic_identity_number,
    valid_documents,
    valid_records,
)
from schemas.errors import InputRejected, Reason
from schemas.events import EVENT_CLASSES, event_type_of
from schemas.identity import IdentityKind, identify

CTX = TranslationContext(lambda number: "pk-" + number[::-1] + "x", True, 1024 * 1024)


@pytest.mark.parametrize("kind", list(IdentityKind))
def test_identity_numbers_are_valid_and_synthetic(kind: IdentityKind) -> None:
    rng = random.Random(7)  # noqa: S311 - reproducible test data
    for _ in range(500):
        info = identify(synthetic_identity_number(rng, kind))
        assert (info.kind, info.synthetic) == (kind, True)


def test_the_same_seed_gives_the_same_documents() -> None:
    assert valid_documents(50, seed=3) == valid_documents(50, seed=3)
    assert invalid_documents(20, seed=3) == invalid_documents(20, seed=3)
    assert valid_documents(50, seed=3) != valid_documents(50, seed=4)


def test_a_realistic_mix_of_valid_documents() -> None:
    documents = valid_documents(1000, seed=11)
    events = [translate(d.raw, CTX) for d in documents]
    types = Counter(event.type for event in events)
    assert set(types) == {
        t for t in map(event_type_of, EVENT_CLASSES) if t.startswith("no.kriminalomsorgen.")
    }
    assert len({d.hendelse_id for d in documents}) == len(documents)
    assert any(e.replaces is not None for e in events)
    assert any(e.data.person.identity_kind is IdentityKind.DNR for e in events)
    per_person = Counter(d.identity_number for d in documents)
    assert max(per_person.values()) >= 4


def test_consent_variations() -> None:
    releases = [r.body for r in valid_records(600, seed=5) if isinstance(r.body, KodaLoslatelse)]
    consents = {body.samtykke for body in releases}
    assert {(), ("KOMMUNE",), ("KOMMUNE", "HELSE")} <= consents


def test_each_persons_events_are_in_time_order() -> None:
    times: dict[str, list[dt.datetime]] = defaultdict(list)
    for document in valid_documents(800, seed=2):
        record = parse(document.raw, CTX)
        times[document.identity_number].append(dt.datetime.fromisoformat(record.registrert))
    assert len(times) > 50
    for registered in times.values():
        assert registered == sorted(registered)


def test_every_invalid_document_is_refused_with_its_reason() -> None:
    documents = invalid_documents(60, seed=1)
    for document in documents:
        with pytest.raises(InputRejected) as caught:
            translate(document.raw, CTX)
        assert caught.value.reason is document.expected_reason, document.hendelse_id
    assert len({d.expected_reason for d in documents}) >= 10
    assert len({d.hendelse_id for d in documents}) == len(documents)


def test_mixed_documents_keep_the_valid_order() -> None:
    mixed = mixed_documents(200, 10, seed=9)
    assert len(mixed) == 210
    assert sum(d.expected_reason is not None for d in mixed) == 10
    assert [d for d in mixed if d.expected_reason is None] == valid_documents(200, seed=9)
    all_ids = [d.hendelse_id for d in mixed]
    assert len(set(all_ids)) == len(all_ids)


def test_invalid_identities_are_still_synthetic() -> None:
    for document in invalid_documents(22, seed=0):
        if document.expected_reason is Reason.INVALID_IDENTITY_NUMBER:
            assert int(document.identity_number[2:4]) > 80
