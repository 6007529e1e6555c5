"""One chaos run: three secured brokers, two hub processes, a backlog and a live stream from all
three sources, faults on a printed schedule, then the independent checker's report.

The run, in order:
1. a three-node KRaft cluster (SASL_SSL, SCRAM, ACLs), its topics and principals as the policy says;
2. half the documents published as a backlog; two `hub run` processes (principal `hub`) started;
3. the other half published as a live stream across the schedule, while the faults happen;
4. once every consumer group of the hub has caught up: the hubs are stopped, the chains of the
   writers that were killed are sealed (`hub audit seal`, as an operator does after a crash) and
   `hub audit verify` gives its verdict;
5. the checker (`tests.chaos.checker`, which uses none of the hub's code) reads every topic and
   reports; the report and the run's figures are written as JSON.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from confluent_kafka import (
    Consumer,
    ConsumerGroupTopicPartitions,
    KafkaError,
    KafkaException,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient

from hub.cluster import prepare_cluster
from hub.kafka.credentials import read_password
from hub.settings import HubSettings
from hubdev.kafka.local import LocalKafka
from tests.chaos.checker import ChaosTopics, Report, check
from tests.chaos.faults import SCHEDULE, Broker, Fault
from tests.chaos.workload import QUIET, Document, Publisher, Workload
from tests.e2e.harness import HubEnv, HubProcess
from tests.support import free_port_runs

__all__ = ["ChaosPlan", "ChaosResult", "run_chaos"]

_CHECKOUT = Path(__file__).resolve().parents[2]
# Short enough that a run sees dead writers sealed within minutes; the heartbeat and
# checkpoints keep a live writer well inside it.
_AUDIT = {"checkpoint_every_s": 2.0, "heartbeat_every_s": 5.0, "live_grace_s": 30.0}
_PAUSE_S = 25.0  # longer than the consumers' session timeout (10 s) and the brokers' (9 s)
_BROKER_DOWN_S = 8.0
_SLICE_S = 20.0
_METRICS_TOKEN = "a-metrics-token-for-the-chaos-run"  # noqa: S105 - a test value
_INTO_SLICE_S = 3.0


@dataclass(frozen=True)
class ChaosPlan:
    documents: int
    invalid_share: float = 0.03
    schedule: tuple[Fault, ...] = SCHEDULE
    # Quiet time after each fault, while the hubs work on.
    gap_s: float = 5.0
    backlog_share: float = 0.5
    seed: int = 1
    partitions: int = 6
    drain_timeout_s: float = 900.0


@dataclass
class ChaosResult:
    plan: ChaosPlan
    report: Report
    timings: dict[str, float] = field(default_factory=dict)
    faults: list[str] = field(default_factory=list)
    publisher: dict[str, Any] = field(default_factory=dict)
    hubs_exited_on_their_own: list[str] = field(default_factory=list)
    verify_before_seal: str = ""
    seal: str = ""
    # Each hub process's `/metrics` status code at the end, on its own port.
    metrics: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> bool:
        return self.report.failed or bool(self.hubs_exited_on_their_own)

    def as_dict(self) -> dict[str, Any]:
        return {
            "plan": dataclasses.asdict(self.plan),
            "failed": self.failed,
            "report": self.report.as_dict(),
            "timings_s": self.timings,
            "faults": self.faults,
            "publisher": self.publisher,
            "hubs_exited_on_their_own": self.hubs_exited_on_their_own,
            "verify_before_seal": self.verify_before_seal,
            "seal": self.seal,
            "metrics": self.metrics,
        }


class _Run:
    def __init__(self, plan: ChaosPlan, work: Path, out: Callable[[str], None]) -> None:
        self.plan = plan
        self.work = work
        self.started = time.monotonic()
        self._out = out
        self.faults: list[str] = []

    def say(self, line: str) -> None:
        self._out(f"[{time.monotonic() - self.started:7.1f}s] {line}")


def run_chaos(plan: ChaosPlan, work: Path, out: Callable[[str], None] = print) -> ChaosResult:
    """The whole run in `work` (a fresh folder); the cluster is stopped at the end."""
    run = _Run(plan, work, out)
    port, controller_port = free_port_runs()
    cluster = LocalKafka(
        work_dir=work / "hub" / "kafka",
        brokers=3,
        port=port,
        controller_port=controller_port,
        heap="512m",
        stop_with_parent=True,
    )
    try:
        run.say(f"starting three brokers on ports {port}, {port + 2}, {port + 4}")
        cluster.start(timeout=240)
        return _run_on(cluster, run)
    finally:
        cluster.stop()


def _run_on(cluster: LocalKafka, run: _Run) -> ChaosResult:
    plan, work = run.plan, run.work
    admin = HubEnv(cluster.admin_connection(), work / "hub", partitions=plan.partitions)
    prepare_cluster(admin.settings())
    run.say("topics, ACLs and principals ready")
    envs = _hub_envs(admin, work)
    settings = admin.settings()
    broker = Broker(cluster, cluster.admin_connection().properties(), run.say)

    publisher = Publisher(
        lambda source: cluster.connection(f"source.{source}").properties(),
        _inbound(settings),
        work / "manifest.jsonl",
    )
    documents = Workload(plan.documents, plan.invalid_share, plan.seed).documents()
    backlog = round(plan.documents * plan.backlog_share)
    live = plan.documents - backlog
    run.say(f"publishing a backlog of {backlog:,} documents")
    publisher.publish(itertools.islice(documents, backlog))
    timings = {"backlog_published": time.monotonic() - run.started}

    hubs = {name: HubProcess(env, work / f"{name}.log") for name, env in envs.items()}
    for name in ("hub-1", "hub-2"):  # one after the other: the first makes the signing key
        hubs[name].start(timeout_s=180)
        run.say(f"{name} started")

    schedule = plan.schedule
    run.say("schedule, one fault after the other:")
    for number, fault in enumerate(schedule, 1):
        run.say(f"  {number}. {fault.describe()}")
    # The live stream comes in slices, one as each fault begins (and one after the last), each
    # spread over `_SLICE_S`: whatever the faults take, documents arrive while they happen.
    slices: queue.Queue[int | None] = queue.Queue()
    sizes = _slices(live, len(schedule) + 1)
    stream = threading.Thread(
        target=_stream, args=(publisher, documents, slices), daemon=True, name="live-stream"
    )
    run.say(f"live stream: {live:,} documents in {len(sizes)} slices, one as each fault begins")
    stream.start()
    exited: list[str] = []
    last_kill = _play(plan, hubs, broker, run, exited, lambda k: slices.put(sizes[k]))
    slices.put(sizes[-1])
    slices.put(None)
    stream.join()
    timings["live_published"] = time.monotonic() - run.started
    run.say(f"publisher: {publisher.describe()}")

    _drain(admin.settings(), run, plan.drain_timeout_s)
    timings["drained"] = time.monotonic() - run.started
    exited += [name for name in ("hub-1", "hub-2") if hubs[name].exited_on_its_own()]
    metrics = {name: _metrics_answer(envs[name]) for name in ("hub-1", "hub-2")}
    for name in ("hub-1", "hub-2"):
        hubs[name].stop()
    run.say("hubs stopped")

    operator = _as_principal(admin, "operator", envs["hub-1"].overrides)
    # The chains of killed writers count as dead only once their grace has passed.
    time.sleep(max(0.0, last_kill + _AUDIT["live_grace_s"] + 2 - time.monotonic()))
    before = _hub(operator, "audit", "verify")
    sealed = _hub(
        operator, "audit", "seal", "--execute", "--why", "chaos run: killed hub processes"
    )
    verdict = _hub(operator, "audit", "verify")
    run.say(f"audit verify after the seal: {verdict.splitlines()[-1] if verdict else '?'}")

    run.say("checking every topic")
    report = check(
        cluster.admin_connection().properties(),
        _checker_topics(settings),
        work / "manifest.jsonl",
        settings.routing.policy_path,
        _CHECKOUT / "deploy" / "reference",
    )
    report = report.with_audit_verify(_verdict(verdict))
    timings["checked"] = time.monotonic() - run.started
    return ChaosResult(
        plan,
        report,
        timings,
        run.faults,
        publisher.describe() | {"failures": publisher.failed[:5]},
        exited,
        before,
        sealed,
        metrics,
    )


def _play(
    plan: ChaosPlan,
    hubs: dict[str, HubProcess],
    broker: Broker,
    run: _Run,
    exited: list[str],
    before_fault: Callable[[int], None],
) -> float:
    """Make each fault in turn, `plan.gap_s` apart; return when the last hub was killed."""
    start = last_kill = time.monotonic()
    for number, fault in enumerate(plan.schedule):
        time.sleep(plan.gap_s)
        before_fault(number)
        time.sleep(_INTO_SLICE_S)  # the fault strikes while the slice is being worked on
        run.say(f"fault: {fault.describe()}")
        run.faults.append(f"t+{time.monotonic() - start:.0f}s {fault.describe()}")
        if fault.kind == "kill-hub":
            hub = hubs[fault.target]
            if hub.exited_on_its_own():
                exited.append(fault.target)
            hub.kill()
            last_kill = time.monotonic()
            hub.start(timeout_s=180)
            run.say(f"{fault.target} started again")
        elif fault.kind == "kill-leader":
            node = broker.leader_of(_topic(hubs, fault.target))
            broker.kill_and_restart(node, _BROKER_DOWN_S)
        elif fault.kind == "pause-broker":
            node = broker.leader_of(_topic(hubs, fault.target))
            broker.pause(node, _PAUSE_S)
        elif fault.kind == "rebalance":
            extra = hubs[fault.target]
            extra.start(timeout_s=180)
            run.say(f"{fault.target} joined")
            time.sleep(10)
            extra.stop()
            run.say(f"{fault.target} left")
    return last_kill


def _metrics_answer(env: HubEnv) -> int:
    response = httpx.get(
        f"http://127.0.0.1:{env.web_port}/metrics",
        headers={"Authorization": f"Bearer {_METRICS_TOKEN}"},
        timeout=30,
    )
    return response.status_code


def _slices(total: int, count: int) -> list[int]:
    return [total * (k + 1) // count - total * k // count for k in range(count)]


def _stream(
    publisher: Publisher, documents: Iterator[Document], slices: queue.Queue[int | None]
) -> None:
    while (size := slices.get()) is not None:
        publisher.publish(itertools.islice(documents, size), rate=max(1.0, size / _SLICE_S))


def _topic(hubs: dict[str, HubProcess], name: str) -> str:
    settings = hubs["hub-1"].env.settings()
    return str(getattr(settings.topics, name))


def _hub_envs(admin: HubEnv, work: Path) -> dict[str, HubEnv]:
    shared = {
        "signing": {"key_dir": str(work / "keys")},
        "audit": _AUDIT,
        "metrics": {"token": _METRICS_TOKEN},
    }
    return {
        name: _as_principal(admin, "hub", {"data_dir": str(work / name), **shared})
        for name in ("hub-1", "hub-2", "hub-3")
    }


def _as_principal(admin: HubEnv, name: str, overrides: dict[str, Any]) -> HubEnv:
    credentials = admin.data_dir / "kafka" / "credentials"
    password = read_password(credentials, name)
    if password is None:
        raise RuntimeError(f"no local password for {name}")
    kafka = {"username": name, "password": password.get_secret_value()}
    return dataclasses.replace(
        admin,
        overrides={**overrides, "kafka": kafka},
        web_port=free_port_runs()[0],
    )


def _inbound(settings: HubSettings) -> dict[str, str]:
    t = settings.topics
    return {"koda": t.in_koda, "court": t.in_court, "police": t.in_police}


def _checker_topics(settings: HubSettings) -> ChaosTopics:
    t = settings.topics
    return ChaosTopics(
        inbound=_inbound(settings),
        events=t.events,
        dlq=t.dlq,
        audit=t.audit,
        audit_checkpoints=t.audit_checkpoints,
        deliveries=t.deliveries,
        recipient_prefix=t.recipient_prefix,
    )


# Answers while a partition's leader moves (a broker back after its fault, or the cluster
# restoring its preferred leaders some minutes later): the lag is asked again.
_LEADER_MOVING = frozenset(
    {
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError._TRANSPORT,
        KafkaError._TIMED_OUT,
    }
)


def _drain(
    settings: HubSettings,
    run: _Run,
    timeout_s: float,
    *,
    pause_s: float = 3.0,
    lag_of: Callable[[dict[str, str], str], int] | None = None,
) -> None:
    """Until every consumer group of the hub has read its topics to the end, twice in a row."""
    props = settings.kafka_connection().properties()
    prefix = settings.kafka.group_prefix
    ask = lag_of or _lag
    deadline = time.monotonic() + timeout_s
    caught_up = 0
    last_said = 0.0
    while caught_up < 2:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the hub did not catch up within {timeout_s:.0f} s")
        try:
            lag = ask(props, prefix)
        except KafkaException as exc:
            error = exc.args[0]
            if not isinstance(error, KafkaError) or error.code() not in _LEADER_MOVING:
                raise
            run.say(f"the lag is not known this time ({error.name()}): asked again")
            caught_up = 0
            time.sleep(pause_s)
            continue
        caught_up = caught_up + 1 if lag == 0 else 0
        if time.monotonic() - last_said > 15:
            run.say(f"waiting for the hub to catch up: {lag:,} records behind")
            last_said = time.monotonic()
        time.sleep(pause_s)
    run.say("every consumer group of the hub has caught up")


def _lag(props: dict[str, str], prefix: str) -> int:
    admin = AdminClient({**props, **QUIET})
    groups = [
        g.group_id
        for g in admin.list_consumer_groups(request_timeout=30).result().valid
        if g.group_id.startswith(prefix)
    ]
    consumer = Consumer(
        {**props, "group.id": f"{prefix}-chaos-lag", "enable.auto.commit": False, **QUIET}
    )
    try:
        total = 0
        for group in groups:
            future = admin.list_consumer_group_offsets([ConsumerGroupTopicPartitions(group)])
            committed = future[group].result().topic_partitions
            for tp in committed:
                low, high = consumer.get_watermark_offsets(
                    TopicPartition(tp.topic, tp.partition), timeout=30
                )
                total += high - (tp.offset if tp.offset >= 0 else low)
        return total
    finally:
        consumer.close()


def _hub(env: HubEnv, *args: str) -> str:
    """A `hub` command as `env`'s principal; its output (both streams)."""
    done = subprocess.run(
        [sys.executable, "-m", "hub", *args, "--operator", "chaos"]
        if args[:2] == ("audit", "seal")
        else [sys.executable, "-m", "hub", *args],
        env={**env.environ(), "HUB_LOG_FORMAT": "json"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return (done.stdout + done.stderr).strip()


def _verdict(output: str) -> str:
    for word in ("NOT INTACT", "INTACT"):
        if word in output:
            return word
    return output.splitlines()[-1] if output else "no output"


def write_result(result: ChaosResult, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"chaos-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(result.as_dict(), indent=2, default=str) + "\n")
    return path
