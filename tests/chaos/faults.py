"""The faults the chaos suite makes, and the schedule it makes them on.

Each fault brings back what it broke before it returns (a killed broker is started again and
waited for until every replica is in sync; a killed hub is started again), so that the faults
of one schedule never pile up into an outage the cluster is not built to survive (two of three
brokers gone at once). The schedule is printed before the run starts and as it goes.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final

from confluent_kafka.admin import AdminClient

from hubdev.kafka.local import LocalKafka
from tests.chaos.workload import QUIET

__all__ = ["SCHEDULE", "SHORT_SCHEDULE", "Broker", "Fault"]


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    target: str

    def describe(self) -> str:
        return _DESCRIPTIONS[self.kind].format(target=self.target)


_DESCRIPTIONS: Final = {
    "kill-hub": "SIGKILL {target}, start it again",
    "kill-leader": "SIGKILL the broker leading partition 0 of {target}, start it again",
    "pause-broker": "SIGSTOP the broker leading partition 0 of {target} past the session "
    "timeout, then SIGCONT",
    "rebalance": "start {target} beside the two (every group rebalances mid-batch), "
    "stop it again (they rebalance again)",
}

# Five hub kills, two leader kills, a paused broker, a forced rebalance: one after the other,
# each while the live stream's slice for it is being published and worked on.
SCHEDULE: Final = (
    Fault("kill-hub", "hub-1"),
    Fault("kill-leader", "events"),
    Fault("kill-hub", "hub-2"),
    Fault("rebalance", "hub-3"),
    Fault("kill-hub", "hub-1"),
    Fault("pause-broker", "in_koda"),
    Fault("kill-leader", "events"),
    Fault("kill-hub", "hub-2"),
    Fault("kill-hub", "hub-1"),
)
# `make test`'s short run: every kind of fault once.
SHORT_SCHEDULE: Final = (
    Fault("kill-hub", "hub-1"),
    Fault("kill-leader", "events"),
    Fault("rebalance", "hub-3"),
    Fault("pause-broker", "in_koda"),
)


class Broker:
    """The cluster as the suite sees it: who leads what, killing and pausing nodes."""

    def __init__(self, cluster: LocalKafka, admin: dict[str, str], log: Callable[[str], None]):
        self._cluster = cluster
        self._admin = AdminClient({**admin, **QUIET})
        self._log = log

    def leader_of(self, topic: str, partition: int = 0) -> int:
        metadata = self._admin.list_topics(topic, timeout=30)
        return int(metadata.topics[topic].partitions[partition].leader)

    def pid_of(self, node_id: int) -> int:
        (node,) = [n for n in self._cluster.status().nodes if n.node_id == node_id]
        if node.pid is None:
            raise RuntimeError(f"broker {node_id} is not running")
        return node.pid

    def kill_and_restart(self, node_id: int, down_s: float) -> None:
        os.kill(self.pid_of(node_id), signal.SIGKILL)
        self._log(f"broker {node_id} killed")
        time.sleep(down_s)
        started = self._cluster.up(timeout=180).started
        self._log(f"broker(s) {list(started)} started again")
        self.wait_in_sync()

    def pause(self, node_id: int, paused_s: float) -> None:
        pid = self.pid_of(node_id)
        os.kill(pid, signal.SIGSTOP)
        self._log(f"broker {node_id} stopped (SIGSTOP)")
        try:
            time.sleep(paused_s)
        finally:
            os.kill(pid, signal.SIGCONT)
        self._log(f"broker {node_id} continued (SIGCONT)")
        self.wait_in_sync()

    def wait_in_sync(self, timeout_s: float = 240.0) -> None:
        """Until every partition has all its replicas in sync: the next broker fault must not
        find one already missing."""
        deadline = time.monotonic() + timeout_s
        while True:
            lagging = self._under_replicated()
            if not lagging:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"{lagging} partitions still under-replicated")
            time.sleep(1.0)

    def _under_replicated(self) -> int:
        try:
            metadata = self._admin.list_topics(timeout=30)
        except Exception:  # noqa: BLE001 - a cluster still settling answers later
            return -1
        return sum(
            1
            for topic in metadata.topics.values()
            for partition in topic.partitions.values()
            if len(partition.isrs) < len(partition.replicas) or partition.leader < 0
        )
