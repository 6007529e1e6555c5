"""The development tools' commands, under the `hub` command a developer already knows: `hub
bench`, `hub demo`, `hub kafka up | down | status`. `hub.cli.devtools` adds them when this
package is installed (a checkout's `make install`; the image has only the runtime)."""

from __future__ import annotations

import typer

from hub.cli.kafka import kafka_app
from hubdev.cli import bench, demo, kafka

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Attach the development commands to the root `app` and its `hub kafka` group."""
    bench.register(app)
    demo.register(app)
    kafka.register(kafka_app)
