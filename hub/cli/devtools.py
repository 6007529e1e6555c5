"""The one place the runtime reaches for the development tools (the `hubdev` package beside
`hub`: the benchmark, the samples, the local cluster), and only when a command needs them.

A checkout's `make install` has them; the image does not, and its `hub` then offers the runtime's
commands alone.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import typer

from hub.cli.app import CliError
from hub.settings import HubSettings

__all__ = ["demo_runner", "register_dev_commands"]


def register_dev_commands(app: typer.Typer) -> bool:
    """Add `hub bench`, `hub demo` and `hub kafka up | down | status` when the development
    tools are installed; False when they are not."""
    try:
        from hubdev.cli import register
    except ModuleNotFoundError as exc:
        if exc.name != "hubdev":
            raise
        return False
    register(app)
    return True


def demo_runner() -> Callable[[HubSettings], Awaitable[None]]:
    """What `hub run --demo` runs once the hub is up: publish the samples, print each outcome."""
    try:
        from hubdev.cli.demo import show_demo
    except ModuleNotFoundError as exc:
        if exc.name != "hubdev":
            raise
        raise CliError(
            "--demo needs the development tools (the hubdev package a checkout's `make install` "
            "installs); this installation has the runtime only"
        ) from None
    return show_demo
