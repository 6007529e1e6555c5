"""The console as a route group and a middleware for `hub.web.app.build_app`."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Mount
from starlette.staticfiles import StaticFiles

from hub.audit.projection import Projection
from hub.metrics import HubMetrics
from hub.privacy import PersonKeys
from hub.settings import HubSettings
from hub.signing.signer import Signer
from hub.web.console.auth import Credentials, LoginLimiter
from hub.web.console.gate import ConsoleGate
from hub.web.console.sessions import SessionStore
from schemas.audit import AuditFacts

__all__ = ["AuditAppend", "Console", "console_middleware", "console_routes"]

# Puts facts on the audit trail and returns once they are acknowledged (`AuditWriter.append`).
AuditAppend = Callable[[Sequence[AuditFacts]], Awaitable[None]]


@dataclass(frozen=True)
class Console:
    """What the console's handlers share: the hub's settings, signer, metrics and audit chain,
    the projection they read journeys from, and the operators' sessions."""

    settings: HubSettings
    signer: Signer
    metrics: HubMetrics
    audit: AuditAppend
    projection: Projection
    person_key: PersonKeys
    sessions: SessionStore
    credentials: Credentials
    limiter: LoginLimiter

    @classmethod
    def build(
        cls,
        settings: HubSettings,
        *,
        signer: Signer,
        metrics: HubMetrics,
        audit: AuditAppend,
        person_key: PersonKeys,
        clock: Callable[[], float] = time.monotonic,
    ) -> Console:
        console = settings.console
        return cls(
            settings=settings,
            signer=signer,
            metrics=metrics,
            audit=audit,
            projection=Projection(settings.projection_path),
            person_key=person_key,
            sessions=SessionStore(
                idle_s=console.idle_timeout_s, absolute_s=console.absolute_timeout_s, clock=clock
            ),
            credentials=Credentials.from_settings(settings),
            limiter=LoginLimiter(console.login_per_minute, console.login_burst, clock=clock),
        )


def console_routes(console: Console) -> list[BaseRoute]:
    from hub.web.console import actions, login, pages

    static = StaticFiles(packages=[("hub.web.console", "static")])
    return [
        *login.routes(console),
        *pages.routes(console),
        *actions.routes(console),
        Mount("/static", static, name="static"),
    ]


def console_middleware(console: Console) -> Middleware:
    return Middleware(
        ConsoleGate,
        sessions=console.sessions,
        metrics_token=console.settings.metrics.token,
        secure=console.settings.secure_cookies,
    )
