"""`/login` and `/logout`: operators in and out, each attempt on the audit trail.

A refused attempt names the username only when it is a known operator's: a mistyped name may be
someone's password.
"""

from __future__ import annotations

import math
import re
import secrets
from datetime import UTC, datetime
from functools import partial
from typing import Final

import structlog
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from hub.web.console.app import Console
from hub.web.console.gate import LOGIN_COOKIE, SESSION_COOKIE, SESSION_SCOPE_KEY
from hub.web.console.render import bound, form_of, page, session_of
from schemas.audit import AuditFacts, AuditStep, audit_id
from schemas.errors import Reason

__all__ = ["routes"]

log = structlog.get_logger(__name__)

_STAGE: Final = "console"
# A path of this console: starts with one slash, so never another site's address.
_LOCAL_PATH: Final = re.compile(r"^/(?![/\\])[\x21-\x7e]{0,500}$")
_LOGIN_FORM_S: Final = 3600


def routes(console: Console) -> list[Route]:
    return [
        Route("/login", partial(login_form, console), methods=["GET"], name="login"),
        Route("/login", bound(console, log_in), methods=["POST"]),
        Route("/logout", bound(console, log_out), methods=["POST"], name="logout"),
    ]


async def login_form(console: Console, request: Request) -> Response:
    if request.scope.get(SESSION_SCOPE_KEY) is not None:
        return RedirectResponse("/", status_code=303)
    return _login_page(console, request, _next(request.query_params.get("next")))


async def log_in(console: Console, request: Request) -> Response:
    form = form_of(request)
    username = str(form.get("username", ""))[:64]
    target = _next(str(form.get("next", "")))
    named = username if console.credentials.known(username) else None
    client = request.client.host if request.client else "-"
    wait_s = console.limiter.wait_s(client, username)
    if wait_s > 0:
        await _refused(console, Reason.RATE_LIMITED, named)
        error = "Too many attempts: wait a minute."
        response = _login_page(console, request, target, error=error, status=429)
        response.headers["retry-after"] = str(max(1, math.ceil(wait_s)))
        return response
    if not await console.credentials.check(username, str(form.get("password", ""))):
        await _refused(console, Reason.UNAUTHENTICATED, named)
        error = "Wrong username or password."
        return _login_page(console, request, target, error=error, status=401)
    return await _open_session(console, request, username, target)


async def _open_session(console: Console, request: Request, operator: str, target: str) -> Response:
    console.sessions.close(request.cookies.get(SESSION_COOKIE))  # never reuse a session id
    token, _ = console.sessions.open(operator)
    await console.audit([_facts(AuditStep.LOGGED_IN, operator=operator)])
    log.info("console.logged_in", operator=operator)
    response = RedirectResponse(target, status_code=303)
    _set_cookie(console, response, SESSION_COOKIE, token, path="/")
    response.delete_cookie(LOGIN_COOKIE, path="/login")
    return response


async def log_out(console: Console, request: Request) -> Response:
    operator = session_of(request).operator
    console.sessions.close(request.cookies.get(SESSION_COOKIE))
    await console.audit([_facts(AuditStep.LOGGED_OUT, operator=operator)])
    log.info("console.logged_out", operator=operator)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _login_page(
    console: Console,
    request: Request,
    target: str,
    *,
    error: str | None = None,
    status: int = 200,
) -> Response:
    token = request.cookies.get(LOGIN_COOKIE) or secrets.token_urlsafe(32)
    context = {"login_token": token, "next": target, "error": error}
    response = page(request, "login.html", context, status=status)
    _set_cookie(console, response, LOGIN_COOKIE, token, path="/login", max_age=_LOGIN_FORM_S)
    return response


def _set_cookie(
    console: Console,
    response: Response,
    name: str,
    value: str,
    *,
    path: str,
    max_age: int | None = None,
) -> None:
    # No max_age on the session cookie: the browser drops it when it closes, and the server
    # ends the session on its own timeouts whatever the browser keeps.
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="lax",
        secure=console.settings.secure_cookies,
    )


def _next(given: str | None) -> str:
    return given if given and _LOCAL_PATH.fullmatch(given) else "/"


async def _refused(console: Console, reason: Reason, operator: str | None) -> None:
    log.warning("console.login_refused", reason=reason.value, operator=operator)
    await console.audit([_facts(AuditStep.LOGIN_REFUSED, operator=operator, reason=reason.value)])


def _facts(step: AuditStep, *, operator: str | None, reason: str | None = None) -> AuditFacts:
    now = datetime.now(UTC).isoformat()
    return AuditFacts(
        id=audit_id(step, operator or "", now, secrets.token_hex(8)),
        step=step,
        stage=_STAGE,
        operator=operator,
        reason=reason,
    )
