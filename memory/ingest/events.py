"""The raw turn log of the memory: every message is stored before anything is derived from it.

:class:`EventLog` is a part of :class:`~confidante.memory.store.Memory`. A turn's
``extraction`` status records what became of it: ``pending`` (stored, not yet processed),
``done``, ``skipped`` (nothing to learn, e.g. a request for a task) or ``failed`` (with the
error), so failures are visible and can be retried.

Tools log their own events here too (the recommender's ``interaction`` events, see
:mod:`confidante.tools.recommend.interactions`): being events of the user, they share the
memory's isolation, export and ``forget_user``. Tools write them with
:meth:`EventLog.arecord_events`, read them back with :meth:`EventLog.atimeline` and read the
user's chat with :meth:`EventLog.arecent_messages`, so no tool needs the ``events`` table.
Reads over several users live in :mod:`confidante.memory.bulk_reads`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlalchemy import insert
from sqlmodel import Session, col, func, select

from confidante._sync import sync_twin
from confidante.errors import InvalidInputError, NotFoundError
from confidante.memory._core import MemoryCore
from confidante.memory.items import _storable_id, check_label, check_text, check_user_id, shown
from confidante.memory.storage.records import Event, new_id, utcnow

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
        raise NotFoundError(f"no event {shown(event_id)} for this user")
    event.extraction = status
    event.error = error.replace("\x00", "\ufffd") if error else error
    session.add(event)


#: The extraction statuses an event can have (see the module docstring).
EXTRACTION_STATUSES = ("pending", "done", "skipped", "failed")


@dataclass(frozen=True)
class NewEvent:
    """An event to store with :meth:`EventLog.arecord_events`.

    Attributes:
        role: Who or what produced it (``user``, ``assistant``, a tool's own role).
        text: Its content (a tool may store JSON text).
        session_id: The session it belongs to.
        extraction: Its initial extraction status; ``skipped`` keeps fact extraction from
            reading it as a chat turn.
        source_id: What it is about, for the caller (e.g. a catalog item id).
        occurred_at: When it happened, when that differs from when it is stored.
    """

    role: str
    text: str
    session_id: str = "default"
    extraction: str = "pending"
    source_id: str | None = None
    occurred_at: datetime | None = None


@dataclass(frozen=True)
class LoggedEvent:
    """A stored event as the log's lightweight reads return it.

    Attributes:
        user_id: Its owner (the user the read named, or each user of a set-level read).
        text: Its content.
        at: When it happened: ``occurred_at`` when set, else when it was stored.
    """

    user_id: str
    text: str
    at: datetime


def read_logged_events(
    session: Session, user_ids: Sequence[str] | None, role: str
) -> list[LoggedEvent]:
    """Events of one role, per user oldest first (by occurrence, then storage, then id).

    ``user_ids`` None reads every user's: the callers that may (set-level reads for global
    models, :mod:`confidante.memory.bulk_reads`) say so in their names.
    """
    query: Any = select(Event.user_id, Event.text, Event.occurred_at, Event.created_at).where(
        Event.role == role
    )
    if user_ids is not None:
        if not user_ids:
            return []
        query = query.where(
            col(Event.user_id) == user_ids[0]
            if len(user_ids) == 1
            else col(Event.user_id).in_(list(user_ids))
        )
    query = query.order_by(col(Event.occurred_at), col(Event.created_at), col(Event.id))
    return [
        LoggedEvent(user_id, text, occurred or created)
        for user_id, text, occurred, created in session.exec(query).all()
    ]


def read_recent_messages(session: Session, user_id: str, limit: int) -> list[LoggedEvent]:
    """The user's ``limit`` latest chat messages (events of role ``user``), newest first."""
    if limit <= 0:
        return []
    rows = session.exec(
        select(Event.text, Event.occurred_at, Event.created_at)
        .where(Event.user_id == user_id, Event.role == "user")
        .order_by(col(Event.created_at).desc(), col(Event.id))
        .limit(limit)
    ).all()
    return [LoggedEvent(user_id, text, occurred or created) for text, occurred, created in rows]


def check_event(event: NewEvent) -> NewEvent:
    """Validate an event to store; returns it with its text stripped.

    Raises:
        InvalidInputError: Empty or over-long text, a label that does not fit its column,
            or an unknown extraction status.
    """
    check_label(event.role, "role", 32)
    check_label(event.session_id, "session_id", 200)
    if event.extraction not in EXTRACTION_STATUSES:
        raise InvalidInputError(f"extraction must be one of {', '.join(EXTRACTION_STATUSES)}")
    if event.source_id is not None:
        check_label(event.source_id, "source_id", 200)
    return replace(event, text=check_text(event.text, "event text"))


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
        """Store a raw turn before anything is derived from it; returns the event id.

        A secret in the text is handled by the memory's ``secret_policy`` first (see
        :mod:`confidante.memory.secrets`): replaced by a placeholder, or refused.
        """
        check_user_id(user_id)
        text = self._screened(check_text(text, "message"), "message")
        check_label(role, "role", 32)
        check_label(session_id, "session_id", 200)

        def write(session: Session) -> str:
            self._ensure_user(session, user_id)
            event = Event(user_id=user_id, session_id=session_id, role=role, text=text)
            session.add(event)
            return event.id

        return await self.database.run(write)

    async def arecord_events(self, user_id: str, events: Sequence[NewEvent]) -> list[str]:
        """Store several events of one user in one transaction; returns their ids, in order.

        Every event is validated before anything is written, so a bad one stores none; secrets
        in their texts follow the memory's ``secret_policy``.

        Raises:
            InvalidInputError: A bad user id or event (see :func:`check_event`).
        """
        check_user_id(user_id)
        checked = [check_event(event) for event in events]
        checked = [replace(e, text=self._screened(e.text, "event text")) for e in checked]

        def write(session: Session) -> list[str]:
            self._ensure_user(session, user_id)
            # One multi-row INSERT, without building ORM objects (100k interactions of a log
            # spent a third of their time constructing them); created_at increases by a
            # microsecond per event, so the order of the batch is the order of its times.
            now = utcnow()
            rows: list[dict[str, Any]] = [
                {
                    "id": new_id(),
                    "user_id": user_id,
                    "session_id": event.session_id,
                    "role": event.role,
                    "text": event.text,
                    "extraction": event.extraction,
                    "source_id": event.source_id,
                    "occurred_at": event.occurred_at,
                    "created_at": now + timedelta(microseconds=number),
                }
                for number, event in enumerate(checked)
            ]
            session.execute(insert(Event), rows)
            return [row["id"] for row in rows]

        return await self.database.run(write) if checked else []

    async def asession_ids(self, user_id: str, limit: int = 100) -> list[str]:
        """Return the sessions the user wrote in, most recently active first.

        A session id is what the turns were recorded with (the agent records its LangGraph
        thread id). Reads the user's own messages only.
        """
        check_user_id(user_id)
        if limit < 1:
            raise InvalidInputError("limit must be at least 1")
        latest = func.max(col(Event.created_at))
        query = (
            select(Event.session_id)
            .where(Event.user_id == user_id, Event.role == "user")
            .group_by(col(Event.session_id))
            .order_by(latest.desc())
            .limit(limit)
        )
        return list(await self.database.run(lambda s: s.exec(query).all(), write=False))

    async def atimeline(self, user_id: str, role: str) -> list[LoggedEvent]:
        """Return the user's events of one role, oldest first by when they happened.

        Args:
            user_id: The owner; no other user's event is read.
            role: The role (e.g. a tool's own, such as ``interaction``).
        """
        check_user_id(user_id)
        check_label(role, "role", 32)
        return await self.database.run(
            lambda session: read_logged_events(session, [user_id], role), write=False
        )

    async def arecent_messages(self, user_id: str, limit: int) -> list[LoggedEvent]:
        """Return the user's ``limit`` latest chat messages (role ``user``), newest first.

        Raises:
            InvalidInputError: A bad user id or a negative ``limit``.
        """
        check_user_id(user_id)
        if limit < 0:
            raise InvalidInputError("limit must not be negative")
        if limit == 0:
            return []
        return await self.database.run(
            lambda session: read_recent_messages(session, user_id, limit), write=False
        )

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
    record_events = sync_twin(arecord_events)
    session_ids = sync_twin(asession_ids)
    timeline = sync_twin(atimeline)
    recent_messages = sync_twin(arecent_messages)
    mark_event = sync_twin(amark_event)
    events = sync_twin(aevents)
