"""Interactions with catalog items, stored as memory events of the user.

An interaction (``viewed``, ``rated``, ``accepted``, ``rejected``, ``owned``) is an
:class:`~confidante.memory.storage.records.Event` of its user with role ``interaction``: the item id
in ``source_id``, the time in ``occurred_at``, and ``{"action", "item", "rating"}`` as JSON
text. Being events, interactions share the memory's isolation (every read names its user)
and ``Memory.forget_user`` deletes them. They are marked ``skipped`` so that fact extraction
never reads them as chat turns.

:func:`aload_all` is the one cross-user read: it feeds the collaborative model, whose output
for a user is an aggregate over everyone (co-occurrence weights), never another user's rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlmodel import Session, col, func, select

from confidante.errors import InvalidInputError
from confidante.memory.items import check_user_id
from confidante.memory.storage.database import Database, insert_if_absent
from confidante.memory.storage.records import Event, UserRecord, utcnow

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
    database: Database,
    user_id: str,
    interactions: Sequence[tuple[str, str, float | None, datetime | None]],
) -> int:
    """Store ``(action, item, rating, when)`` interactions of one user; returns how many.

    Every interaction is validated before anything is written.
    """
    check_user_id(user_id)
    for action, item, rating, _ in interactions:
        _check(action, item, rating)

    def write(session: Session) -> int:
        insert_if_absent(session, UserRecord(id=user_id))
        for action, item, rating, when in interactions:
            text = json.dumps({"action": action, "item": item, "rating": rating})
            session.add(
                Event(
                    user_id=user_id,
                    session_id=SESSION,
                    role=ROLE,
                    text=text,
                    extraction="skipped",
                    source_id=item,
                    occurred_at=when or utcnow(),
                )
            )
        return len(interactions)

    return await database.run(write)


def _parse(event: Event) -> Interaction | None:
    try:
        data = json.loads(event.text)
    except json.JSONDecodeError:
        return None
    when = event.occurred_at or event.created_at
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return Interaction(str(data["item"]), str(data["action"]), when, data.get("rating"))


def _query(user_id: str | None) -> object:
    query = select(Event).where(Event.role == ROLE)
    if user_id is not None:
        query = query.where(Event.user_id == user_id)
    return query.order_by(col(Event.occurred_at), col(Event.created_at), col(Event.id))


async def aload(database: Database, user_id: str) -> list[Interaction]:
    """Return one user's interactions, oldest first."""
    check_user_id(user_id)

    def read(session: Session) -> list[Interaction]:
        rows = session.exec(_query(user_id)).all()  # type: ignore[call-overload]
        return [i for i in map(_parse, rows) if i is not None]

    return await database.run(read, write=False)


async def aload_all(database: Database) -> dict[str, list[Interaction]]:
    """Return every user's interactions, oldest first (input of the collaborative model)."""

    def read(session: Session) -> dict[str, list[Interaction]]:
        found: dict[str, list[Interaction]] = {}
        for row in session.exec(_query(None)).all():  # type: ignore[call-overload]
            parsed = _parse(row)
            if parsed is not None:
                found.setdefault(row.user_id, []).append(parsed)
        return found

    return await database.run(read, write=False)


async def aversion(database: Database) -> tuple[int, str]:
    """Return a cheap version of all interactions (count and latest id) for model caching."""

    def read(session: Session) -> tuple[int, str]:
        count = session.exec(
            select(func.count()).select_from(Event).where(Event.role == ROLE)
        ).one()
        latest = session.exec(select(func.max(Event.created_at)).where(Event.role == ROLE)).one()
        return int(count), str(latest)

    return await database.run(read, write=False)
