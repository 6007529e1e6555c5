"""A real single-node Apache Kafka (KRaft) for development and tests, run from Maven Central's jars.

The work directory (default `.hub/kafka` in the checkout) holds one broker:

    data/               the broker's log.dirs, formatted once (data/meta.properties)
    logs/server.log     the broker's own log (deploy/kafka/log4j2.properties)
    logs/kafka.out      the JVM's console: errors only, and whatever the JVM itself says
    server.properties   rendered from deploy/kafka/server.properties.template at every start
    kafka.pid           the running broker's pid
    kafka.lock          held while a start or stop is under way

The jars live in `libs_dir` (default `.hub/kafka/libs`), shared by the dev broker and the test
suite, and are copied again by Maven only when the pom changes. A recorded pid is trusted only
while that process's command line names `kafka.Kafka` and this work directory's properties file,
so a stale pid file never gets someone else's process signalled; without a pid file, the broker
is found by that command line. Linux: this reads /proc.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import hashlib
import os
import re
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from hub.kafka.admin import list_topics
from schemas.errors import HubError, Reason, TransientError

__all__ = ["KafkaStatus", "LocalKafka", "LocalKafkaError", "UpResult", "wait_until_ready"]

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
_PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


class LocalKafkaError(HubError):
    """The local broker could not be set up, started or stopped. The text says what to do."""

    reason = Reason.BROKER_START_FAILED


@dataclass(frozen=True)
class KafkaStatus:
    running: bool
    pid: int | None
    address: str
    data_dir: Path


@dataclass(frozen=True)
class UpResult:
    status: KafkaStatus
    # False when the broker was running already and `up` left it alone.
    started: bool


class LocalKafka:
    """One single-node broker, identified by its work directory."""

    def __init__(
        self,
        *,
        project_root: Path | None = None,
        pom_path: Path | None = None,
        libs_dir: Path | None = None,
        work_dir: Path | None = None,
        port: int = 9092,
        controller_port: int = 9093,
        heap: str = "1g",
        stop_with_parent: bool = False,
    ) -> None:
        """`stop_with_parent` (Linux) makes the kernel stop the broker when this process dies,
        even by SIGKILL: for test sessions, never for `hub kafka up`, which exits at once."""
        if port == controller_port:
            raise ValueError("port and controller_port must differ")
        root = (project_root or _CHECKOUT).resolve()
        self._pom = (pom_path or root / "deploy" / "kafka" / "pom.xml").resolve()
        self._libs = (libs_dir or root / ".hub" / "kafka" / "libs").resolve()
        self._work = (work_dir or root / ".hub" / "kafka").resolve()
        self._port = port
        self._controller_port = controller_port
        self._heap = heap
        self._stop_with_parent = stop_with_parent
        self._java_path: str | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return f"{_HOST}:{self._port}"

    @property
    def work_dir(self) -> Path:
        return self._work

    @property
    def data_dir(self) -> Path:
        return self._work / "data"

    @property
    def logs_dir(self) -> Path:
        return self._work / "logs"

    def status(self) -> KafkaStatus:
        pid = self._our_pid()
        return KafkaStatus(
            running=pid is not None, pid=pid, address=self.bootstrap_servers, data_dir=self.data_dir
        )

    def up(self, timeout: float = 90.0) -> UpResult:
        """Start the broker unless it is running already; then only report it."""
        with self._locked():
            current = self.status()
            if current.running:
                return UpResult(current, started=False)
            return UpResult(self._start(timeout), started=True)

    def start(self, timeout: float = 90.0) -> KafkaStatus:
        """Start the broker and return once it answers metadata requests."""
        with self._locked():
            if (pid := self._our_pid()) is not None:
                raise LocalKafkaError(f"kafka is running already at {self._where(pid)}")
            return self._start(timeout)

    def stop(self, timeout: float = 30.0) -> int | None:
        """Stop the broker: SIGTERM, SIGKILL after `timeout`. Its pid, None when not running."""
        if not self._work.exists():
            return None
        with self._locked():
            pid = self._our_pid()
            if pid is not None:
                self._terminate(pid, timeout)
            self._pid_file.unlink(missing_ok=True)
            return pid

    def format(self) -> bool:
        """Give the data directory a cluster id, only once. True when this call formatted it."""
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

    # -- starting ---------------------------------------------------------------------------

    def _start(self, timeout: float) -> KafkaStatus:
        java = self._java()
        self._check_ports_free()
        # Also for a formatted data directory: the pom may have changed since.
        self.ensure_jars()
        self._format()
        self._write_properties()
        proc = self._spawn(java)
        try:
            self._wait_ready(proc, timeout)
        except BaseException:
            # Also on Ctrl-C: a half-started broker must not outlive the command that started it.
            self._terminate(proc.pid, _KILL_WAIT_S)
            self._pid_file.unlink(missing_ok=True)
            raise
        return self.status()

    def _format(self) -> bool:
        if (self.data_dir / "meta.properties").exists():
            return False
        java = self._java()
        self.ensure_jars()
        self._write_properties()
        tool = [*self._java_command(java, _TOOL_HEAP), "kafka.tools.StorageTool"]
        cluster_id = _run_tool([*tool, "random-uuid"], doing="making a cluster id").stdout.strip()
        format_args = ["format", "--standalone", "-t", cluster_id, "-c", str(self._properties)]
        _run_tool([*tool, *format_args], doing=f"formatting {self.data_dir}")
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

    def _write_properties(self) -> None:
        template = _require_file(self._pom.parent / "server.properties.template").read_text()
        text = string.Template(template).substitute(
            port=self._port, controller_port=self._controller_port, data_dir=self.data_dir
        )
        self._work.mkdir(parents=True, exist_ok=True)
        _write_atomically(self._properties, text)

    def _java_command(self, java: str, heap: str) -> list[str]:
        log4j = _require_file(self._pom.parent / "log4j2.properties")
        return [
            *(java, f"-Xmx{heap}", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError"),
            *("-Djava.awt.headless=true", f"-Dlog4j2.configurationFile={log4j}"),
            *(f"-Dkafka.logs.dir={self.logs_dir}", "-cp", f"{self._libs}{os.sep}*"),
        ]

    def _spawn(self, java: str) -> subprocess.Popen[bytes]:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        command = [*self._java_command(java, self._heap), _MAIN_CLASS, str(self._properties)]
        with self._console_log.open("wb") as console:
            # Its own session: the terminal's Ctrl-C after `hub kafka up` must not reach it.
            proc = subprocess.Popen(  # noqa: S603 -- our own java command line, no shell
                command,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                cwd=self._work,
                start_new_session=True,
                # Only a prctl call between fork and exec, which is safe even with threads around.
                preexec_fn=_die_with_parent if self._stop_with_parent else None,
            )
        _write_atomically(self._pid_file, f"{proc.pid}\n")
        self._proc = proc
        return proc

    def _wait_ready(self, proc: subprocess.Popen[bytes], timeout: float) -> None:
        try:
            _run_coroutine(asyncio.wait_for(self._ready_or_exited(proc), timeout))
        except TimeoutError:
            raise LocalKafkaError(
                f"kafka did not answer at {self.bootstrap_servers} within {timeout:g} s: "
                f"{self._log_tail()}"
            ) from None

    async def _ready_or_exited(self, proc: subprocess.Popen[bytes]) -> None:
        while not await _ready_once(self.bootstrap_servers):
            if proc.poll() is not None:
                raise LocalKafkaError(
                    f"kafka exited with status {proc.returncode} while starting: {self._log_tail()}"
                )
            await asyncio.sleep(_POLL_S)
        if proc.poll() is not None:
            # Something else answered on the port in the meantime.
            raise LocalKafkaError(f"kafka exited while starting: {self._log_tail()}")

    def _check_ports_free(self) -> None:
        for what, port in (("port", self._port), ("controller port", self._controller_port)):
            if not _can_bind(port):
                raise LocalKafkaError(
                    f"{what} {port} on {_HOST} is taken by another program, not by the broker of "
                    f"{self._work}; stop that program or choose another {what}",
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

    # -- stopping and identifying ----------------------------------------------------------

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
        if self._proc is not None and self._proc.pid == pid:
            # Our own child: poll() also reaps it, or it would linger as a zombie.
            return self._proc.poll() is None
        return _is_broker(pid, self._properties)

    def _our_pid(self) -> int | None:
        pid = _read_pid(self._pid_file)
        if pid is not None and _is_broker(pid, self._properties):
            return pid
        # Without a pid file (`hub kafka up` killed right after the start, a person tidying up)
        # the broker still names our properties file on its command line.
        return next(_brokers_using(self._properties), None)

    def _log_tail(self) -> str:
        summary = _last_lines(_read_text(self._console_log) or "")
        return f"{summary} (logs: {self._console_log}, {self.logs_dir / 'server.log'})"

    def _where(self, pid: int) -> str:
        return f"{self.bootstrap_servers} (pid {pid})"

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return _locked(self._work / "kafka.lock")

    @property
    def _properties(self) -> Path:
        return self._work / "server.properties"

    @property
    def _pid_file(self) -> Path:
        return self._work / "kafka.pid"

    @property
    def _console_log(self) -> Path:
        return self.logs_dir / "kafka.out"


async def wait_until_ready(
    bootstrap_servers: str,
    timeout: float,  # noqa: ASYNC109 -- turned into our own error, with the address in it
) -> None:
    """Return once Kafka at `bootstrap_servers` takes connections and answers a metadata request.

    Raises `TransientError` (reason `timeout`) when it does not within `timeout` seconds.
    """
    try:
        async with asyncio.timeout(timeout):
            while not await _ready_once(bootstrap_servers):  # noqa: ASYNC110 -- polls another process: no event to wait on
                await asyncio.sleep(_POLL_S)
    except TimeoutError as exc:
        raise TransientError(
            f"Kafka at {bootstrap_servers} was not ready within {timeout:g} s",
            reason=Reason.TIMEOUT,
        ) from exc


async def _ready_once(bootstrap_servers: str) -> bool:
    # A closed port is checked first: aiokafka would log an error for every refused connection.
    if not await _any_port_answers(bootstrap_servers):
        return False
    try:
        await list_topics(bootstrap_servers, timeout=_PROBE_TIMEOUT_S)
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


def _die_with_parent() -> None:
    # Runs in the child between fork and exec; the kernel then sends SIGTERM when the parent dies.
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _read_pid(path: Path) -> int | None:
    text = _read_text(path)
    return int(text) if text is not None and text.isdigit() else None


def _read_text(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return None


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
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
