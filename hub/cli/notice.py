"""`hub notice print ID`: parse, hand over, write the letter."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.app import CliError, load_settings, user_errors
from hub.tools.notice import find_notice, letter_pdf

__all__ = ["notice_app"]

notice_app = typer.Typer(help="Notices to the person: print one as a PDF letter.")


@notice_app.command("print")
@user_errors
def print_notice(
    message_id: Annotated[str, typer.Argument(help="The person message's id (on out.person.v1).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Where to write the PDF (notice-ID.pdf).")
    ] = None,
) -> None:
    """Write the notice to the person as a printable PDF letter."""
    message = asyncio.run(find_notice(load_settings("recipient.person"), message_id))
    if message is None:
        raise CliError(f"no notice {message_id} on out.person.v1")
    try:
        pdf = letter_pdf(message)
    except ValueError as exc:
        raise CliError(str(exc)) from None
    path = out or Path(f"notice-{message_id}.pdf")
    path.write_bytes(pdf)
    typer.echo(f"wrote {path}")
