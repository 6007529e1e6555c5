"""An ingress on an in-memory sink, reached with httpx through its ASGI interface."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest

from hub.bootstrap import build_web_app
from hub.pipeline.sink import MemorySink
from hub.settings import DEV_INGRESS_API_KEY, Environment, HubSettings, WebSettings

__all__ = ["Client", "Clock", "client", "make_client"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Client:
    http: httpx.AsyncClient
    sink: MemorySink
    settings: HubSettings
    ready: list[bool]

    async def post(self, source: str, body: object, **headers: str) -> httpx.Response:
        sent = {"x-api-key": DEV_INGRESS_API_KEY, **headers}
        return await self.http.post(f"/ingest/{source}", content=body, headers=sent)


def make_client(settings: HubSettings) -> Client:
    sink = MemorySink()
    ready = [True]

    async def probe() -> bool:
        return ready[0]

    app = build_web_app(settings, sink=sink, ready=probe)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")
    return Client(http, sink, settings, ready)


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    settings = HubSettings(env=Environment.TEST, web=WebSettings(rate_per_s=1000, burst=1000))
    made = make_client(settings)
    async with made.http:
        yield made
