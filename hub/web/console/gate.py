"""The console's gate: one ASGI middleware in front of the whole app, deny by default.

Passed through untouched: `/healthz`, `/readyz` and the ingress (`/ingest/...`, which has its
own API-key check). Everything else gets the security headers, and:

- `/login` and `/static/...` are served to anyone (the login page and its stylesheet);
- `/metrics` to a logged-in operator, or to a scraper with `Authorization: Bearer <token>`;
- anything else only with a live session: otherwise a page request is sent to `/login` (303)
  and any other request gets 401, whether or not the path exists.

Every request that is not GET or HEAD must be a URL-encoded form (at most 64 KiB) whose
`csrf_token` field matches the session's token (constant time); for the login form, the value
of the `hub_login` cookie set with the form. A request from another origin (its `Origin` header
names another host) is refused too. Refusals are 403, before the request reaches a handler.
"""

from __future__ import annotations

import hmac
from http.cookies import SimpleCookie
from typing import Final
from urllib.parse import parse_qsl, quote, urlsplit

import structlog
from pydantic import SecretStr
from starlette.datastructures import FormData, Headers, MutableHeaders, UploadFile
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.web.console.sessions import Session, SessionStore

__all__ = [
    "CSRF_FIELD",
    "FORM_SCOPE_KEY",
    "LOGIN_COOKIE",
    "SESSION_COOKIE",
    "SESSION_SCOPE_KEY",
    "ConsoleGate",
    "security_headers",
]

log = structlog.get_logger(__name__)

SESSION_COOKIE: Final = "hub_session"
LOGIN_COOKIE: Final = "hub_login"
CSRF_FIELD: Final = "csrf_token"
# Where a handler finds the request's session (see `hub.web.console.render.session_of`).
SESSION_SCOPE_KEY: Final = "hub.console.session"
# ... and the form the gate has read and checked (see `render.form_of`).
FORM_SCOPE_KEY: Final = "hub.console.form"

_UNGUARDED: Final = ("/healthz", "/readyz")
_UNGUARDED_PREFIXES: Final = ("/ingest/",)
_OPEN_PREFIXES: Final = ("/static/",)
_LOGIN: Final = "/login"
_METRICS: Final = "/metrics"
_SAFE_METHODS: Final = frozenset({"GET", "HEAD"})
_MAX_FORM_BYTES: Final = 64 * 1024
_FORM_TYPE: Final = "application/x-www-form-urlencoded"
# No script at all, styles and images only from the hub, forms only to the hub, never framed.
_CSP: Final = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def security_headers(*, secure: bool) -> list[tuple[str, str]]:
    headers = [
        ("content-security-policy", _CSP),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cross-origin-opener-policy", "same-origin"),
        ("cross-origin-resource-policy", "same-origin"),
        # Pages show personal data and dead-letter payloads: no copy in any cache or history.
        ("cache-control", "no-store"),
    ]
    if secure:
        headers.append(("strict-transport-security", "max-age=31536000"))
    return headers


class _Refused(Exception):
    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


class ConsoleGate:
    def __init__(
        self,
        app: ASGIApp,
        *,
        sessions: SessionStore,
        metrics_token: SecretStr | None,
        secure: bool,
    ) -> None:
        self.app = app
        self._sessions = sessions
        self._metrics_token = metrics_token
        self._headers = security_headers(secure=secure)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or path in _UNGUARDED or path.startswith(_UNGUARDED_PREFIXES):
            await self.app(scope, receive, send)
            return
        send = self._with_headers(send)
        try:
            receive = await self._admit(scope, receive)
        except _Refused as refused:
            await refused.response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _admit(self, scope: Scope, receive: Receive) -> Receive:
        """Attach the session, or refuse; checks a form's CSRF token. Returns the `receive` the
        app reads the (already read) body from."""
        path, method = scope["path"], scope["method"]
        headers = Headers(scope=scope)
        cookies = _cookies(headers)
        session = self._sessions.get(cookies.get(SESSION_COOKIE))
        scope[SESSION_SCOPE_KEY] = session
        if method in _SAFE_METHODS:
            if session is None and not self._open(path, headers):
                raise _Refused(_to_login(scope))
            return receive
        _same_origin(headers)
        if path == _LOGIN:
            expected = cookies.get(LOGIN_COOKIE)
        elif session is not None:
            expected = session.csrf_token
        else:
            raise _Refused(PlainTextResponse("log in first", status_code=401))
        body = await _form_body(headers, receive)
        pairs: list[tuple[str, str | UploadFile]] = list(
            parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True)
        )
        form = FormData(pairs)
        _check_token(form, expected, path, session)
        scope[FORM_SCOPE_KEY] = form
        return _replaying(body, receive)

    def _open(self, path: str, headers: Headers) -> bool:
        if path == _LOGIN or path.startswith(_OPEN_PREFIXES):
            return True
        return path == _METRICS and self._bearer_ok(headers)

    def _bearer_ok(self, headers: Headers) -> bool:
        scheme, _, given = headers.get("authorization", "").partition(" ")
        if self._metrics_token is None or scheme.lower() != "bearer" or not given:
            return False
        expected = self._metrics_token.get_secret_value().encode("utf-8")
        return hmac.compare_digest(given.strip().encode("utf-8"), expected)

    def _with_headers(self, send: Send) -> Send:
        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self._headers:
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        return sending


def _cookies(headers: Headers) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for raw in headers.getlist("cookie"):
        try:
            jar.load(raw)
        except ValueError:  # http.cookies.CookieError: a malformed header counts as no cookie
            continue
    return {name: morsel.value for name, morsel in jar.items()}


def _to_login(scope: Scope) -> Response:
    accepts = Headers(scope=scope).get("accept", "")
    if scope["path"] == _METRICS or "text/html" not in accepts:
        response: Response = PlainTextResponse("log in first", status_code=401)
        response.headers["www-authenticate"] = 'Bearer realm="justishub"'
        return response
    target = scope["path"] + (f"?{scope['query_string'].decode()}" if scope["query_string"] else "")
    return RedirectResponse(f"{_LOGIN}?next={quote(target, safe='')}", status_code=303)


def _same_origin(headers: Headers) -> None:
    origin = headers.get("origin")
    if origin is not None and origin != "null" and urlsplit(origin).netloc != headers.get("host"):
        raise _Refused(PlainTextResponse("forbidden: another origin", status_code=403))


async def _form_body(headers: Headers, receive: Receive) -> bytes:
    media_type = headers.get("content-type", "").partition(";")[0].strip().lower()
    if media_type != _FORM_TYPE:
        raise _Refused(PlainTextResponse("forbidden: forms only", status_code=403))
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Refused(PlainTextResponse("the client went away", status_code=400))
        body += message.get("body", b"")
        if len(body) > _MAX_FORM_BYTES:
            raise _Refused(PlainTextResponse("form too large", status_code=413))
        if not message.get("more_body", False):
            return bytes(body)


def _check_token(form: FormData, expected: str | None, path: str, session: Session | None) -> None:
    given = form.get(CSRF_FIELD)
    if (
        expected
        and isinstance(given, str)
        and hmac.compare_digest(given.encode(), expected.encode())
    ):
        return
    log.warning("console.csrf_refused", path=path, operator=session.operator if session else None)
    raise _Refused(
        PlainTextResponse(
            "forbidden: the form's CSRF token is missing or wrong; reload the page and try again",
            status_code=403,
        )
    )


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body the gate has read, then waits on the client."""
    sent = False

    async def replaying() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replaying
