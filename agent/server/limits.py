"""Per-key rate and concurrency limits, so one API key cannot starve the other users.

:class:`KeyLimitMiddleware` counts each request under its bearer key (a SHA-256 of it: the key
itself is not kept) before the body is read:

- at most ``per_minute`` requests in any 60 seconds (a moving window of the ``limits``
  library), else 429 ``rate_limited`` with ``Retry-After`` the seconds until one is allowed;
- at most ``concurrent`` requests in progress, a streamed reply counting until its last chunk,
  else 429 ``too_many_concurrent_requests`` with ``Retry-After: 1``.

Requests without a bearer key (the page, ``/healthz``) are not counted; authentication answers
them. The admin API (``/v1/admin/``) is exempt: its one key is the operator's. A key that turns
out invalid is counted too, which also slows guessing. Counts live in the process's memory.
"""

from __future__ import annotations

import hashlib
import math
import time

from limits import RateLimitItemPerMinute
from limits.aio.storage import MemoryStorage
from limits.aio.strategies import MovingWindowRateLimiter
from starlette.types import ASGIApp, Receive, Scope, Send

from confidante.server.errors import error_response

#: Paths the per-key limits do not apply to.
EXEMPT_PREFIXES = ("/v1/admin/",)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or []:
        if name == b"authorization":
            scheme, _, token = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return hashlib.sha256(token.strip().encode()).hexdigest()
    return None


class KeyLimitMiddleware:
    """Refuse a key's requests over its rate or concurrency limit with 429 (ASGI middleware).

    Args:
        app: The application.
        per_minute: Requests per key in any 60 seconds (0: no limit).
        concurrent: Requests per key in progress at once (0: no limit).
    """

    def __init__(self, app: ASGIApp, per_minute: int, concurrent: int) -> None:
        self.app = app
        self.rate = RateLimitItemPerMinute(per_minute) if per_minute > 0 else None
        self.concurrent = concurrent
        self.limiter = MovingWindowRateLimiter(MemoryStorage())
        self.active: dict[str, int] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Count the request under its key; refuse it or pass it on."""
        path = str(scope.get("path", ""))
        key = _bearer(scope) if scope["type"] == "http" else None
        if key is None or path.startswith(EXEMPT_PREFIXES):
            await self.app(scope, receive, send)
            return
        if self.concurrent and self.active.get(key, 0) >= self.concurrent:
            message = (
                f"this key already has {self.concurrent} requests in progress "
                "(CONFIDANTE_MAX_CONCURRENT_PER_KEY); wait for one to finish"
            )
            await self._refuse(scope, receive, send, "too_many_concurrent_requests", message, 1)
            return
        if self.rate is not None and not await self.limiter.hit(self.rate, key):
            stats = await self.limiter.get_window_stats(self.rate, key)
            wait = max(1, math.ceil(stats.reset_time - time.time()))
            message = (
                f"this key made {self.rate.amount} requests in the last minute "
                f"(CONFIDANTE_RATE_LIMIT_PER_MINUTE); retry in {wait} s"
            )
            await self._refuse(scope, receive, send, "rate_limited", message, wait)
            return
        self.active[key] = self.active.get(key, 0) + 1
        try:
            await self.app(scope, receive, send)
        finally:
            left = self.active[key] - 1
            if left:
                self.active[key] = left
            else:
                del self.active[key]

    @staticmethod
    async def _refuse(
        scope: Scope, receive: Receive, send: Send, code: str, message: str, wait: int
    ) -> None:
        response = error_response(429, code, message, headers={"Retry-After": str(wait)})
        await response(scope, receive, send)
