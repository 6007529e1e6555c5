"""`hub deploy render [--check]`: the Kubernetes files of the production deployment."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli.app import CliError, user_errors

__all__ = ["deploy_app"]

deploy_app = typer.Typer(
    help="The production deployment (Kubernetes, Strimzi): render its files.",
    no_args_is_help=True,
)


@deploy_app.command("render")
@user_errors
def render_files(
    check: Annotated[
        bool, typer.Option("--check", help="Write nothing; exit 1 when a file is out of date.")
    ] = False,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder to write to (default: deploy/kubernetes).")
    ] = None,
) -> None:
    """Write deploy/kubernetes/ from the routing policy, the register and the settings."""
    from hub.deploy import DEPLOY_DIR, RENDER_COMMAND, render, stale, write

    directory = out or DEPLOY_DIR
    files = render()
    if check:
        outdated = stale(files, directory)
        for name in outdated:
            typer.echo(f"out of date: {directory / name}", err=True)
        if outdated:
            typer.echo(f"run: {RENDER_COMMAND}", err=True)
            raise typer.Exit(code=1)
        typer.echo(f"{directory}: {len(files)} files up to date")
        return
    if directory.exists() and not directory.is_dir():
        raise CliError(f"{directory} is not a folder")
    changed = write(files, directory)
    typer.echo(f"{directory}: {len(changed)} of {len(files)} files written")
