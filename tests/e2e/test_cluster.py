"""Three secured brokers, two `hub run` processes as the `hub` principal under the ACLs the
policy implies, sources publishing as themselves; a broker SIGKILLed mid-run and brought back
with `up`. Every document is accounted for, both processes did part of the work, and each one's
`/metrics` answers on its own port.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.cluster import prepare_cluster
from hub.kafka.admin import describe_topics
from hub.kafka.credentials import read_password
from hubdev.demo.synthetic import mixed_documents
from hubdev.kafka.local import LocalKafka
from tests.e2e.harness import HubEnv, HubProcess, collect, ingest_only
from tests.e2e.test_ingest import dead_letters_by_origin, distinct_events
from tests.support import free_port_runs

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

TOTAL, INVALID = 3000, 90
TOKEN = "a-metrics-token-for-this-test-only"  # noqa: S105 - a test value


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[LocalKafka]:
    port, controller_port = free_port_runs()
    kafka = LocalKafka(
        work_dir=tmp_path / "hub" / "kafka",
        brokers=3,
        port=port,
        controller_port=controller_port,
        heap="512m",
        stop_with_parent=True,
    )
    try:
        kafka.start(timeout=180)
        yield kafka
    finally:
        kafka.stop()


async def test_two_hubs_on_three_brokers_lose_nothing_when_a_broker_dies(
    cluster: LocalKafka, tmp_path: Path
) -> None:
    data = tmp_path / "hub"
    admin = HubEnv(cluster.admin_connection(), data, partitions=6)
    # Topics (replicated 3, min ISR 2), the policy's ACLs, and every local principal's password.
    await asyncio.to_thread(prepare_cluster, admin.settings())
    credentials = data / "kafka" / "credentials"

    def as_principal(name: str, **overrides: object) -> HubEnv:
        password = read_password(credentials, name)
        assert password is not None
        kafka = {"username": name, "password": password.get_secret_value()}
        return dataclasses.replace(
            admin, overrides={"kafka": kafka, **overrides}, web_port=free_port_runs()[0]
        )

    shared = {"signing": {"key_dir": str(tmp_path / "keys")}, "metrics": {"token": TOKEN}}
    hubs = [as_principal("hub", data_dir=str(tmp_path / f"hub-{n}"), **shared) for n in (1, 2)]
    source = as_principal("source.koda")
    topics = admin.settings().topics
    await _replicated(admin, topics.events)

    docs = mixed_documents(TOTAL - INVALID, INVALID, seed=11)
    processes = [HubProcess(env, tmp_path / f"hub-{n}.log") for n, env in enumerate(hubs, 1)]
    try:
        await source.publish([d.raw for d in docs])
        for process in processes:  # one after the other: the first makes the signing key
            process.start(timeout_s=120)
        # While the two hubs work through the backlog, the canonical topic's leader dies.
        victim = await _leader_of(admin, topics.events)
        _kill_node(cluster, victim)
        await asyncio.sleep(5)
        assert victim in (await asyncio.to_thread(cluster.up, 180)).started

        events = await collect(
            admin.connection,
            topics.events,
            until=lambda rs: len(distinct_events(rs)) >= TOTAL - INVALID,
            timeout_s=180,
        )
        dead = ingest_only(
            await collect(
                admin.connection,
                topics.dlq,
                until=lambda rs: len(dead_letters_by_origin(ingest_only(rs))) >= INVALID,
                timeout_s=60,
            )
        )
        took = [await _records_in(env) for env in hubs]
    finally:
        for process in processes:
            process.stop()
    assert len(distinct_events(events)) == TOTAL - INVALID
    assert len(dead_letters_by_origin(dead)) == INVALID
    assert all(n > 0 for n in took), f"each process took part of the work: {took}"
    for process in processes:
        # The only failures: batches rewound while the broker was away and taken again, and
        # commits refused because the group rebalanced meanwhile (the batch comes again).
        expected = ('"batch.rewound"', "CommitFailedError")
        failed = [line for line in process.log_path.read_text().splitlines() if "Traceback" in line]
        assert all(any(e in line for e in expected) for line in failed), failed[:1]


async def _replicated(env: HubEnv, topic: str) -> None:
    (state,) = (await describe_topics(env.connection, [topic])).values()
    assert state.replication_factor == 3
    assert state.config["min.insync.replicas"] == "2"


async def _leader_of(env: HubEnv, topic: str) -> int:
    from aiokafka.admin import AIOKafkaAdminClient

    client = AIOKafkaAdminClient(**env.connection.aiokafka())
    await client.start()
    try:
        (described,) = await client.describe_topics([topic])
    finally:
        await client.close()
    return int(described["partitions"][0]["leader"])


def _kill_node(cluster: LocalKafka, node_id: int) -> None:
    import os
    import signal

    (node,) = [n for n in cluster.status().nodes if n.node_id == node_id]
    assert node.pid is not None
    os.kill(node.pid, signal.SIGKILL)


async def _records_in(env: HubEnv) -> float:
    """What this process's `/metrics` says its ingest stages took."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{env.web_port}") as client:
        response = await client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200, response.text
    pattern = re.compile(r'^hub_records_in_total\{stage="ingest[^"]*"\} (\S+)$', re.M)
    return sum(float(value) for value in pattern.findall(response.text))
