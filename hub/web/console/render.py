"""Pages from templates: one Jinja2 environment (autoescaped, strict about unknown names), the
request's session, and the error page every handler falls back to."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from functools import partial, wraps
from typing import TYPE_CHECKING, Any

import jinja2
import structlog
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from hub.privacy import mask_text
from hub.web.console.gate import CSRF_FIELD, FORM_SCOPE_KEY, SESSION_SCOPE_KEY
from hub.web.console.sessions import Session
from schemas.errors import HubError, PermanentError, Reason

if TYPE_CHECKING:
    from hub.web.console.app import Console

__all__ = [
    "ConsoleHandler",
    "Handler",
    "bound",
    "form_of",
    "page",
    "session_of",
    "shows_errors",
    "when",
]

log = structlog.get_logger(__name__)

Handler = Callable[[Request], Awaitable[Response]]
ConsoleHandler = Callable[["Console", Request], Awaitable[Response]]

_STATUS: Mapping[Reason, int] = {
    Reason.UNKNOWN_ENTRY: 404,
    Reason.NO_REASON: 400,
    Reason.ALREADY_RESOLVED: 409,
}


def when(moment: datetime | str | None) -> str:
    """A time as operators read it everywhere in the console: UTC, to the second."""
    if moment is None:
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("hub.web.console", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["masked"] = mask_text
    env.globals["csrf_field"] = CSRF_FIELD
    return env


_templates = Jinja2Templates(env=_environment())


def session_of(request: Request) -> Session:
    """The logged-in operator's session (the gate let only such requests through)."""
    session = request.scope.get(SESSION_SCOPE_KEY)
    if not isinstance(session, Session):
        raise PermanentError("no session", reason=Reason.UNAUTHENTICATED)
    return session


def form_of(request: Request) -> FormData:
    """The request's form, as the gate read it and checked its CSRF token."""
    form = request.scope.get(FORM_SCOPE_KEY)
    if not isinstance(form, FormData):
        raise PermanentError("no form", reason=Reason.SCHEMA_VIOLATION)
    return form


def page(
    request: Request, name: str, context: Mapping[str, Any] | None = None, status: int = 200
) -> Response:
    session = request.scope.get(SESSION_SCOPE_KEY)
    full = {
        "session": session,
        "csrf_token": session.csrf_token if isinstance(session, Session) else "",
        "path": request.url.path,
        **(context or {}),
    }
    return _templates.TemplateResponse(request, name, full, status_code=status)


def shows_errors(handler: Handler) -> Handler:
    """A `HubError` (the broker away, an unknown entry, a changed plan) becomes an error page
    with its reason code, instead of a server error."""

    @wraps(handler)
    async def handling(request: Request) -> Response:
        try:
            return await handler(request)
        except HubError as exc:
            log.warning("console.refused", path=request.url.path, reason=exc.reason.value)
            status = _STATUS.get(exc.reason, 400 if exc.permanent else 503)
            context = {"reason": exc.reason.value, "detail": mask_text(exc.detail)}
            return page(request, "error.html", context, status=status)

    return handling


def bound(console: Console, handler: ConsoleHandler) -> Handler:
    """`handler` as a route's endpoint: given the console, its errors shown as pages."""
    return shows_errors(partial(handler, console))
