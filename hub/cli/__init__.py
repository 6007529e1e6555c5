"""The `hub` command. Each command group lives in its own module and only parses and hands over."""

from hub.cli.app import app, main

__all__ = ["app", "main"]
