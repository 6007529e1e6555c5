"""The chaos suite's workload: synthetic documents from all three sources, published as each
source system would, with a manifest of what was sent for the independent checker.

A source keys every record by a stable reference to the person in its own system (here: a hash
of the identity number under the source's name), so one person's documents share a partition
and keep their order. It publishes with librdkafka, idempotent and `acks=all`, as its own
principal, retrying until the cluster takes the record: a source that gives up loses nothing of
the hub's, but the suite must know, so every failed delivery is counted and reported.

The documents are made chunk by chunk (each chunk its own seeds), so a run of 100,000 never
holds them all in memory; the manifest is written as they are made.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from confluent_kafka import KafkaError, Message, Producer

from hubdev.demo import court, police, synthetic
from hubdev.demo.synthetic import SyntheticDocument

__all__ = ["QUIET", "Document", "Publisher", "Workload"]

# librdkafka reports every broker it cannot reach; in a run that kills brokers on purpose that
# is noise. Failed deliveries are counted and reported instead.
QUIET: Final = {"log_level": "2"}

# Of every hundred documents: the correctional case system sends most, courts and police some.
_SHARES: Final = {"koda": 80, "court": 10, "police": 10}
_CHUNK: Final = 5_000
_SEED_STRIDE: Final = 100_003
_CONTENT_TYPES: Final = {
    "koda": "application/xml",
    "court": "application/xml",
    "police": "application/json",
}


@dataclass(frozen=True, slots=True)
class Document:
    seq: int
    source: str
    key: bytes
    value: bytes = field(repr=False)
    source_event_id: str
    valid: bool

    def manifest_line(self, topic: str) -> str:
        return json.dumps(
            {
                "seq": self.seq,
                "source": self.source,
                "topic": topic,
                "sha256": hashlib.sha256(self.value).hexdigest(),
                "source_event_id": self.source_event_id,
                "person": self.key.decode("ascii"),
                "valid": self.valid,
            },
            separators=(",", ":"),
        )


def person_reference(source: str, identity_number: str) -> bytes:
    """The source system's own stable reference to a person: never the identity number."""
    digest = hashlib.sha256(f"{source}:{identity_number}".encode()).hexdigest()[:20]
    return f"{source}-{digest}".encode("ascii")


_Generate = Callable[[int, int, int], list[SyntheticDocument]]


def _mixed(
    valid_of: Callable[..., list[SyntheticDocument]],
    invalid_of: Callable[..., list[SyntheticDocument]],
) -> _Generate:
    def generate(valid: int, invalid: int, seed: int) -> list[SyntheticDocument]:
        documents = valid_of(valid, seed=seed)
        rng = random.Random(seed)  # noqa: S311 - reproducible test data
        for bad in invalid_of(invalid, seed=seed):
            documents.insert(rng.randrange(len(documents) + 1), bad)
        return documents

    return generate


_GENERATORS: Final[dict[str, _Generate]] = {
    "koda": lambda valid, invalid, seed: synthetic.mixed_documents(valid, invalid, seed=seed),
    "court": _mixed(court.valid_documents, court.invalid_documents),
    "police": _mixed(police.valid_documents, police.invalid_documents),
}


@dataclass(frozen=True)
class Workload:
    """`total` documents, `invalid_share` of them invalid, from the three sources interleaved."""

    total: int
    invalid_share: float = 0.03
    seed: int = 1

    def documents(self) -> Iterator[Document]:
        """Every document in publish order; each source's documents keep their own order."""
        seq = 0
        done = 0
        for index in range((self.total + _CHUNK - 1) // _CHUNK):
            size = min(_CHUNK, self.total - done)
            per_source = self._split(size)
            queues = {
                source: iter(self._chunk(source, count, index))
                for source, count in per_source.items()
            }
            rng = random.Random(self.seed * 7919 + index)  # noqa: S311 - reproducible order
            left = dict(per_source)
            while any(left.values()):
                source = rng.choices(list(left), weights=list(left.values()))[0]
                left[source] -= 1
                yield self._document(seq, source, next(queues[source]))
                seq += 1
            done += size

    def _split(self, size: int) -> dict[str, int]:
        counts = {s: size * share // 100 for s, share in _SHARES.items()}
        counts["koda"] += size - sum(counts.values())
        return counts

    def _chunk(self, source: str, count: int, index: int) -> list[SyntheticDocument]:
        invalid = round(count * self.invalid_share)
        seed = self.seed * 1_000_003 + index * _SEED_STRIDE
        return _GENERATORS[source](count - invalid, invalid, seed)

    @staticmethod
    def _document(seq: int, source: str, doc: SyntheticDocument) -> Document:
        return Document(
            seq=seq,
            source=source,
            key=person_reference(source, doc.identity_number),
            value=doc.raw,
            source_event_id=doc.hendelse_id,
            valid=doc.expected_reason is None,
        )


class Publisher:
    """Publishes a workload, each source as its own principal, and writes the manifest."""

    def __init__(
        self,
        properties: Callable[[str], dict[str, str]],
        topics: dict[str, str],
        manifest: Path,
    ) -> None:
        """`properties(source)`: librdkafka properties of that source's principal."""
        self._topics = topics
        self._manifest = manifest
        self._producers = {
            source: Producer(
                {
                    **properties(source),
                    "client.id": f"chaos-{source}",
                    "enable.idempotence": "true",
                    "acks": "all",
                    "linger.ms": "5",
                    # A source keeps trying while brokers die and come back.
                    "message.timeout.ms": "600000",
                    **QUIET,
                }
            )
            for source in topics
        }
        self._lock = threading.Lock()
        self.sent = 0
        self.acknowledged = 0
        self.failed: list[str] = []

    def publish(self, documents: Iterator[Document], *, rate: float | None = None) -> None:
        """Publish `documents` (at most `rate` a second), then wait for every acknowledgement."""
        started = time.monotonic()
        with self._manifest.open("a", encoding="utf-8") as manifest:
            for n, document in enumerate(documents):
                if rate:
                    ahead = started + n / rate - time.monotonic()
                    if ahead > 0:
                        time.sleep(ahead)
                manifest.write(document.manifest_line(self._topics[document.source]) + "\n")
                self._produce(document)
        self.flush()

    def flush(self) -> None:
        for producer in self._producers.values():
            while producer.flush(5.0):
                pass

    def _produce(self, document: Document) -> None:
        producer = self._producers[document.source]
        headers = [("content-type", _CONTENT_TYPES[document.source].encode())]
        while True:
            try:
                producer.produce(
                    self._topics[document.source],
                    key=document.key,
                    value=document.value,
                    headers=headers,
                    on_delivery=self._delivered(document.source_event_id),
                )
                break
            except BufferError:  # the local queue is full while a broker is away: wait
                producer.poll(0.5)
        self.sent += 1
        producer.poll(0)

    def _delivered(self, what: str) -> Callable[[KafkaError | None, Message], None]:
        def report(error: KafkaError | None, _message: Message) -> None:
            with self._lock:
                if error is None:
                    self.acknowledged += 1
                else:
                    self.failed.append(f"{what}: {error.str()}")

        return report

    def describe(self) -> dict[str, Any]:
        return {"sent": self.sent, "acknowledged": self.acknowledged, "failed": len(self.failed)}
