"""The hub's ASGI app: route groups assembled into one Starlette application.

Health checks:
    GET /healthz   200 while the process serves requests (liveness)
    GET /readyz    200 when the broker answers, else 503 with `broker_unavailable` (readiness)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from schemas.errors import Reason

__all__ = ["ReadinessProbe", "build_app", "health_routes"]

# True when the hub can do its work right now (the broker is reachable).
ReadinessProbe = Callable[[], Awaitable[bool]]


def health_routes(ready: ReadinessProbe) -> list[Route]:
    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        if await ready():
            return JSONResponse({"status": "ready"})
        body = {"status": "not_ready", "reason": Reason.BROKER_UNAVAILABLE.value}
        return JSONResponse(body, status_code=503)

    return [
        Route("/healthz", healthz, methods=["GET"], name="healthz"),
        Route("/readyz", readyz, methods=["GET"], name="readyz"),
    ]


def build_app(*route_groups: Sequence[BaseRoute]) -> Starlette:
    """One app from groups of routes (`health_routes`, `ingress_routes`, ...)."""
    return Starlette(routes=[route for group in route_groups for route in group])
