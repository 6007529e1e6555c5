"""The benchmark's parts that need no broker: isolation of deployments, percentiles, the corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.kafka.connection import KafkaConnection
from hub.privacy import PersonKeys
from hub.settings import TopicSettings
from hubdev.bench.corpus import chunks
from hubdev.bench.deployment import Deployment, deployment
from hubdev.bench.latency import latency_stats

__all__: list[str] = []


def make(name: str, inbound_tag: str | None = None) -> Deployment:
    return deployment(
        name,
        run_id="r1",
        connection=KafkaConnection("127.0.0.1:1", username="admin"),
        data_dir=Path("/nonexistent"),
        partitions=6,
        inbound_tag=inbound_tag,
    )


def test_deployments_share_inbound_topics_only_when_told() -> None:
    one, two, alone = make("a", "backlog"), make("b", "backlog"), make("c")
    fields = [f for f, v in TopicSettings().model_dump().items() if isinstance(v, str)]
    topics = {d.name: {f: d.topic(f) for f in fields} for d in (one, two, alone)}
    assert one.inbound_topics == two.inbound_topics != alone.inbound_topics
    inbound = set(one.inbound_topics)
    for field in fields:
        if topics["a"][field] not in inbound:
            assert len({topics[d][field] for d in topics}) == 3, field
    assert one.group_prefix != two.group_prefix


def test_settings_come_from_the_values_not_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HUB_KAFKA__MAX_BATCH_RECORDS", "7")
    monkeypatch.setenv("HUB_TOPICS__EVENTS", "someone.elses.topic")
    dep = make("a")
    assert dep.settings.kafka.max_batch_records != 7
    assert dep.settings.topics.events.endswith(".bench-r1-a")
    environ = dep.environ()
    assert "HUB_KAFKA__MAX_BATCH_RECORDS" not in environ
    assert environ["HUB_TOPICS__EVENTS"] == dep.settings.topics.events


def test_percentiles_are_nearest_rank() -> None:
    stats = latency_stats("t", [n / 1000 for n in range(1, 101)])
    assert (stats.records, stats.p50_ms, stats.p95_ms, stats.p99_ms, stats.max_ms) == (
        100,
        50.0,
        95.0,
        99.0,
        100.0,
    )
    assert latency_stats("t", [0.002]).p99_ms == 2.0


def test_the_corpus_has_the_share_of_invalid_documents_asked_and_unique_ids() -> None:
    parts = list(
        chunks(
            2_500,
            source="koda",
            invalid_share=0.03,
            seed=5,
            person_key=PersonKeys(b"a test secret of 16+ bytes"),
            content_type="application/xml",
            tag="t",
            chunk=1_000,
        )
    )
    docs = [doc for part in parts for doc in part]
    assert [len(part) for part in parts] == [1_000, 1_000, 500]
    assert sum(not doc.valid for doc in docs) == 75
    assert len({doc.value for doc in docs if doc.valid}) == len(docs) - 75
    assert [doc.ids[0] for doc in docs] == [f"t-{n}" for n in range(2_500)]
    assert all(doc.key is None for doc in docs if not doc.valid)
