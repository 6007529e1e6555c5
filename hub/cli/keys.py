"""`hub keys generate|jwks|rotate`: the hub's signing keys. Parse, hand over, print."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from hub.cli.app import CliError, load_settings, user_errors
from hub.signing.keys import key_store
from schemas.signature import InvalidJwks, PublicKeys

__all__ = ["register", "trusted_keys"]


def register(app: typer.Typer) -> None:
    keys_app = typer.Typer(help="The hub's signing keys.", no_args_is_help=True)
    keys_app.command("generate")(generate)
    keys_app.command("jwks")(jwks)
    keys_app.command("rotate")(rotate)
    app.add_typer(keys_app, name="keys")


@user_errors
def generate() -> None:
    """Make the hub's first Ed25519 signing key (refuses if there is one: see `rotate`)."""
    store = key_store(load_settings())
    entry = store.generate()
    typer.echo(f"keys: new signing key {entry.kid} in {store.directory}")


@user_errors
def jwks() -> None:
    """Print the public JWKS (current and retired keys) that recipients verify with."""
    typer.echo(json.dumps(key_store(load_settings()).load().jwks(), indent=2))


@user_errors
def rotate() -> None:
    """Make a new signing key current; the old public key stays in the JWKS."""
    store = key_store(load_settings())
    new, retired = store.rotate()
    typer.echo(f"keys: {new.kid} signs from now on; {retired.kid} retired (still in the JWKS)")
    typer.echo("keys: give recipients the new JWKS (`hub keys jwks`)")


JwksOption = Annotated[
    Path | None,
    typer.Option("--jwks", help="Verify with this JWKS file instead of the hub's own keys."),
]


def trusted_keys(jwks_file: Path | None) -> PublicKeys:
    """The keys to verify with: a JWKS file, or the public half of the hub's own keyring."""
    if jwks_file is None:
        return key_store(load_settings()).load().public_keys()
    try:
        return PublicKeys.from_jwks(json.loads(jwks_file.read_text("utf-8")))
    except (ValueError, InvalidJwks) as exc:
        raise CliError(f"{jwks_file} is not a JWKS: {exc}") from exc
