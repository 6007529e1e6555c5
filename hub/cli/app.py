"""The root Typer app and the one place that turns a user's mistake into one clear line."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

import typer

from hub.logs import configure_logging
from hub.privacy import mask_text
from hub.settings import HubSettings
from schemas.errors import HubError

__all__ = ["CliError", "app", "fail", "load_settings", "main", "user_errors"]

P = ParamSpec("P")
R = TypeVar("R")

app = typer.Typer(
    name="hub",
    help="justishub: signed, audited delivery of justice-sector events between agencies.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


class CliError(Exception):
    """A mistake the user can fix: printed as one line, exit status 2."""


def fail(message: str) -> typer.Exit:
    """Print `message` as the one error line and return the exit to raise."""
    typer.echo(f"hub: error: {mask_text(message)}", err=True)
    return typer.Exit(code=2)


def user_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors a user can cause into one clear line and a non-zero exit."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (CliError, HubError, OSError) as exc:
            raise fail(str(exc)) from None
        except KeyboardInterrupt:
            raise typer.Exit(code=130) from None

    return wrapper


def load_settings(principal: str | None = None) -> HubSettings:
    """Build the settings once for a command; a bad value is a user error, not a traceback.

    `principal`: whom the command connects to Kafka as, unless HUB_KAFKA__USERNAME says."""
    from pydantic import ValidationError

    try:
        settings = HubSettings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise fail(f"invalid setting {where}: {first['msg']}") from None
    # One-shot commands log warnings only; `hub run` configures its own level.
    configure_logging(log_format=settings.effective_log_format, level="WARNING", quiet_clients=True)
    return settings.with_principal(principal) if principal else settings


def main() -> None:
    _register_commands()
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


def _register_commands() -> None:
    # Imported here so that `import hub.cli` stays cheap and free of side effects.
    from hub.cli import commands

    commands.register(app)
