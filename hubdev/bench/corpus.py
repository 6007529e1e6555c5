"""The benchmark's source documents: deterministic, synthetic, a realistic mix, made in chunks.

The mix is `hubdev.demo.synthetic`'s: interleaved person stories (sentence started, transfers
planned and completed or cancelled, rare escapes, releases planned, sometimes corrected, then
completed or cancelled, with every kind of consent), plus a share of invalid documents of every
kind of fault, scattered among the good ones. Every identity number is synthetic.

Documents are made chunk by chunk (each chunk its own seed, so ids never repeat), so that a run
of a million documents never holds them all in memory. A source system with a generator of its
own joins `GENERATORS`; the benchmark publishes to the topic of the source it is given.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import adapters.koda
from hub.pipeline import headers as h
from hub.pipeline.records import Headers, text_headers
from hub.privacy import PersonKeys
from hubdev.demo.synthetic import SyntheticDocument, mixed_documents
from schemas.ids import canonical_id

__all__ = ["CHUNK", "GENERATORS", "SOURCE", "Document", "Generator", "chunks"]

CHUNK = 10_000
# The source whose documents the benchmark publishes.
SOURCE = "koda"
# A chunk's seed: far apart per chunk, so no two chunks share a source event id.
_SEED_STRIDE = 100_003

# (valid, invalid, seed) -> documents: one per source system that has synthetic traffic.
Generator = Callable[[int, int, int], list[SyntheticDocument]]


def _koda(valid: int, invalid: int, seed: int) -> list[SyntheticDocument]:
    return mixed_documents(valid, invalid, seed=seed)


GENERATORS: dict[str, tuple[str, Generator]] = {
    # source name: (the source's id in canonical events, the generator)
    "koda": (adapters.koda.SOURCE, _koda),
}


@dataclass(frozen=True, slots=True)
class Document:
    """One document as the benchmark publishes it, and the ids its outputs will carry."""

    key: bytes | None
    value: bytes = field(repr=False)
    headers: Headers
    # Header values an output of this document can be recognised by: the correlation id
    # (kept by every stage), the source's event id and the canonical event id.
    ids: tuple[str, ...]
    valid: bool


def chunks(
    count: int,
    *,
    source: str,
    invalid_share: float,
    seed: int,
    person_key: PersonKeys,
    content_type: str,
    tag: str,
    chunk: int = CHUNK,
) -> Iterator[list[Document]]:
    """`count` documents in chunks of `chunk`; correlation ids are `<tag>-<number>`."""
    canonical_source, generate = GENERATORS[source]
    done = 0
    for index in range((count + chunk - 1) // chunk):
        size = min(chunk, count - done)
        invalid = round((done + size) * invalid_share) - round(done * invalid_share)
        synthetic = generate(size - invalid, invalid, seed + index * _SEED_STRIDE)
        numbers = range(done, done + size)
        yield [
            _document(doc, f"{tag}-{n}", person_key, content_type, canonical_source)
            for n, doc in zip(numbers, synthetic, strict=True)
        ]
        done += size


def _document(
    doc: SyntheticDocument,
    correlation_id: str,
    person_key: Callable[[str], str],
    content_type: str,
    canonical_source: str,
) -> Document:
    valid = doc.expected_reason is None
    # As `hub publish` does: the person key when the document can be read, none when not.
    key = person_key(doc.identity_number).encode("ascii") if valid else None
    headers = text_headers([(h.CONTENT_TYPE, content_type), (h.CORRELATION_ID, correlation_id)])
    ids = (correlation_id, doc.hendelse_id, canonical_id(canonical_source, doc.hendelse_id))
    return Document(key, doc.raw, headers, ids, valid)
