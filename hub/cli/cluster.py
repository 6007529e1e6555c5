"""`hub topics ensure | check` and `hub acl plan | apply`: the cluster as the policy says."""

from __future__ import annotations

import typer

from hub.access import AclBinding
from hub.cli.app import CliError, load_settings, user_errors
from hub.cluster import (
    check_cluster_topics,
    credentials_folder,
    desired_acls,
    plan_cluster_acls,
    prepare_cluster,
)
from hub.kafka.accounts import apply_acls
from hub.kafka.credentials import ADMIN
from hub.topics import Severity

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    topics_app = typer.Typer(help="The hub's Kafka topics.", no_args_is_help=True)
    topics_app.command("ensure")(ensure)
    topics_app.command("check")(check)
    app.add_typer(topics_app, name="topics")
    acl_app = typer.Typer(
        help="The cluster's ACLs, derived from the routing policy.", no_args_is_help=True
    )
    acl_app.command("plan")(plan)
    acl_app.command("apply")(apply)
    app.add_typer(acl_app, name="acl")


@user_errors
def ensure() -> None:
    """Create the hub's topics that are missing, make the cluster's ACLs match the policy, and
    (outside production) give the hub's, operators', sources' and recipients' principals
    credentials. As the admin principal."""
    settings = load_settings(ADMIN)
    ready = prepare_cluster(settings)
    typer.echo(f"topics: {len(ready.topics_created)} created")
    typer.echo(f"acls: {len(ready.acls.add)} added, {len(ready.acls.remove)} removed")
    if ready.credentials:
        made = sum(c.created for c in ready.credentials)
        typer.echo(
            f"credentials: {len(ready.credentials)} principals ({made} new), passwords in "
            f"{credentials_folder(settings)}; a client's settings: "
            "`hub kafka credentials PRINCIPAL`"
        )


@user_errors
def check() -> None:
    """Check every topic the hub uses against what it needs; exit 1 on a setting that risks
    data (missing topic, too few replicas, min ISR, unclean election, cleanup, retention)."""
    findings = check_cluster_topics(load_settings(ADMIN))
    for finding in findings:
        typer.echo(finding.line())
    refusals = [f for f in findings if f.severity is Severity.REFUSE]
    typer.echo(f"topics: {len(refusals)} refusals, {len(findings) - len(refusals)} warnings")
    if refusals:
        raise typer.Exit(code=1)


@user_errors
def plan() -> None:
    """Print the ACLs the policy implies, and what `hub acl apply` would change."""
    settings = load_settings(ADMIN)
    wanted = desired_acls(settings)
    for binding in wanted:
        typer.echo(f"  {_line(binding)}")
    change = plan_cluster_acls(settings)
    for binding in change.add:
        typer.echo(f"+ {_line(binding)}")
    for binding in change.remove:
        typer.echo(f"- {_line(binding)}")
    typer.echo(
        f"acls: {len(wanted)} implied by the policy; {len(change.add)} to add, "
        f"{len(change.remove)} to remove"
    )


@user_errors
def apply() -> None:
    """Make the cluster's ACLs exactly those the policy implies (idempotent)."""
    settings = load_settings(ADMIN)
    wanted = desired_acls(settings)
    if not wanted:
        raise CliError("the policy implies no ACLs at all; refusing to remove every ACL")
    change = apply_acls(settings.kafka_connection(), wanted)
    typer.echo(f"acls: {len(change.add)} added, {len(change.remove)} removed")


def _line(binding: AclBinding) -> str:
    return (
        f"{binding.principal:<36} {binding.operation.value:<17} {binding.resource_type.value:<6} "
        f"{binding.pattern_type.value:<8} {binding.resource_name}"
    )
