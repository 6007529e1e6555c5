"""Who may log in to the console, and how often anyone may try."""

from __future__ import annotations

import secrets
from collections import OrderedDict
from collections.abc import Callable, Mapping
from functools import lru_cache

from starlette.concurrency import run_in_threadpool

from hub.passwords import hash_password, verify_password
from hub.settings import DEV_CONSOLE_PASSWORD, DEV_CONSOLE_USER, HubSettings
from hub.web.ratelimit import TokenBucket

__all__ = ["Credentials", "LoginLimiter"]

# Clients and usernames tracked at once; beyond it the longest-unused bucket is dropped (a
# dropped bucket starts full again, so this bounds memory, not the rate of any busy client).
_MAX_BUCKETS = 10_000


class Credentials:
    """The operators and their password hashes, from the settings (or the dev login)."""

    def __init__(self, users: Mapping[str, str]) -> None:
        self._users = dict(users)

    @classmethod
    def from_settings(cls, settings: HubSettings) -> Credentials:
        if settings.dev_console_login:
            return cls({DEV_CONSOLE_USER: _dev_hash()})
        return cls({name: h.get_secret_value() for name, h in settings.console.users.items()})

    def known(self, username: str) -> bool:
        return username in self._users

    async def check(self, username: str, password: str) -> bool:
        """True for a known user with the right password. An unknown name costs as much time
        as a known one, so the answer's timing does not tell which names exist."""
        hashed = self._users.get(username)
        matches = await run_in_threadpool(verify_password, hashed or _decoy_hash(), password)
        return matches and hashed is not None


class LoginLimiter:
    """Token buckets per client address and per username: an attempt must find a token in both."""

    def __init__(
        self, per_minute: float, burst: int, *, clock: Callable[[], float] | None = None
    ) -> None:
        self._rate = per_minute / 60.0
        self._burst = burst
        self._clock = clock
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def wait_s(self, client: str, username: str) -> float:
        """0.0 when this attempt may go ahead (and is counted); else seconds until one may."""
        waits = [self._bucket(f"client:{client}").take(), self._bucket(f"user:{username}").take()]
        return max(waits)

    def _bucket(self, key: str) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            extra = {"clock": self._clock} if self._clock else {}
            bucket = self._buckets[key] = TokenBucket(self._rate, self._burst, **extra)
            while len(self._buckets) > _MAX_BUCKETS:
                self._buckets.popitem(last=False)
        self._buckets.move_to_end(key)
        return bucket


@lru_cache(maxsize=1)
def _dev_hash() -> str:
    return hash_password(DEV_CONSOLE_PASSWORD)


@lru_cache(maxsize=1)
def _decoy_hash() -> str:
    # A hash of a random value nobody knows, with the same costs as the real ones.
    return hash_password(secrets.token_urlsafe(16))
