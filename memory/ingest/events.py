"""The raw turn log of the memory: every message is stored before anything is derived from it.

:class:`EventLog` is a part of :class:`~confidante.memory.store.Memory`. A turn's
``extraction`` status records what became of it: ``pending`` (stored, not yet processed),
``done``, ``skipped`` (nothing to learn, e.g. a request for a task) or ``failed`` (with the
error), so failures are visible and can be retried.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from confidante._sync import sync_twin
from confidante.errors import NotFoundError
from confidante.memory._core import MemoryCore
from confidante.memory.items import _storable_id, check_label, check_text, check_user_id
from confidante.memory.storage.records import Event

if TYPE_CHECKING:
    pass


def set_extraction(
    session: Session, user_id: str, event_id: str, status: str, error: str | None = None
) -> None:
    """Set a stored turn's extraction status in the caller's transaction.

    Raises:
        NotFoundError: The user has no such turn.
    """
    event = session.get(Event, event_id) if _storable_id(event_id) else None
    if event is None or event.user_id != user_id:
        raise NotFoundError(f"no event {event_id!r} for this user")
    event.extraction = status
    event.error = error.replace("\x00", "\ufffd") if error else error
    session.add(event)


class EventView(BaseModel):
    """A stored turn as returned to callers."""

    id: str
    role: str
    text: str
    session_id: str
    extraction: str
    error: str | None = None
    created_at: datetime


class EventLog(MemoryCore):
    """Record turns and the outcome of learning from them (mixed into ``Memory``)."""

    async def arecord_event(
        self, user_id: str, role: str, text: str, *, session_id: str = "default"
    ) -> str:
        """Store a raw turn before anything is derived from it; returns the event id."""
        check_user_id(user_id)
        text = check_text(text, "message")
        check_label(role, "role", 32)
        check_label(session_id, "session_id", 200)

        def write(session: Session) -> str:
            self._ensure_user(session, user_id)
            event = Event(user_id=user_id, session_id=session_id, role=role, text=text)
            session.add(event)
            return event.id

        return await self.database.run(write)

    async def amark_event(
        self, user_id: str, event_id: str, status: str, error: str | None = None
    ) -> None:
        """Record the outcome of fact extraction for an event (``done`` or ``failed``)."""
        check_label(status, "status", 16)
        await self.database.run(
            lambda session: set_extraction(session, user_id, event_id, status, error)
        )

    async def aevents(
        self,
        user_id: str,
        *,
        extraction: Sequence[str] | None = None,
        role: str | None = None,
        limit: int = 100,
        before: datetime | None = None,
    ) -> list[EventView]:
        """Return the user's stored turns, oldest first, optionally by extraction status.

        Args:
            user_id: The owner.
            extraction: Only turns with one of these extraction statuses.
            role: Only turns of this role.
            limit: At most this many.
            before: Only turns stored before this time.
        """
        check_user_id(user_id)

        def read(session: Session) -> list[EventView]:
            query: Any = select(Event).where(Event.user_id == user_id)
            if before is not None:
                query = query.where(col(Event.created_at) < before)
            if extraction:
                query = query.where(col(Event.extraction).in_(list(extraction)))
            if role:
                query = query.where(Event.role == role)
            rows = session.exec(query.order_by(col(Event.created_at)).limit(limit)).all()
            return [EventView.model_validate(row, from_attributes=True) for row in rows]

        return await self.database.run(read, write=False)

    record_event = sync_twin(arecord_event)
    mark_event = sync_twin(amark_event)
    events = sync_twin(aevents)
