"""Order per person starts at the publisher: every document of a person gets the same key,
whatever its own event id, so all of them land on one partition of the inbound topic."""

from __future__ import annotations

import dataclasses

from adapters.koda.record import KodaHendelse
from hub.bootstrap import translation_context
from hub.settings import HubSettings
from hub.sources import sources
from hub.tools.publish import prepare
from hubdev.demo.kodaxml import render
from hubdev.demo.synthetic import valid_records


def test_one_persons_documents_share_a_key_and_another_persons_do_not() -> None:
    settings = HubSettings()
    koda, context = sources(settings)["koda"], translation_context(settings)
    records = valid_records(40, seed=5)
    by_person: dict[str, set[bytes | None]] = {}
    documents = {r.person.identitetsnummer: 0 for r in records}
    for record in records:
        documents[record.person.identitetsnummer] += 1
        key = prepare(koda, render(record), context).record.key
        by_person.setdefault(record.person.identitetsnummer, set()).add(key)
    assert max(documents.values()) >= 3, "the sample has people with several documents"
    assert all(len(keys) == 1 for keys in by_person.values()), "one key per person"
    keys = [next(iter(k)) for k in by_person.values()]
    assert len(set(keys)) == len(keys), "a key of their own per person"
    assert None not in keys
    # The document's own event id does not enter the key.
    first: KodaHendelse = records[0]
    other_id = dataclasses.replace(first, hendelse_id=first.hendelse_id + "-2")
    assert (
        prepare(koda, render(other_id), context).record.key
        == prepare(koda, render(first), context).record.key
    )
