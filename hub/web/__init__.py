"""The hub's HTTP side: one ASGI app (Starlette), served by uvicorn in the hub's own process.

`app.build_app` assembles it from route groups (the ingress, the health checks and the
operations console), `server.serving` runs it alongside the pipeline stages.
"""

__all__: list[str] = []
