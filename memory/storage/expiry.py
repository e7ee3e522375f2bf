"""When a memory item expires: the values callers give, and what reads filter on.

An item may carry an expiry (``Concept.expires_at``), given as a moment (``expires_at=``) or as a
time to live (``ttl=``, a :class:`~datetime.timedelta` or seconds). From that moment on the item
is never returned by any read (retrieval, listings, ``get``, subject facts, slot values, bulk
reads, the export, summaries), and the next sweep
(:meth:`~confidante.memory.sweep.MemorySweep.asweep`) erases it as ``forget`` does.

Times: an aware datetime is converted to UTC; a naive one is taken as UTC, as everywhere in the
memory (see :func:`~confidante.memory.items.as_utc`). A moment that is not in the future, a
TTL that is not positive, or both given at once is refused with
:class:`~confidante.errors.InvalidInputError`.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import ColumnElement, or_
from sqlmodel import col

from confidante.errors import InvalidInputError
from confidante.memory.storage.records import Concept, utcnow

__all__ = [
    "NEVER",
    "TTL",
    "check_expiry",
    "has_expired",
    "later_expiry",
    "live",
]

#: A time to live: a timedelta, or seconds.
TTL = timedelta | float | int
#: What ``aupdate(..., expires_at=NEVER)`` takes to remove an item's expiry.
NEVER: Literal["never"] = "never"


def _utc(moment: datetime) -> datetime:
    """``moment`` in UTC, a naive one taken as UTC (as :func:`confidante.memory.items.as_utc`)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def check_expiry(
    expires_at: datetime | None = None, ttl: TTL | None = None, *, now: datetime | None = None
) -> datetime | None:
    """Return the UTC moment an item expires (None: never), from a moment or a TTL.

    Args:
        expires_at: When the item expires; naive means UTC.
        ttl: How long from ``now`` it lives: a timedelta or seconds.
        now: The current time (default: now).

    Raises:
        InvalidInputError: Both are given, the moment is not in the future, the TTL is not
            positive or not a number, or the moment is not a datetime.
    """
    if expires_at is not None and ttl is not None:
        raise InvalidInputError("give expires_at or ttl, not both")
    now = now or utcnow()
    if ttl is not None:
        if isinstance(ttl, bool) or not isinstance(ttl, timedelta | float | int):
            raise InvalidInputError(f"ttl must be a timedelta or seconds, not {ttl!r}")
        seconds = ttl.total_seconds() if isinstance(ttl, timedelta) else float(ttl)
        if not math.isfinite(seconds) or seconds <= 0:
            raise InvalidInputError(f"ttl must be a positive duration, not {ttl!r}")
        try:
            return now + timedelta(seconds=seconds)
        except OverflowError as exc:
            raise InvalidInputError(f"ttl {ttl!r} is too long") from exc
    if expires_at is None:
        return None
    if not isinstance(expires_at, datetime):
        raise InvalidInputError(f"expires_at must be a datetime, not {expires_at!r}")
    moment = _utc(expires_at)
    if moment <= now:
        raise InvalidInputError(
            f"expires_at {moment.isoformat()} is not in the future (now is {now.isoformat()})"
        )
    return moment


def has_expired(expires_at: datetime | None, now: datetime | None = None) -> bool:
    """Whether an item with this expiry has expired (naive stored times are UTC)."""
    return expires_at is not None and _utc(expires_at) <= (now or utcnow())


def later_expiry(first: datetime | None, second: datetime | None) -> datetime | None:
    """The later of two expiries, None (never) beating any moment.

    When a write meets an item that says the same (same text, or a near-duplicate), the item
    keeps the longer life of the two: remembering again never shortens what was kept.
    """
    if first is None or second is None:
        return None
    return max(_utc(first), _utc(second))


def live(now: datetime | None = None) -> ColumnElement[bool]:
    """The SQL condition of items that have not expired at ``now`` (default: now)."""
    column: Any = col(Concept.expires_at)
    return or_(column.is_(None), column > (now or utcnow()))
