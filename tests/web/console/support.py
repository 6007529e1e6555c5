"""The console reached with httpx through its ASGI interface, as a browser would use it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from hub.audit.projection import Projection
from hub.bootstrap import build_web_app, load_signer, person_keys
from hub.metrics import HubMetrics
from hub.pipeline.records import InboundRecord, Position
from hub.pipeline.sink import MemorySink
from hub.settings import DEV_CONSOLE_PASSWORD, DEV_CONSOLE_USER, HubSettings
from hub.web.console.app import Console
from schemas.audit import GENESIS, AuditFacts, AuditRecord, AuditStep, encode_record
from tests.web.conftest import Clock

__all__ = ["Clock", "ConsoleClient", "csrf_token", "make_console_client", "seed_projection"]

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PAGE = {"accept": "text/html"}


@dataclass
class ConsoleClient:
    http: httpx.AsyncClient
    console: Console
    clock: Clock
    audit: list[AuditFacts] = field(default_factory=list)

    async def log_in(
        self, username: str = DEV_CONSOLE_USER, password: str = DEV_CONSOLE_PASSWORD
    ) -> httpx.Response:
        form = await self.http.get("/login", headers=PAGE)
        token = csrf_token(form.text)
        return await self.http.post(
            "/login",
            data={"username": username, "password": password, "csrf_token": token, "next": "/"},
        )

    async def token(self, path: str = "/disclosures") -> str:
        """The session's CSRF token, as a page's forms carry it."""
        return csrf_token((await self.http.get(path, headers=PAGE)).text)

    async def post(self, path: str, data: dict[str, Any] | None = None) -> httpx.Response:
        """A form the console's own page would send: with the session's CSRF token."""
        return await self.http.post(path, data={**(data or {}), "csrf_token": await self.token()})

    def steps(self, step: AuditStep) -> list[AuditFacts]:
        return [f for f in self.audit if f.step is step]


def csrf_token(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "the page has a form with a CSRF token"
    return found.group(1)


def make_console_client(settings: HubSettings, metrics: HubMetrics | None = None) -> ConsoleClient:
    clock = Clock()
    audit: list[AuditFacts] = []

    async def append(facts: Sequence[AuditFacts]) -> None:
        audit.extend(facts)

    console = Console.build(
        settings,
        signer=load_signer(settings),
        metrics=metrics or HubMetrics(),
        audit=append,
        person_key=person_keys(settings),
        clock=clock,
    )
    app = build_web_app(settings, sink=MemorySink(), console=console, ready=_ready)
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hub")
    return ConsoleClient(http, console, clock, audit)


async def _ready() -> bool:
    return True


def seed_projection(path: Path, facts: Sequence[AuditFacts]) -> None:
    """Put `facts` in the audit projection at `path`, as the running hub would."""
    records = []
    prev = GENESIS
    for seq, fact in enumerate(facts):
        record = AuditRecord.chain(
            fact, writer="test-writer", seq=seq, prev=prev, time=datetime.now(UTC)
        )
        value = encode_record(record)
        records.append(InboundRecord(Position("hub.audit.test", 0, seq), b"w", value))
    Projection(path).apply(records)
