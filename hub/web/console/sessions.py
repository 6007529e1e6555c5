"""Operators' console sessions, kept in the hub process's memory.

The cookie holds only a random 256-bit token; the session (who, its CSRF token, when it began
and was last used) stays on the server, found by the token's SHA-256, so logging out ends it
for good and a stolen cookie dies with the session. A session ends after `idle_s` without a
request and at the latest `absolute_s` after login, whatever its use.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Session", "SessionStore"]

# More than any operations team holds open at once; the oldest go first beyond it.
_MAX_SESSIONS = 1_000


@dataclass
class Session:
    operator: str
    csrf_token: str
    started: float
    last_seen: float


class SessionStore:
    def __init__(
        self,
        *,
        idle_s: float,
        absolute_s: float,
        clock: Callable[[], float] = time.monotonic,
        max_sessions: int = _MAX_SESSIONS,
    ) -> None:
        self._idle_s = idle_s
        self._absolute_s = absolute_s
        self._clock = clock
        self._max = max_sessions
        self._sessions: dict[str, Session] = {}

    def open(self, operator: str) -> tuple[str, Session]:
        """A new session for `operator`: the cookie's token, and the session."""
        self._forget_expired()
        while len(self._sessions) >= self._max:
            del self._sessions[next(iter(self._sessions))]  # the oldest: dicts keep order
        token = secrets.token_urlsafe(32)
        now = self._clock()
        session = Session(operator, secrets.token_urlsafe(32), started=now, last_seen=now)
        self._sessions[_digest(token)] = session
        return token, session

    def get(self, token: str | None) -> Session | None:
        """The live session of `token`, marked as used now; None when there is none."""
        if not token:
            return None
        key = _digest(token)
        session = self._sessions.get(key)
        if session is None:
            return None
        now = self._clock()
        if self._expired(session, now):
            del self._sessions[key]
            return None
        session.last_seen = now
        return session

    def close(self, token: str | None) -> Session | None:
        """End the session of `token`; returns it, or None when there was none."""
        return self._sessions.pop(_digest(token), None) if token else None

    def _expired(self, session: Session, now: float) -> bool:
        return now - session.last_seen >= self._idle_s or now - session.started >= self._absolute_s

    def _forget_expired(self) -> None:
        now = self._clock()
        for key in [k for k, s in self._sessions.items() if self._expired(s, now)]:
            del self._sessions[key]


def _digest(token: str) -> str:
    # Looked up by digest: the lookup's timing says nothing about a real token's bytes.
    return hashlib.sha256(token.encode("utf-8", errors="replace")).hexdigest()
