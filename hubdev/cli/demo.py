"""`hub demo` and `hub run --demo`: publish the bundled samples and print where each one went."""

from __future__ import annotations

import asyncio

import typer

from hub.bootstrap import translation_context
from hub.cli.app import load_settings, user_errors
from hub.settings import HubSettings
from hub.sources import sources
from hubdev.demo.run import Journey, run_demo

__all__ = ["register", "show_demo"]


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)


@user_errors
def demo() -> None:
    """Publish the bundled sample documents to a running hub and show where each one went."""
    asyncio.run(show_demo(load_settings()))


async def show_demo(settings: HubSettings) -> None:
    """Publish every source's samples, wait for their outcomes, and print each journey."""
    every_source = list(sources(settings).values())
    _print_journeys(await run_demo(settings, every_source, translation_context(settings)))


def _print_journeys(journeys: list[Journey]) -> None:
    for journey in journeys:
        typer.echo(f"{journey.label}  (in {journey.position})")
        for line in journey.outcomes or ["→ no outcome yet (is the hub running?)"]:
            typer.echo(f"    {line}")
        for stage in sorted(journey.routes):
            for line in journey.routes[stage]:
                typer.echo(f"        {line}")
