"""A real Apache Kafka (KRaft) cluster for development and tests, run from Maven Central's jars.

One node, or three on loopback for replication and failover; secured as production is: clients
and brokers speak TLS with SASL/SCRAM-SHA-512, the controllers TLS with client certificates, and
the StandardAuthorizer denies whatever no ACL allows. The work directory (default `.hub/kafka`
in the checkout) holds:

    cluster.json                 the cluster's id and size, fixed when it is first formatted
    tls/                         its own CA and the brokers' certificate (hubdev/kafka/pki.py)
    credentials/<name>.password  SCRAM passwords of local principals (0600), `admin` from the
                                 start (hub/kafka/credentials.py)
    node-<n>/data/               node n's log.dirs, formatted once (data/meta.properties)
    node-<n>/logs/server.log     its own log (deploy/kafka/log4j2.properties)
    node-<n>/logs/kafka.out      the JVM's console: errors only, and whatever the JVM itself says
    node-<n>/server.properties   rendered from deploy/kafka/server.properties.template (0600)
    node-<n>/kafka.pid           its pid
    kafka.lock                   held while a start or stop is under way

The jars live in `libs_dir` (default `.hub/kafka/libs`), shared by the dev cluster and the test
suite, and are copied again by Maven only when the pom changes. A recorded pid is trusted only
while that process's command line names `kafka.Kafka` and the node's properties file, so a stale
pid file never gets someone else's process signalled; without a pid file, a node is found by
that command line. Linux: this reads /proc.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import SecretStr

from hub.kafka.admin import list_topics
from hub.kafka.connection import KafkaConnection
from hub.kafka.credentials import ADMIN, read_password, store_password
from hubdev.children import die_with_parent
from hubdev.kafka.pki import BROKER_PRINCIPAL, ensure_pki
from schemas.errors import HubError, Reason, TransientError

__all__ = [
    "KafkaStatus",
    "LocalKafka",
    "LocalKafkaError",
    "NodeStatus",
    "UpResult",
    "wait_until_ready",
]

T = TypeVar("T")

_HOST = "127.0.0.1"
_CHECKOUT = Path(__file__).resolve().parents[2]
_MAIN_CLASS = "kafka.Kafka"
_MIN_JAVA = 17
_JAVA_VERSION = re.compile(r'version "(?:1\.)?(\d+)')
_JARS_MARKER = ".pom-sha256"
# StorageTool runs for a second and needs little memory; the broker gets the configured heap.
_TOOL_HEAP = "256m"
_TOOL_TIMEOUT_S = 120.0
# The first run downloads some 45 MB into ~/.m2.
_MVN_TIMEOUT_S = 900.0
_POLL_S = 0.2
_PROBE_TIMEOUT_S = 5.0
_KILL_WAIT_S = 10.0
_TAIL_LINES = 3
_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_SIZES = (1, 3)


class LocalKafkaError(HubError):
    """The local cluster could not be set up, started or stopped. The text says what to do."""

    reason = Reason.BROKER_START_FAILED


@dataclass(frozen=True)
class NodeStatus:
    node_id: int
    address: str
    controller_address: str
    pid: int | None
    data_dir: Path
    # Every local node is broker and KRaft controller in one process.
    role: str = "broker,controller"

    @property
    def running(self) -> bool:
        return self.pid is not None


@dataclass(frozen=True)
class KafkaStatus:
    nodes: tuple[NodeStatus, ...]
    bootstrap_servers: str

    @property
    def running(self) -> bool:
        """Every node is up."""
        return all(node.running for node in self.nodes)

    @property
    def any_running(self) -> bool:
        return any(node.running for node in self.nodes)

    # The first node's, for the one-node case and for messages.
    @property
    def pid(self) -> int | None:
        return self.nodes[0].pid

    @property
    def address(self) -> str:
        return self.bootstrap_servers

    @property
    def data_dir(self) -> Path:
        return self.nodes[0].data_dir


@dataclass(frozen=True)
class UpResult:
    status: KafkaStatus
    # The nodes this call started; empty when all were running already.
    started: tuple[int, ...]


@dataclass(frozen=True)
class _Node:
    node_id: int
    port: int
    controller_port: int
    folder: Path

    @property
    def address(self) -> str:
        return f"{_HOST}:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    @property
    def logs_dir(self) -> Path:
        return self.folder / "logs"

    @property
    def properties(self) -> Path:
        return self.folder / "server.properties"

    @property
    def pid_file(self) -> Path:
        return self.folder / "kafka.pid"

    @property
    def console_log(self) -> Path:
        return self.logs_dir / "kafka.out"


class LocalKafka:
    """One local cluster of `brokers` nodes, identified by its work directory."""

    def __init__(
        self,
        *,
        project_root: Path | None = None,
        pom_path: Path | None = None,
        libs_dir: Path | None = None,
        work_dir: Path | None = None,
        brokers: int = 1,
        port: int = 9092,
        controller_port: int = 9093,
        heap: str = "1g",
        stop_with_parent: bool = False,
    ) -> None:
        """Node n (from 1) listens on `port + 2(n-1)` and `controller_port + 2(n-1)`.

        `stop_with_parent` (Linux) makes the kernel stop the nodes when this process dies,
        even by SIGKILL: for test sessions, never for `hub kafka up`, which exits at once."""
        if brokers not in _SIZES:
            raise ValueError(f"a local cluster has 1 or 3 brokers, not {brokers}")
        ports = {port + 2 * i for i in range(brokers)}
        controller_ports = {controller_port + 2 * i for i in range(brokers)}
        if ports & controller_ports:
            raise ValueError("port and controller_port must differ")
        root = (project_root or _CHECKOUT).resolve()
        self._pom = (pom_path or root / "deploy" / "kafka" / "pom.xml").resolve()
        self._libs = (libs_dir or root / ".hub" / "kafka" / "libs").resolve()
        self._work = (work_dir or root / ".hub" / "kafka").resolve()
        self._requested = brokers
        self._port = port
        self._controller_port = controller_port
        self._heap = heap
        self._stop_with_parent = stop_with_parent
        self._java_path: str | None = None
        self._procs: dict[int, subprocess.Popen[bytes]] = {}

    # -- what a client needs -----------------------------------------------------------------

    @property
    def brokers(self) -> int:
        """The cluster's size: as formatted, else as asked for."""
        return int(self._layout().get("brokers", self._requested))

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.address for node in self._nodes())

    @property
    def work_dir(self) -> Path:
        return self._work

    @property
    def ca_file(self) -> Path:
        return self._work / "tls" / "ca.pem"

    @property
    def credentials_dir(self) -> Path:
        return self._work / "credentials"

    def admin_connection(self) -> KafkaConnection:
        """The admin principal's connection: a super user, for set-up and tests."""
        return self.connection(ADMIN)

    def connection(self, principal: str) -> KafkaConnection:
        """`principal`'s connection, with the password stored for it here."""
        password = read_password(self.credentials_dir, principal)
        if password is None:
            raise LocalKafkaError(
                f"no local password for {principal}: run `hub kafka credentials {principal}`",
                reason=Reason.NO_CREDENTIALS,
            )
        return KafkaConnection(
            self.bootstrap_servers, username=principal, password=password, ca_file=self.ca_file
        )

    # -- life cycle --------------------------------------------------------------------------

    def status(self) -> KafkaStatus:
        self._reap()
        nodes = tuple(
            NodeStatus(
                node_id=node.node_id,
                address=node.address,
                controller_address=f"{_HOST}:{node.controller_port}",
                pid=self._node_pid(node),
                data_dir=node.data_dir,
            )
            for node in self._nodes()
        )
        return KafkaStatus(nodes, self.bootstrap_servers)

    def up(self, timeout: float = 90.0) -> UpResult:
        """Start whichever node is down (all of them the first time); then report."""
        with self._locked():
            self._reap()
            down = [node for node in self._nodes() if self._node_pid(node) is None]
            if down:
                self._start(down, timeout)
            return UpResult(self.status(), tuple(node.node_id for node in down))

    def start(self, timeout: float = 90.0) -> KafkaStatus:
        """Start the cluster and return once every node answers metadata requests."""
        with self._locked():
            running = [n for n in self._nodes() if self._node_pid(n) is not None]
            if running:
                raise LocalKafkaError(
                    f"kafka is running already at {running[0].address} "
                    f"(pid {self._node_pid(running[0])})"
                )
            self._start(self._nodes(), timeout)
            return self.status()

    def stop(self, timeout: float = 30.0) -> int | None:
        """Stop every node: SIGTERM, SIGKILL after `timeout`. The first pid stopped, or None."""
        if not self._work.exists():
            return None
        with self._locked():
            pids = [pid for node in self._nodes() if (pid := self._node_pid(node)) is not None]
            for pid in pids:
                _signal(pid, signal.SIGTERM)
            for pid in pids:
                if not self._wait_gone(pid, timeout):
                    _signal(pid, signal.SIGKILL)
                    self._wait_gone(pid, _KILL_WAIT_S)
            for node in self._nodes():
                node.pid_file.unlink(missing_ok=True)
            # Also the children that died before (a node SIGKILLed by a test): collected.
            self._reap()
            return pids[0] if pids else None

    def format(self) -> bool:
        """Give the nodes their cluster id and admin, only once. True when this call did it."""
        with self._locked():
            return self._format()

    def ensure_jars(self) -> None:
        """Have Maven copy the broker's jars into `libs_dir`, unless they are there for this pom."""
        self._libs.parent.mkdir(parents=True, exist_ok=True)
        with _locked(self._libs.parent / f"{self._libs.name}.lock"):
            digest = hashlib.sha256(_require_file(self._pom).read_bytes()).hexdigest()
            if _read_text(self._libs / _JARS_MARKER) == digest:
                return
            self._copy_jars(digest)

    # -- layout ------------------------------------------------------------------------------

    def _layout(self) -> dict[str, Any]:
        text = _read_text(self._work / "cluster.json")
        return dict(json.loads(text)) if text else {}

    def _nodes(self) -> list[_Node]:
        count = int(self._layout().get("brokers", self._requested))
        return [
            _Node(
                node_id=i + 1,
                port=self._port + 2 * i,
                controller_port=self._controller_port + 2 * i,
                folder=self._work / f"node-{i + 1}",
            )
            for i in range(count)
        ]

    # -- starting ----------------------------------------------------------------------------

    def _start(self, nodes: list[_Node], timeout: float) -> None:
        java = self._java()
        self._check_size()
        self._check_ports_free(nodes)
        # Also for formatted data directories: the pom may have changed since.
        self.ensure_jars()
        self._format()
        ensure_pki(self._work / "tls")
        for node in self._nodes():
            self._write_properties(node)
        procs: list[tuple[_Node, subprocess.Popen[bytes]]] = []
        try:
            # All at once: a quorum of three elects no leader while its nodes wait for each other.
            procs = [(node, self._spawn(java, node)) for node in nodes]
            self._wait_ready(procs, timeout)
        except BaseException:
            # Also on Ctrl-C: a half-started node must not outlive the command that started it.
            for node, proc in procs:
                self._terminate(proc.pid, _KILL_WAIT_S)
                node.pid_file.unlink(missing_ok=True)
            raise

    def _check_size(self) -> None:
        formatted = self._layout().get("brokers")
        if formatted is not None and formatted != self._requested:
            raise LocalKafkaError(
                f"the local cluster in {self._work} was made with {formatted} broker(s), not "
                f"{self._requested}: ask for {formatted}, or `hub kafka down` and remove that "
                "folder to make a new one"
            )

    def _format(self) -> bool:
        nodes = self._nodes()
        if all((node.data_dir / "meta.properties").exists() for node in nodes):
            return False
        java = self._java()
        self.ensure_jars()
        self._check_size()
        layout = self._layout() or {"brokers": self._requested, "cluster_id": _cluster_id()}
        self._work.mkdir(parents=True, exist_ok=True)
        _write_atomically(self._work / "cluster.json", json.dumps(layout) + "\n")
        admin = read_password(self.credentials_dir, ADMIN) or store_password(
            self.credentials_dir, ADMIN, SecretStr(secrets.token_urlsafe(24))
        )
        ensure_pki(self._work / "tls")
        tool = [*self._java_command(java, _TOOL_HEAP, nodes[0]), "kafka.tools.StorageTool"]
        scram = f"SCRAM-SHA-512=[name={ADMIN},password={admin.get_secret_value()}]"
        commands: list[list[str]] = []
        for node in nodes:
            if (node.data_dir / "meta.properties").exists():
                continue
            self._write_properties(node)
            args = ["format", "-t", layout["cluster_id"], "-c", str(node.properties)]
            standalone = ["--standalone"] if len(nodes) == 1 else []
            commands.append([*tool, *args, *standalone, "--add-scram", scram])
        # In parallel: each is a JVM start of a second or two.
        with ThreadPoolExecutor(max_workers=len(commands)) as pool:
            for result in pool.map(lambda c: _run_tool(c, doing="formatting a node"), commands):
                del result
        return True

    def _copy_jars(self, digest: str) -> None:
        mvn = _require_tool("mvn", "install Maven 3")
        # Copied aside and renamed into place, so an interrupted copy is never taken for jars.
        staging = Path(tempfile.mkdtemp(prefix=f".{self._libs.name}-", dir=self._libs.parent))
        staging.chmod(0o755)  # mkdtemp's 0700 would hide the jars from the other users of a host
        try:
            _run_tool(
                [
                    *(mvn, "-q", "-B", "-f", str(self._pom), "dependency:copy-dependencies"),
                    *("-DincludeScope=runtime", f"-DoutputDirectory={staging}"),
                ],
                doing="copying the broker's jars with Maven",
                timeout=_MVN_TIMEOUT_S,
                explain=_first_error,
            )
            (staging / _JARS_MARKER).write_text(digest)
            _swap_dir(staging, self._libs)
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _write_properties(self, node: _Node) -> None:
        template = _require_file(self._pom.parent / "server.properties.template").read_text()
        nodes = self._nodes()
        if len(nodes) == 1:
            quorum = f"controller.quorum.bootstrap.servers={_HOST}:{node.controller_port}"
        else:
            voters = ",".join(f"{n.node_id}@{_HOST}:{n.controller_port}" for n in nodes)
            quorum = f"controller.quorum.voters={voters}"
        password = read_password(self.credentials_dir, ADMIN)
        if password is None:
            raise LocalKafkaError(f"the admin password is missing from {self.credentials_dir}")
        text = string.Template(template).substitute(
            node_id=node.node_id,
            quorum=quorum,
            port=node.port,
            controller_port=node.controller_port,
            data_dir=node.data_dir,
            tls_dir=self._work / "tls",
            admin_user=ADMIN,
            admin_password=password.get_secret_value(),
            broker_principal=BROKER_PRINCIPAL,
            replicas=len(nodes),
            min_isr=2 if len(nodes) >= 3 else 1,
        )
        node.folder.mkdir(parents=True, exist_ok=True)
        # It holds the admin's password.
        _write_atomically(node.properties, text, mode=0o600)

    def _java_command(self, java: str, heap: str, node: _Node) -> list[str]:
        log4j = _require_file(self._pom.parent / "log4j2.properties")
        return [
            *(java, f"-Xmx{heap}", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError"),
            *("-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={log4j}"),
            *(f"-Dkafka.logs.dir={node.logs_dir}", "-cp", f"{self._libs}{os.sep}*"),
        ]

    def _spawn(self, java: str, node: _Node) -> subprocess.Popen[bytes]:
        node.logs_dir.mkdir(parents=True, exist_ok=True)
        command = [*self._java_command(java, self._heap, node), _MAIN_CLASS, str(node.properties)]
        with node.console_log.open("wb") as console:
            # Its own session: the terminal's Ctrl-C after `hub kafka up` must not reach it.
            proc = subprocess.Popen(  # noqa: S603 -- our own java command line, no shell
                command,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                cwd=node.folder,
                start_new_session=True,
                preexec_fn=die_with_parent if self._stop_with_parent else None,
            )
        _write_atomically(node.pid_file, f"{proc.pid}\n")
        self._procs[proc.pid] = proc
        return proc

    def _wait_ready(
        self, procs: list[tuple[_Node, subprocess.Popen[bytes]]], timeout: float
    ) -> None:
        admin = self.admin_connection()

        async def all_ready() -> None:
            await asyncio.gather(*(self._ready_or_exited(admin, n, p) for n, p in procs))

        try:
            _run_coroutine(asyncio.wait_for(all_ready(), timeout))
        except TimeoutError:
            waiting = [n for n, _ in procs]
            raise LocalKafkaError(
                f"kafka did not answer at {', '.join(n.address for n in waiting)} within "
                f"{timeout:g} s: {self._log_tail(waiting[0])}"
            ) from None

    async def _ready_or_exited(
        self, admin: KafkaConnection, node: _Node, proc: subprocess.Popen[bytes]
    ) -> None:
        # Asked of this node alone: the cluster answering through another proves nothing.
        alone = KafkaConnection(
            node.address, username=admin.username, password=admin.password, ca_file=self.ca_file
        )
        while not await _ready_once(alone):
            if proc.poll() is not None:
                raise LocalKafkaError(
                    f"kafka node {node.node_id} exited with status {proc.returncode} while "
                    f"starting: {self._log_tail(node)}"
                )
            await asyncio.sleep(_POLL_S)
        if proc.poll() is not None:
            # Something else answered on the port in the meantime.
            raise LocalKafkaError(f"kafka exited while starting: {self._log_tail(node)}")

    def _check_ports_free(self, nodes: list[_Node]) -> None:
        for node in nodes:
            for what, port in (("port", node.port), ("controller port", node.controller_port)):
                if not _can_bind(port):
                    raise LocalKafkaError(
                        f"{what} {port} on {_HOST} is taken by another program, not by node "
                        f"{node.node_id} of {self._work}; stop that program or choose another "
                        f"{what}",
                        reason=Reason.PORT_IN_USE,
                    )

    def _java(self) -> str:
        if self._java_path is None:
            java = _require_tool("java", f"install Java {_MIN_JAVA} or newer")
            major = _java_major(java)
            if major < _MIN_JAVA:
                raise LocalKafkaError(
                    f"Kafka needs Java {_MIN_JAVA} or newer, but {java} is Java {major}",
                    reason=Reason.TOOL_UNAVAILABLE,
                )
            self._java_path = java
        return self._java_path

    # -- stopping and identifying ------------------------------------------------------------

    def _terminate(self, pid: int, timeout: float) -> None:
        _signal(pid, signal.SIGTERM)
        if not self._wait_gone(pid, timeout):
            _signal(pid, signal.SIGKILL)
            self._wait_gone(pid, _KILL_WAIT_S)

    def _wait_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._alive(pid):
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.1)
        return True

    def _alive(self, pid: int) -> bool:
        proc = self._procs.get(pid)
        if proc is not None:
            # Our own child: poll() also reaps it, or it would linger as a zombie.
            return proc.poll() is None
        return any(_is_broker(pid, node.properties) for node in self._nodes())

    def _node_pid(self, node: _Node) -> int | None:
        pid = _read_pid(node.pid_file)
        if pid is not None and _is_broker(pid, node.properties):
            proc = self._procs.get(pid)
            if proc is None or proc.poll() is None:
                return pid
            return None
        # Without a pid file (`hub kafka up` killed right after the start, a person tidying up)
        # the node still names its properties file on its command line.
        return next(_brokers_using(node.properties), None)

    def _reap(self) -> None:
        # Children that died (a node SIGKILLed by a test) are collected, so none is left a
        # zombie or kept as if it ran.
        for pid, proc in list(self._procs.items()):
            if proc.poll() is not None:
                del self._procs[pid]

    def _log_tail(self, node: _Node) -> str:
        summary = _last_lines(_read_text(node.console_log) or "")
        return f"{summary} (logs: {node.console_log}, {node.logs_dir / 'server.log'})"

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return _locked(self._work / "kafka.lock")


def _cluster_id() -> str:
    # Kafka's Uuid in its base64url form; one starting with "-" would read as an option.
    while True:
        text = base64.urlsafe_b64encode(os.urandom(16)).decode().rstrip("=")
        if not text.startswith("-"):
            return text


async def wait_until_ready(
    connection: KafkaConnection,
    timeout: float,  # noqa: ASYNC109 -- turned into our own error, with the address in it
) -> None:
    """Return once Kafka takes `connection` and answers its metadata request.

    Raises `TransientError` (reason `timeout`) when it does not within `timeout` seconds.
    """
    bootstrap_servers = connection.bootstrap_servers
    try:
        async with asyncio.timeout(timeout):
            while not await _ready_once(connection):  # noqa: ASYNC110 -- polls another process: no event to wait on
                await asyncio.sleep(_POLL_S)
    except TimeoutError as exc:
        raise TransientError(
            f"Kafka at {bootstrap_servers} was not ready within {timeout:g} s",
            reason=Reason.TIMEOUT,
        ) from exc


async def _ready_once(connection: KafkaConnection) -> bool:
    # A closed port is checked first: aiokafka would log an error for every refused connection.
    if not await _any_port_answers(connection.bootstrap_servers):
        return False
    try:
        await list_topics(connection, timeout=_PROBE_TIMEOUT_S)
    except TransientError:
        return False
    return True


async def _any_port_answers(bootstrap_servers: str) -> bool:
    for server in bootstrap_servers.split(","):
        host, _, port = server.strip().rpartition(":")
        try:
            async with asyncio.timeout(_PROBE_TIMEOUT_S):
                _, writer = await asyncio.open_connection(host.strip("[]"), int(port))
                writer.close()
                await writer.wait_closed()
        except (OSError, TimeoutError):
            continue
        return True
    return False


def _run_coroutine(coroutine: Coroutine[Any, Any, T]) -> T:
    # A loop of our own, not set as the thread's current one: a test session's loop stays intact.
    with asyncio.Runner(loop_factory=asyncio.new_event_loop) as runner:
        return runner.run(coroutine)


def _run_tool(
    command: list[str],
    *,
    doing: str,
    timeout: float = _TOOL_TIMEOUT_S,
    explain: Callable[[str], str] | None = None,
) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(  # noqa: S603 -- java and mvn, found on PATH, no shell
            command,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise LocalKafkaError(f"{doing} took longer than {timeout:g} s") from exc
    except OSError as exc:
        raise LocalKafkaError(f"{doing} failed: {exc}") from exc
    if result.returncode != 0:
        output = _ANSI.sub("", result.stdout + result.stderr)
        reason = (explain or _last_lines)(output)
        raise LocalKafkaError(f"{doing} failed (exit status {result.returncode}): {reason}")
    return result


def _java_major(java: str) -> int:
    # `java -version` writes to stderr; Java 8 and older call themselves "1.8".
    output = _run_tool([java, "-version"], doing=f"asking {java} for its version").stderr
    match = _JAVA_VERSION.search(output)
    if match is None:
        raise LocalKafkaError(
            f"cannot tell the version of {java}: {_last_lines(output)}",
            reason=Reason.TOOL_UNAVAILABLE,
        )
    return int(match.group(1))


def _require_tool(name: str, advice: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise LocalKafkaError(f"{name} not found on PATH; {advice}", reason=Reason.TOOL_UNAVAILABLE)
    return found


def _require_file(path: Path) -> Path:
    if not path.is_file():
        raise LocalKafkaError(f"{path} is missing: `hub kafka` runs from a justishub checkout")
    return path


def _last_lines(output: str) -> str:
    """The last few lines that are not stack frames, on one line."""
    lines = [line.strip() for line in output.splitlines() if line.strip() and line[0] not in " \t"]
    return " | ".join(line[:300] for line in lines[-_TAIL_LINES:]) or "no output"


def _first_error(output: str) -> str:
    # Maven states the cause in its first [ERROR] line; the following ones are help links.
    errors = [line for line in output.splitlines() if line.startswith("[ERROR]")]
    return errors[0][:500] if errors else _last_lines(output)


def _can_bind(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the broker itself does: a socket of the last run in TIME_WAIT is no conflict.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((_HOST, port))
        except OSError:
            return False
    return True


def _brokers_using(properties: Path) -> Iterator[int]:
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _is_broker(int(entry.name), properties):
            yield int(entry.name)


def _is_broker(pid: int, properties: Path) -> bool:
    try:
        args = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    # A zombie has an empty command line, and so counts as gone.
    return _MAIN_CLASS.encode() in args and os.fsencode(properties) in args


def _signal(pid: int, signum: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signum)


def _read_pid(path: Path) -> int | None:
    text = _read_text(path)
    return int(text) if text is not None and text.isdigit() else None


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None


def _write_atomically(path: Path, text: str, *, mode: int = 0o644) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.unlink(missing_ok=True)
    # Created with its final mode: a secret is never readable by others, not even for a moment.
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    partial.replace(path)


def _swap_dir(new: Path, target: Path) -> None:
    if target.exists():
        old = target.with_name(f".{target.name}-old-{os.getpid()}")
        target.rename(old)
        new.rename(target)
        shutil.rmtree(old, ignore_errors=True)
    else:
        new.rename(target)


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        # Released when the file is closed, also when this process dies.
        yield
