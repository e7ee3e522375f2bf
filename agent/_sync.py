"""Thin sync wrappers over the async core.

Every public class keeps one async implementation (``aremember``, ``achat``...) and exposes
its sync twin through :func:`sync_twin`. Sync calls run on one long-lived event loop in a
daemon thread, so resources bound to a loop (aiosqlite connections, locks) stay valid from one
sync call to the next, and sync calls also work from code that already runs an event loop
(a notebook, a web handler).
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

from confidante.errors import ConfidanteError

P = ParamSpec("P")
R = TypeVar("R")

_loop: asyncio.AbstractEventLoop | None = None
_lock = threading.Lock()


def _background_loop() -> asyncio.AbstractEventLoop:
    global _loop
    with _lock:
        if _loop is None or _loop.is_closed():
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="confidante-sync", daemon=True)
            thread.start()
            _loop = loop
        return _loop


def run_sync(coroutine: Coroutine[Any, Any, R]) -> R:
    """Run a coroutine to completion on the shared background loop and return its result.

    Raises:
        ConfidanteError: When called from the background loop itself (a sync twin used inside
            a coroutine that a sync twin is running): waiting there would block the loop that
            has to do the work, forever. Await the async method instead.
    """
    loop = _background_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        coroutine.close()
        raise ConfidanteError(
            "a sync method was called from async code running on confidante's own loop; "
            "await its async twin instead (e.g. `await memory.aremember(...)` for `remember`)"
        )
    future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    return future.result()


def sync_twin(method: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """Build the sync twin of an async method (same signature, blocking).

    Example:
        ``remember = sync_twin(aremember)`` inside a class body.
    """

    @functools.wraps(method)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return run_sync(method(*args, **kwargs))

    name = method.__name__.removeprefix("a")
    wrapper.__name__ = name
    owner, _, _ = method.__qualname__.rpartition(".")
    wrapper.__qualname__ = f"{owner}.{name}" if owner else name
    wrapper.__doc__ = f"Sync twin of :meth:`{method.__name__}`.\n\n{method.__doc__ or ''}"
    return wrapper
