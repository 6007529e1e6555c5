"""Who gets in: login, logout, expiry, rate limits, and nothing for anyone else."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from argon2.profiles import CHEAPEST
from pydantic import ValidationError
from typer.testing import CliRunner

from hub.cli import commands
from hub.cli.app import app
from hub.passwords import verify_password
from hub.settings import (
    DEV_CONSOLE_PASSWORD,
    DEV_CONSOLE_USER,
    ConsoleSettings,
    Environment,
    HubSettings,
    MetricsSettings,
)
from schemas.audit import AuditStep
from tests.support import PRODUCTION_KAFKA
from tests.web.console.conftest import METRICS_TOKEN
from tests.web.console.support import PAGE, ConsoleClient, make_console_client

commands.register(app)

GUARDED_GETS = ["/", "/dlq", "/dlq/0f0f0f0f", "/trail?id=x", "/disclosures", "/metrics", "/nope"]
GUARDED_POSTS = [
    "/logout",
    "/disclosures",
    "/dlq/replay",
    "/dlq/replay/confirm",
    "/dlq/discard",
    "/dlq/discard/confirm",
    "/dlq/0f0f0f0f/reveal",
]


async def test_nothing_is_served_to_anyone_not_logged_in(console: ConsoleClient) -> None:
    http = console.http
    for path in GUARDED_GETS:
        plain = await http.get(path)
        assert plain.status_code == 401, path
        assert plain.text == "log in first"
        page = await http.get(path, headers=PAGE)
        if path == "/metrics":
            assert page.status_code == 401
        else:
            assert page.status_code == 303, path
            assert page.headers["location"].startswith("/login?next=")
    for path in GUARDED_POSTS:
        refused = await http.post(path, data={"csrf_token": "x", "why": "y", "entry": "z"})
        assert refused.status_code == 401, path
    assert (await http.get("/healthz")).status_code == 200
    assert (await http.get("/readyz")).status_code == 200
    assert (await http.get("/login")).status_code == 200
    assert (await http.get("/static/console.css")).status_code == 200
    assert not console.audit


async def test_log_in_and_out(console: ConsoleClient) -> None:
    response = await console.log_in()
    assert response.status_code == 303
    assert response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "hub_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie
    assert "Secure" not in cookie, "plain HTTP outside production"
    assert (await console.http.get("/trail")).status_code == 200
    assert [f.operator for f in console.steps(AuditStep.LOGGED_IN)] == [DEV_CONSOLE_USER]

    logout = await console.post("/logout")
    assert logout.status_code == 303
    assert logout.headers["location"] == "/login"
    assert (await console.http.get("/trail")).status_code == 401
    assert [f.operator for f in console.steps(AuditStep.LOGGED_OUT)] == [DEV_CONSOLE_USER]


async def test_a_stolen_cookie_is_dead_after_logout(console: ConsoleClient) -> None:
    await console.log_in()
    stolen = console.http.cookies["hub_session"]
    await console.post("/logout")
    again = await console.http.get("/trail", headers={"cookie": f"hub_session={stolen}"})
    assert again.status_code == 401


async def test_wrong_passwords_are_refused_and_recorded(console: ConsoleClient) -> None:
    wrong = await console.log_in(password="not-it")  # noqa: S106 - wrong on purpose
    assert wrong.status_code == 401
    assert "Wrong username or password" in wrong.text
    unknown = await console.log_in("my-password-by-mistake", "x")
    assert unknown.status_code == 401
    assert "hub_session" not in console.http.cookies
    refused = console.steps(AuditStep.LOGIN_REFUSED)
    assert [(f.operator, f.reason) for f in refused] == [
        (DEV_CONSOLE_USER, "unauthenticated"),
        (None, "unauthenticated"),
    ], "an unknown name is not recorded: it may be someone's password"


async def test_a_login_form_without_its_token_is_refused(console: ConsoleClient) -> None:
    response = await console.http.post(
        "/login", data={"username": DEV_CONSOLE_USER, "password": DEV_CONSOLE_PASSWORD}
    )
    assert response.status_code == 403
    assert not console.steps(AuditStep.LOGGED_IN)


async def test_sessions_end_after_the_idle_timeout(console: ConsoleClient) -> None:
    await console.log_in()
    console.clock.now += 599
    assert (await console.http.get("/trail")).status_code == 200
    console.clock.now += 600
    assert (await console.http.get("/trail")).status_code == 401


async def test_sessions_end_after_the_absolute_timeout_however_busy(
    console: ConsoleClient,
) -> None:
    await console.log_in()
    for _ in range(11):
        console.clock.now += 300
        assert (await console.http.get("/trail")).status_code == 200
    console.clock.now += 301
    assert (await console.http.get("/trail")).status_code == 401


async def test_logins_are_rate_limited(console: ConsoleClient) -> None:
    for _ in range(5):
        assert (await console.log_in(DEV_CONSOLE_USER, "guess")).status_code == 401
    limited = await console.log_in()
    assert limited.status_code == 429, "even the right password waits"
    assert int(limited.headers["retry-after"]) >= 1
    assert console.steps(AuditStep.LOGIN_REFUSED)[-1].reason == "rate_limited"
    console.clock.now += 60
    assert (await console.log_in()).status_code == 303


async def test_pages_carry_security_headers(console: ConsoleClient) -> None:
    await console.log_in()
    for response in (
        await console.http.get("/trail"),
        await console.http.get("/login"),
        await console.http.get("/nope"),
    ):
        csp = response.headers["content-security-policy"]
        assert "default-src 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["cache-control"] == "no-store"
    ingress = await console.http.get("/healthz")
    assert "content-security-policy" not in ingress.headers, "the JSON endpoints are left alone"


async def test_metrics_for_operators_and_for_the_scraper_token(console: ConsoleClient) -> None:
    def bearer(token: str) -> dict[str, str]:
        return {"authorization": f"Bearer {token}"}

    console.console.metrics.records_in.labels("ingest").inc(3)
    scraped = await console.http.get("/metrics", headers=bearer(METRICS_TOKEN))
    assert scraped.status_code == 200
    assert 'hub_records_in_total{stage="ingest"} 3.0' in scraped.text
    assert (await console.http.get("/metrics", headers=bearer("wrong"))).status_code == 401
    await console.log_in()
    assert (await console.http.get("/metrics")).status_code == 200


async def test_configured_users_log_in_and_the_dev_login_is_gone(
    console_settings: HubSettings,
) -> None:
    hashed = PasswordHasher.from_parameters(CHEAPEST).hash("kari's long password")
    settings = console_settings.model_copy(
        update={"console": ConsoleSettings(users={"kari": hashed})}
    )
    client = make_console_client(settings)
    async with client.http:
        assert (await client.log_in()).status_code == 401
        assert (await client.log_in("kari", "kari's long password")).status_code == 303


def test_hash_password_makes_a_hash_the_settings_take() -> None:
    result = CliRunner().invoke(
        app, ["console", "hash-password", "kari", "--stdin"], input="a long enough password\n"
    )
    assert result.exit_code == 0, result.output
    hashed = result.stdout.splitlines()[0]
    assert hashed.startswith("$argon2id$")
    assert verify_password(hashed, "a long enough password")
    setting = result.stderr.split("'")[1]
    assert HubSettings(console=ConsoleSettings(users=json.loads(setting))).console.users
    short = CliRunner().invoke(app, ["console", "hash-password", "kari", "--stdin"], input="x\n")
    assert short.exit_code == 2


def test_production_refuses_dev_credentials() -> None:
    secrets = {
        "person_key_secret": "a-production-person-key-secret-of-some-length",
        "signing": {"passphrase": "a-production-passphrase"},
        "kafka": PRODUCTION_KAFKA,
    }
    production = HubSettings.model_validate({"env": "production", **secrets})
    assert not production.dev_console_login
    assert production.secure_cookies
    dev_hash = PasswordHasher.from_parameters(CHEAPEST).hash(DEV_CONSOLE_PASSWORD)
    with pytest.raises(ValidationError, match="dev password"):
        HubSettings.model_validate(
            {"env": "production", **secrets, "console": {"users": {"ops": dev_hash}}}
        )
    with pytest.raises(ValidationError, match="HUB_METRICS__TOKEN"):
        HubSettings.model_validate({"env": "production", **secrets, "metrics": {"token": "short"}})
    assert HubSettings(env=Environment.TEST).dev_console_login
    assert not HubSettings(env=Environment.TEST, metrics=MetricsSettings()).secure_cookies


async def test_every_form_needs_the_sessions_csrf_token(console: ConsoleClient) -> None:
    other = make_console_client(console.console.settings)
    async with other.http:
        await other.log_in()
        foreign = await other.token()
    await console.log_in()
    token = await console.token()
    form = {"why": "y", "entry": "0f0f0f0f", "number": "x"}
    for path in GUARDED_POSTS:
        for given in ({}, {"csrf_token": "wrong"}, {"csrf_token": foreign}):
            refused = await console.http.post(path, data={**form, **given})
            assert refused.status_code == 403, (path, given)
        elsewhere = await console.http.post(
            path, data={**form, "csrf_token": token}, headers={"origin": "https://evil.example"}
        )
        assert elsewhere.status_code == 403, path
        as_json = await console.http.post(path, json={**form, "csrf_token": token})
        assert as_json.status_code == 403, path
    assert (await console.http.get("/trail")).status_code == 200, "still logged in"
    assert not console.steps(AuditStep.LOGGED_OUT)
