"""Where each command group joins the root app. One line per group."""

from __future__ import annotations

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Attach every command group to `app`."""
    from hub.cli import audit, cluster, keys, pipeline, policy
    from hub.cli.console import console_app
    from hub.cli.deploy import deploy_app
    from hub.cli.devtools import register_dev_commands
    from hub.cli.dlq import dlq_app
    from hub.cli.kafka import kafka_app
    from hub.cli.notice import notice_app

    pipeline.register(app)
    cluster.register(app)
    app.add_typer(kafka_app, name="kafka")
    keys.register(app)
    audit.register(app)
    policy.register(app)
    app.add_typer(dlq_app, name="dlq")
    app.add_typer(console_app, name="console")
    app.add_typer(deploy_app, name="deploy")
    app.add_typer(notice_app, name="notice")
    register_dev_commands(app)
