"""Serving the ASGI app with uvicorn inside the hub's own event loop, beside the stages.

The socket is bound here, before uvicorn starts, so that a port in use is one clear error
(`port_in_use`) instead of uvicorn's exit; and uvicorn is kept away from the process's signal
handlers, which belong to `hub run`.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator, Generator
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from schemas.errors import PermanentError, Reason

__all__ = ["Serving", "serving"]

_STARTUP_POLL_S = 0.02
_GRACEFUL_SHUTDOWN_S = 5


@dataclass(frozen=True, slots=True)
class Serving:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # `hub run` owns SIGINT and SIGTERM and stops the server itself.
        yield


@contextlib.asynccontextmanager
async def serving(app: ASGIApp, *, host: str, port: int) -> AsyncIterator[Serving]:
    """Serve `app` on `host:port` (0: any free port) until the block ends."""
    sock = _bind(host, port)
    config = uvicorn.Config(
        app,
        log_config=None,  # the hub's logging is configured once, in `hub.logs`
        access_log=False,
        lifespan="off",
        http="h11",
        ws="none",
        server_header=False,
        timeout_graceful_shutdown=_GRACEFUL_SHUTDOWN_S,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # raises what stopped it
                raise PermanentError("the web server stopped at start-up")
            await asyncio.sleep(_STARTUP_POLL_S)
        yield Serving(host, sock.getsockname()[1])
    finally:
        server.should_exit = True
        await task
        sock.close()


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PermanentError(
            f"cannot listen on {host}:{port}: {exc.strerror}", reason=Reason.PORT_IN_USE
        ) from exc
    sock.listen(128)
    sock.setblocking(False)
    return sock
