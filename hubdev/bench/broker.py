"""The benchmark's own broker: a `LocalKafka` on ports the OS hands out, in the run's work folder.

Never a broker a person runs: the benchmark's figures must not be bent by someone else's topics,
and the benchmark must not fill someone else's broker with a million documents. Stopped when the
block ends (also on Ctrl-C), and by the kernel if the benchmark dies outright.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from hubdev.bench.config import BrokerHandle
from hubdev.kafka.local import LocalKafka, LocalKafkaError

__all__ = ["own_broker"]


@contextmanager
def own_broker(work_dir: Path, *, heap: str, timeout: float) -> Iterator[BrokerHandle]:
    port, controller_port = _free_ports(2)
    kafka = LocalKafka(
        work_dir=work_dir,
        port=port,
        controller_port=controller_port,
        heap=heap,
        stop_with_parent=True,
    )
    try:
        status = kafka.start(timeout=timeout)
        if status.pid is None:
            raise LocalKafkaError(f"the benchmark's broker at {kafka.bootstrap_servers} is gone")
        yield BrokerHandle(kafka.admin_connection(), status.pid)
    finally:
        kafka.stop()


def _free_ports(count: int) -> list[int]:
    """Distinct loopback ports the OS has just handed out and taken back."""
    with ExitStack() as stack:
        probes = [stack.enter_context(socket.socket()) for _ in range(count)]
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
