"""Interactions with catalog items, stored as memory events of the user.

An interaction (``viewed``, ``rated``, ``accepted``, ``rejected``, ``owned``) is an event of its
user in the memory's event log (:mod:`confidante.memory.ingest.events`) with role
``interaction``: the item id in ``source_id``, the time in ``occurred_at``, and
``{"action", "item", "rating"}`` as JSON text. Being events, interactions share the memory's
isolation (every read names its user), its export and ``Memory.forget_user``. They are marked
``skipped`` so that fact extraction never reads them as chat turns.

:func:`aload_all` (with :func:`aversion`, its cache key) is the one all-users read: it feeds the
collaborative model, whose output for a user is an aggregate over everyone (co-occurrence
weights), never another user's rows. :func:`aload_users` reads a named set of users (a
persona's members) in one go.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from confidante.errors import InvalidInputError
from confidante.memory.bulk_reads import BulkReads
from confidante.memory.ingest.events import LoggedEvent, NewEvent
from confidante.memory.items import check_user_id

if TYPE_CHECKING:
    from confidante.memory.store import Memory

ROLE = "interaction"
SESSION = "recommend"
ACTIONS = ("viewed", "rated", "accepted", "rejected", "owned")
#: Actions that put an item in the user's history (what the ranking core reads).
POSITIVE = ("viewed", "rated", "accepted", "owned")
#: Ratings below this (on a 0-5 scale) count as a dislike, not as history.
LOW_RATING = 2.5


@dataclass(frozen=True)
class Interaction:
    """One interaction of a user with a catalog item."""

    item: str
    action: str
    at: datetime
    rating: float | None = None

    @property
    def positive(self) -> bool:
        """Whether the item joins the user's history (a low rating does not)."""
        if self.action == "rated" and self.rating is not None:
            return self.rating >= LOW_RATING
        return self.action in POSITIVE


def _check(action: str, item: str, rating: float | None) -> None:
    if action not in ACTIONS:
        raise InvalidInputError(f"unknown interaction {action!r}; use one of {', '.join(ACTIONS)}")
    if not item or len(item) > 200:
        raise InvalidInputError("an item id is 1 to 200 characters")
    if rating is not None and not 0.0 <= rating <= 10.0:
        raise InvalidInputError("a rating is between 0 and 10")


async def arecord(
    memory: Memory,
    user_id: str,
    interactions: Sequence[tuple[str, str, float | None, datetime | None]],
) -> int:
    """Store ``(action, item, rating, when)`` interactions of one user; returns how many.

    Every interaction is validated before anything is written; all are written in one
    transaction (``Memory.arecord_events``).
    """
    check_user_id(user_id)
    for action, item, rating, _ in interactions:
        _check(action, item, rating)
    events = [
        NewEvent(
            role=ROLE,
            text=json.dumps({"action": action, "item": item, "rating": rating}),
            session_id=SESSION,
            extraction="skipped",
            source_id=item,
            occurred_at=when or datetime.now(UTC),
        )
        for action, item, rating, when in interactions
    ]
    return len(await memory.arecord_events(user_id, events))


def _parse(event: LoggedEvent) -> Interaction | None:
    try:
        data = json.loads(event.text)
    except json.JSONDecodeError:
        return None
    when = event.at if event.at.tzinfo is not None else event.at.replace(tzinfo=UTC)
    return Interaction(str(data["item"]), str(data["action"]), when, data.get("rating"))


def _parsed(by_user: dict[str, list[LoggedEvent]]) -> dict[str, list[Interaction]]:
    found: dict[str, list[Interaction]] = {}
    for user_id, events in by_user.items():
        parsed = [i for i in map(_parse, events) if i is not None]
        if parsed:
            found[user_id] = parsed
    return found


async def aload(memory: Memory, user_id: str) -> list[Interaction]:
    """Return one user's interactions, oldest first."""
    events = await memory.atimeline(user_id, ROLE)
    return [i for i in map(_parse, events) if i is not None]


async def aload_users(memory: Memory, user_ids: Sequence[str]) -> dict[str, list[Interaction]]:
    """Return the named users' interactions, oldest first (users without any are left out)."""
    return _parsed(await BulkReads(memory.database).aevents_of_users(user_ids, ROLE))


async def aload_all(memory: Memory) -> dict[str, list[Interaction]]:
    """Return every user's interactions, oldest first (input of the collaborative model)."""
    return _parsed(await BulkReads(memory.database).aevery_user_events(ROLE))


async def aversion(memory: Memory) -> tuple[int, str]:
    """Return a cheap version of all interactions (count and latest storage time) for caching."""
    mark = await BulkReads(memory.database).aevery_user_event_watermark(ROLE)
    return mark.count, mark.latest
