"""`hub console hash-password`: the hash an operator's entry in HUB_CONSOLE__USERS holds."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from hub.cli.app import CliError, user_errors
from hub.passwords import hash_password

__all__ = ["console_app"]

console_app = typer.Typer(help="The operations console.", no_args_is_help=True)


@console_app.command("hash-password")
@user_errors
def hash_password_command(
    username: Annotated[str, typer.Argument(help="The operator's username.")],
    from_stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the password from standard input.")
    ] = False,
) -> None:
    """Hash a password (Argon2id) and print the setting that lets USERNAME log in."""
    if from_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < 12:
        raise CliError("use a password of at least 12 characters")
    hashed = hash_password(password)
    typer.echo(hashed)
    setting = json.dumps({username: hashed})
    typer.echo(f"HUB_CONSOLE__USERS='{setting}'  (one object for all operators)", err=True)
