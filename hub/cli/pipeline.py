"""`hub run`, `hub publish`, `hub tail`: parse, hand over, print."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from hub import heap
from hub.bootstrap import Hub, build_console, build_hub, build_web_app, translation_context
from hub.cli.app import CliError, load_settings, user_errors
from hub.cli.devtools import demo_runner
from hub.cli.keys import JwksOption, trusted_keys
from hub.kafka.producer import KafkaRecordSink
from hub.kafka.reader import read_topic
from hub.logs import configure_logging
from hub.pipeline.records import InboundRecord
from hub.reference._csv import ReferenceError
from hub.routing.policy import PolicyError
from hub.settings import (
    DEV_CONSOLE_PASSWORD,
    DEV_CONSOLE_USER,
    DEV_INGRESS_API_KEY,
    Environment,
    HubSettings,
)
from hub.sources import Source, sources
from hub.tools.publish import expand_paths, publish_documents
from hub.tools.tail import Verdict, as_json, as_text, signature_verdict
from hub.web.server import serving

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    app.command("run")(run)
    app.command("publish")(publish)
    app.command("tail")(tail)


@user_errors
def run(
    demo: Annotated[
        bool,
        typer.Option("--demo", help="Once started, publish the samples and show each outcome."),
    ] = False,
) -> None:
    """Run every stage of the hub in this process until Ctrl-C (or SIGTERM)."""
    show_demo = demo_runner() if demo else None
    settings = load_settings("hub")
    # At a terminal, the terminal shows what needs a person and the file has everything.
    log_file = settings.data_dir / "logs" / "hub.log" if _at_terminal(settings) else None
    configure_logging(
        log_format=settings.effective_log_format, level=settings.log_level, log_file=log_file
    )
    if log_file is not None:
        typer.echo(f"hub: the full log is in {log_file}; here: the account, warnings, errors")
    heap.tune()
    asyncio.run(_serve(settings, show_demo=show_demo))


async def _serve(
    settings: HubSettings, *, show_demo: Callable[[HubSettings], Awaitable[None]] | None
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        hub = build_hub(settings)
    except (PolicyError, ReferenceError) as exc:
        # A policy or register the hub cannot route by: refuse to start, in one line.
        raise CliError(str(exc)) from None
    async with hub, _web(settings, hub):
        typer.echo(
            f"hub: running against Kafka at {settings.kafka.bootstrap_servers} as "
            f"{settings.kafka_connection().principal}; Ctrl-C stops"
        )
        heap.settle()
        if show_demo is not None:
            await show_demo(settings)
        await stop.wait()
    if hub.abandoned:
        _exit_abandoning(hub.abandoned)
    typer.echo("hub: stopped")
    if hub.lingering:
        # Nothing was lost, but the event loop's clean-up would wait for them without end.
        _exit_now(0)


def _exit_abandoning(abandoned: list[str]) -> NoReturn:
    """End the process now: the clients left behind would keep the event loop's own clean-up
    waiting for the broker as well."""
    typer.echo(
        f"hub: stopped without the broker ({', '.join(abandoned)} gave up waiting); "
        "inputs not committed are processed again at the next start",
        err=True,
    )
    _exit_now(1)


def _exit_now(code: int) -> NoReturn:
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


@contextlib.asynccontextmanager
async def _web(settings: HubSettings, hub: Hub) -> AsyncIterator[None]:
    """The HTTP ingress, health checks and operations console, in this process, while the hub
    runs."""
    web = settings.web
    if not web.enabled:
        yield
        return
    console = build_console(hub) if settings.console.enabled else None
    app = build_web_app(settings, sink=KafkaRecordSink(hub.producer), console=console)
    async with serving(app, host=web.host, port=web.port) as server:
        names = "|".join(sources(settings))
        typer.echo(f"hub: HTTP ingress at {server.url}/ingest/{{{names}}} (header X-API-Key)")
        if settings.env is not Environment.PRODUCTION:
            typer.echo(f"hub: dev API key for every source without one: {DEV_INGRESS_API_KEY}")
        if console is not None:
            _print_console(settings, server.url)
        yield


def _print_console(settings: HubSettings, url: str) -> None:
    typer.echo(f"hub: operations console at {url}/")
    if settings.dev_console_login:
        typer.echo(f"hub: dev console login: {DEV_CONSOLE_USER} / {DEV_CONSOLE_PASSWORD}")
    elif not settings.console.users:
        typer.echo("hub: no console users (HUB_CONSOLE__USERS): nobody can log in", err=True)


@user_errors
def publish(
    files: Annotated[list[Path], typer.Argument(help="Documents, or folders of them.")],
    source: Annotated[
        str, typer.Option("--source", help="Source system: koda, court or police.")
    ] = "koda",
) -> None:
    """Put raw source documents on the source's inbound topic (a folder: all its documents)."""
    settings = load_settings()
    src = _source(settings, source)
    paths = expand_paths(files, src.file_suffix)
    if not paths:
        raise CliError(f"no {src.file_suffix} documents in {', '.join(map(str, files))}")
    docs = [p.read_bytes() for p in paths]
    context = translation_context(settings)
    positions = asyncio.run(
        publish_documents(settings, src, docs, context, content_type=src.content_type)
    )
    for path, position in zip(paths, positions, strict=True):
        typer.echo(f"{path} → {position}")


@user_errors
def tail(
    topic: Annotated[str, typer.Argument(help="Topic to read, from the beginning.")],
    max_records: Annotated[int | None, typer.Option("--max", min=1, help="Stop after N.")] = None,
    as_json_lines: Annotated[bool, typer.Option("--json", help="One JSON object a line.")] = False,
    check: Annotated[
        bool, typer.Option("--verify", help="Verify each record's signature; show the key.")
    ] = False,
    jwks_file: JwksOption = None,
    principal: Annotated[
        str,
        typer.Option(
            "--as",
            help="Read as this principal (an agency's: recipient.nav); default the operator's.",
        ),
    ] = "operator",
) -> None:
    """Print what is on a topic, decoded, from the beginning to its current end."""
    settings = load_settings(principal)
    keys = trusted_keys(jwks_file) if check else None

    async def show() -> int:
        count = 0
        async for record in read_topic(settings.kafka_connection(), topic, max_records=max_records):
            verdict = signature_verdict(record, keys) if keys is not None else None
            typer.echo(_shown(record, verdict, as_json_lines=as_json_lines))
            count += 1
        return count

    count = asyncio.run(show())
    if not as_json_lines:
        typer.echo(f"({count} record{'s' if count != 1 else ''} on {topic})", err=True)


def _shown(record: InboundRecord, verdict: Verdict | None, *, as_json_lines: bool) -> str:
    if as_json_lines:
        extra = {"signature": verdict.as_json()} if verdict else {}
        return as_json(record, **extra)
    return as_text(record, *([verdict.line()] if verdict else []))


def _at_terminal(settings: HubSettings) -> bool:
    # Production logs JSON to stderr for its collector; so does a test or a service manager.
    return settings.effective_log_format == "console"


def _source(settings: HubSettings, name: str) -> Source:
    known = sources(settings)
    if name not in known:
        raise CliError(f"unknown source {name!r}; known: {', '.join(sorted(known))}")
    return known[name]
