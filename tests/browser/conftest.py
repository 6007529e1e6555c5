"""Headless Chromium for the console's browser tests: Debian's own browser (`/usr/bin/chromium`,
installed by `make chromium`), driven by Playwright, which never downloads one of its own.

Every test gets a fresh profile folder. When a test fails, its page is saved as
`failure.png` (and `failure.html`) in the test's temporary folder.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Generator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, Page, async_playwright
from playwright.async_api import Error as PlaywrightError

__all__ = ["CHROMIUM", "browser_page", "chromium"]

CHROMIUM = Path("/usr/bin/chromium")
_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
_TIMEOUT_MS = 15_000
_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    item.stash.setdefault(_REPORTS, {})[report.when] = report
    return report


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        raise RuntimeError(f"no {CHROMIUM}: run `make chromium` (Debian's chromium package)")
    return CHROMIUM


@pytest.fixture
async def browser_page(
    request: pytest.FixtureRequest, tmp_path: Path, chromium: Path
) -> AsyncIterator[Page]:
    async with async_playwright() as playwright:
        context: BrowserContext = await playwright.chromium.launch_persistent_context(
            tmp_path / "chromium-profile",
            executable_path=chromium,
            headless=True,
            args=_FLAGS,
            viewport={"width": 1280, "height": 900},
        )
        try:
            page = await context.new_page()
            page.set_default_timeout(_TIMEOUT_MS)
            yield page
            call = request.node.stash.get(_REPORTS, {}).get("call")
            if call is not None and call.failed:
                await _keep_failed_page(page, tmp_path)
        finally:
            await context.close()


async def _keep_failed_page(page: Page, folder: Path) -> None:
    try:
        # A page caught mid-navigation cannot be captured: wait for it to settle first.
        await page.wait_for_load_state()
        await page.screenshot(path=folder / "failure.png", full_page=True)
        html = await page.content()
    except PlaywrightError as exc:
        print(f"no screenshot of the failed page: {exc}")
        return
    (folder / "failure.html").write_text(html)
    print(f"screenshot of the failed page: {folder / 'failure.png'}")
