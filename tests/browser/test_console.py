"""The console in a real browser, served by a real `hub run` against the session's broker."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Page, async_playwright, expect

from hub.settings import DEV_CONSOLE_PASSWORD, DEV_CONSOLE_USER
from hubdev.demo import KODA_SAMPLES
from tests.e2e.harness import HubEnv, HubProcess, collect
from tests.support import RunningKafka

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

INVALID = KODA_SAMPLES / "invalid" / "01-wrong-check-digit.xml"
_JOURNEY_S = 30.0


@pytest.fixture
def env(kafka: RunningKafka, tmp_path: Path) -> HubEnv:
    return HubEnv(kafka.connection, tmp_path / "hub")


@pytest.fixture
def hub(env: HubEnv, tmp_path: Path) -> Iterator[str]:
    """`hub run` with the console; yields its address once the console answers."""
    process = HubProcess(env, tmp_path / "hub.log")
    process.start()
    address = f"http://127.0.0.1:{env.web_port}"
    try:
        _wait_for(f"{address}/healthz")
        yield address
    finally:
        process.stop()


def _wait_for(url: str, timeout_s: float = 30.0) -> None:
    # The stages start first, the HTTP server a moment after them.
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
        time.sleep(0.1)


@pytest.fixture
async def entry_id(env: HubEnv, hub: str) -> str:
    """The dead-letter entry of the invalid sample, published to the running hub."""
    await env.publish([INVALID.read_bytes()])
    (entry,) = await collect(
        env.connection, env.settings().topics.dlq, until=lambda rs: len(rs) == 1
    )
    header = entry.header("hub-dlq-id")
    assert header
    return header


async def test_an_operator_replays_a_dead_letter_and_follows_its_journey(
    hub: str, entry_id: str, browser_page: Page
) -> None:
    page = browser_page
    await page.goto(f"{hub}/dlq")
    assert "/login?next=" in page.url, "not logged in: sent to the login page"
    await page.get_by_label("Username").fill(DEV_CONSOLE_USER)
    await page.get_by_label("Password").fill(DEV_CONSOLE_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page).to_have_url(f"{hub}/dlq")

    row = page.locator("table.entries tr", has_text="invalid_identity_number")
    await expect(row).to_contain_text("koda")
    await row.get_by_role("link", name=entry_id[:8]).click()
    await expect(page.locator("pre.payload")).to_contain_text("<Fornavn>***</Fornavn>")

    await page.get_by_role("button", name=re.compile("^Replay")).click()
    await expect(page.get_by_role("heading", name="Replay: dry run")).to_be_visible()
    await expect(page.locator("main")).to_contain_text("Would put 1 input back")
    await page.get_by_role("button", name=f"Replay 1 now as {DEV_CONSOLE_USER}").click()
    await expect(page.get_by_role("status")).to_contain_text(
        f"Replayed 1 input as {DEV_CONSOLE_USER}"
    )

    await page.get_by_role("link", name="Follow it").click()
    replayed = page.locator("tr.step-replayed")
    deadline = time.monotonic() + _JOURNEY_S
    while await replayed.count() == 0 and time.monotonic() < deadline:
        await page.wait_for_timeout(500)  # the projection follows the trail within seconds
        await page.reload()
    await expect(replayed).to_contain_text(f"by {DEV_CONSOLE_USER}")
    await expect(page.locator("tr.step-dead_lettered").first).to_contain_text(
        "invalid_identity_number"
    )


async def test_no_page_for_strangers_and_no_action_without_the_csrf_token(
    hub: str, entry_id: str, browser_page: Page
) -> None:
    async with async_playwright() as playwright:
        stranger = await playwright.request.new_context(base_url=hub)
        for path in ("/", "/dlq", f"/dlq/{entry_id}", "/metrics"):
            assert (await stranger.get(path)).status == 401, path
        assert (await stranger.get("/healthz")).ok
        await stranger.dispose()

    page = browser_page
    await page.goto(f"{hub}/login")
    await page.get_by_label("Username").fill(DEV_CONSOLE_USER)
    await page.get_by_label("Password").fill(DEV_CONSOLE_PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    # The logged-in browser's cookies, but a form another site made: no CSRF token.
    forged = await page.request.post(f"{hub}/dlq/replay/confirm", form={"entry": entry_id})
    assert forged.status == 403
    await page.goto(f"{hub}/dlq/{entry_id}")
    await expect(page.locator(".facts .status")).to_have_text("open")
