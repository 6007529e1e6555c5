"""Tripwires that prove a parser reached for nothing: a file that records being opened, and a
TCP listener that records every connection. Each has a positive control in the gate's tests.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FileTripwire", "TcpTripwire", "file_tripwire", "tcp_tripwire"]


@dataclass
class FileTripwire:
    """A named pipe: opening it for reading blocks until we open it for writing, which we can
    only do (non-blocking) while a reader has it open. So every open is seen, from C code too."""

    path: Path
    content: bytes
    opened: threading.Event = field(default_factory=threading.Event)


@dataclass
class TcpTripwire:
    url: str
    connections: list[tuple[str, int]] = field(default_factory=list)


@contextmanager
def file_tripwire(directory: Path, content: bytes) -> Iterator[FileTripwire]:
    wire = FileTripwire(directory / "tripwire.fifo", content)
    os.mkfifo(wire.path)
    stop = threading.Event()
    watcher = threading.Thread(target=_watch_fifo, args=(wire, stop), daemon=True)
    watcher.start()
    try:
        yield wire
    finally:
        stop.set()
        watcher.join(timeout=5)


def _watch_fifo(wire: FileTripwire, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            fd = os.open(wire.path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: nobody has it open for reading
            time.sleep(0.002)
            continue
        wire.opened.set()
        # The reader may close before we write (EPIPE); the watcher must outlive that, or the
        # reader's next open would block for ever.
        with contextlib.suppress(OSError):
            os.write(fd, wire.content)
        os.close(fd)


@contextmanager
def tcp_tripwire() -> Iterator[TcpTripwire]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.05)
    wire = TcpTripwire(f"http://127.0.0.1:{server.getsockname()[1]}/x.dtd")
    stop = threading.Event()
    listener = threading.Thread(target=_listen, args=(server, wire, stop), daemon=True)
    listener.start()
    try:
        yield wire
    finally:
        stop.set()
        listener.join(timeout=5)
        _drain(server, wire)
        server.close()


def _drain(server: socket.socket, wire: TcpTripwire) -> None:
    # A connection still in the backlog counts too.
    server.setblocking(False)
    while True:
        try:
            connection, peer = server.accept()
        except BlockingIOError:
            return
        wire.connections.append(peer[:2])
        connection.close()


def _listen(server: socket.socket, wire: TcpTripwire, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            connection, peer = server.accept()
        except TimeoutError:
            continue
        wire.connections.append(peer[:2])
        connection.close()
