"""Storage of offline summaries: the watermark, the view, and the queries on ``summaries``.

The watermark of a user's data is the id of the user's latest audit entry, the number of the
user's audit entries other than ``add`` (edits, supersedes, merges, forgets, imports) and, when
the summary reads them, the number of the user's messages. Both tables are append-only per user
(only ``forget_user`` deletes from them, and it deletes the summaries too), so an equal
watermark means equal data. Each part is one index probe or a count over a small index (the
partial index of the user's non-``add`` entries), never a count of the user's additions: a
user with a hundred thousand memories pays microseconds, not the tens of milliseconds a count
of all their entries took. On PostgreSQL, an addition whose transaction commits after a later
one can leave a summary written in between looking fresh; it still is not wrong (additions
never make a summary unusable) and the next change marks it stale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel
from sqlmodel import Session, col, delete, func, select

from confidante.memory.items import check_user_id
from confidante.memory.storage.backends import operations_for
from confidante.memory.storage.expiry import has_expired, live
from confidante.memory.storage.records import AuditEntry, Concept, Event, Summary, new_id, utcnow
from confidante.memory.summaries.tasks import TASK_SPECS, check_task

if TYPE_CHECKING:
    from confidante.memory.storage.database import Database


@dataclass(frozen=True)
class Watermark:
    """The version of a user's data that a summary saw.

    Attributes:
        last: The id of the user's latest audit entry (0: none; -1: read from the older
            format, which counted additions instead).
        edits: The user's audit entries other than ``add`` (update, supersede, forget...).
        messages: The user's messages, or None when the summary does not read them.
    """

    last: int
    edits: int
    messages: int | None = None

    def __str__(self) -> str:
        text = f"last={self.last};edits={self.edits}"
        return text if self.messages is None else f"{text};messages={self.messages}"

    @classmethod
    def parse(cls, text: str) -> Watermark | None:
        """Read a stored watermark (None if it is in no known format)."""
        try:
            fields = dict(part.split("=", 1) for part in text.split(";"))
            messages = fields.get("messages")
            if "last" in fields:
                last = int(fields["last"])
            else:  # the older format: ``adds=N`` (a count of additions), never equal to now
                int(fields["adds"])
                last = -1
            return cls(last, int(fields["edits"]), int(messages) if messages else None)
        except (KeyError, ValueError):
            return None


class SummaryView(BaseModel):
    """A stored summary as returned to callers.

    Attributes:
        user_id: The owner.
        task: ``chat``, ``recommendation``, ``search`` or ``image``.
        text: The summary.
        model: The chat model that wrote it.
        created_at: When it was written.
        watermark: The data version it was built from.
        stale: The user's data changed since (a batch job will refresh it).
        usable: Nothing it was built from was edited, superseded or forgotten since, so it
            can still go into prompts (additions alone leave it usable).
        expires_at: The soonest expiry among the items it was built from (None: none
            expires). From then on the summary is never returned, like an expired item.
    """

    user_id: str
    task: str
    text: str
    model: str
    created_at: datetime
    watermark: str
    stale: bool = False
    usable: bool = True
    expires_at: datetime | None = None


def current_watermark(session: Session, user_id: str, with_messages: bool) -> Watermark:
    """Return the user's current data version (``with_messages``: count messages too)."""
    mine = col(AuditEntry.user_id) == user_id
    last = session.exec(select(func.max(AuditEntry.id)).where(mine)).one()
    edits = session.exec(
        select(func.count()).select_from(AuditEntry).where(mine, AuditEntry.action != "add")
    ).one()
    messages: int | None = None
    if with_messages:
        messages = session.exec(
            select(func.count())
            .select_from(Event)
            .where(col(Event.user_id) == user_id, Event.role == "user")
        ).one()
    return Watermark(last=int(last or 0), edits=edits, messages=messages)


def soonest_expiry(session: Session, user_id: str) -> datetime | None:
    """The soonest expiry among the user's live items (None: none of them expires)."""
    soonest: datetime | None = session.exec(
        select(func.min(Concept.expires_at)).where(Concept.user_id == user_id, live())
    ).one()
    return soonest


def to_view(row: Summary, current: Watermark) -> SummaryView:
    """Build the view of a stored summary against the user's current watermark."""
    seen = Watermark.parse(row.watermark)
    return SummaryView(
        user_id=row.user_id,
        task=row.task,
        text=row.text,
        model=row.model,
        created_at=row.created_at,
        watermark=row.watermark,
        stale=row.watermark != str(current),
        usable=seen is not None and seen.edits == current.edits,
        expires_at=row.expires_at,
    )


def load_summaries(
    session: Session, user_id: str, tasks: Mapping[str, bool]
) -> dict[str, SummaryView]:
    """Return the stored summaries of ``tasks`` (task → whether it reads messages), by task.

    One query for the rows and one watermark for all of them.
    """
    rows = session.exec(
        select(Summary).where(Summary.user_id == user_id, col(Summary.task).in_(list(tasks)))
    ).all()
    now = utcnow()
    rows = [row for row in rows if not has_expired(row.expires_at, now)]  # as items: never read
    if not rows:
        return {}
    current = current_watermark(session, user_id, any(tasks[row.task] for row in rows))
    plain = replace(current, messages=None)
    return {row.task: to_view(row, current if tasks[row.task] else plain) for row in rows}


def store_summary(session: Session, view: SummaryView) -> None:
    """Insert or replace the user's summary for the view's task (one atomic upsert)."""
    values: dict[str, Any] = {
        "text": view.text,
        "watermark": view.watermark,
        "model": view.model,
        "created_at": view.created_at,
        "expires_at": view.expires_at,
    }
    row = {"id": new_id(), "user_id": view.user_id, "task": view.task, **values}
    table: Any = Summary.__table__  # type: ignore[attr-defined]
    operations_for(session.get_bind()).upsert(
        session, table, row, keys=["user_id", "task"], update=list(values)
    )


def delete_summary(session: Session, user_id: str, task: str) -> None:
    """Delete the user's summary for a task, if any."""
    session.exec(delete(Summary).where(col(Summary.user_id) == user_id, col(Summary.task) == task))


async def read_summary(database: Database, user_id: str, task: str) -> SummaryView | None:
    """Return the user's summary for ``task``, or None if none was generated."""
    return (await read_summaries(database, user_id, [task])).get(task)


async def read_summaries(
    database: Database, user_id: str, tasks: Sequence[str]
) -> dict[str, SummaryView]:
    """Return the user's summaries of ``tasks`` that were generated, by task (one round trip)."""
    check_user_id(user_id)
    flags = {task: TASK_SPECS[check_task(task)].messages > 0 for task in tasks}
    return await database.run(lambda session: load_summaries(session, user_id, flags), write=False)
