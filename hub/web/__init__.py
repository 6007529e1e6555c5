"""The hub's HTTP side: one ASGI app (Starlette), served by uvicorn in the hub's own process.

`app.build_app` assembles it from route groups (the ingress and health checks now; the
operations console later), `server.serving` runs it alongside the pipeline stages.
"""

__all__: list[str] = []
