"""The usage of every turn, kept per user so that it can be read per day and per kind.

The table ``confidante_usage`` (:class:`UsageRecord`) lives in the memory database (same URL,
same engine), as the API keys do; :meth:`UsageLog.prepare` creates it when missing. Each turn
adds one row per kind of model call it made (``reply``, ``planning``, ``extraction``...), with
the day (UTC) it ran; :meth:`UsageLog.adaily` sums them per day and kind. Rows are only ever
added, so concurrent turns never contend for a row, and the same statements run on SQLite and
PostgreSQL. Erasing a user (``Agent.forget_user``) erases their rows.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlmodel import Field, Session, SQLModel

from confidante._sync import sync_twin
from confidante.memory.storage.database import Database
from confidante.memory.storage.schema import create_tables
from confidante.memory.store import check_user_id
from confidante.usage import Usage, UsageRecorder

logger = logging.getLogger(__name__)


class UsageRecord(SQLModel, table=True):
    """One kind of model call of one turn: how many calls, tokens and seconds."""

    __tablename__ = "confidante_usage"

    id: str = Field(primary_key=True, max_length=32)
    user_id: str = Field(max_length=200, index=True)
    day: date = Field(index=True)
    kind: str = Field(max_length=20)
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    seconds: float = 0.0


#: The usage table (SQLAlchemy Core), for the statements below.
usage_table: Any = UsageRecord.__table__  # type: ignore[attr-defined]


class DailyUsage(BaseModel):
    """A user's usage of one kind on one day (UTC).

    Attributes:
        day: The day.
        kind: ``reply``, ``routing``, ``planning``, ``extraction``, ``summary`` or ``other``.
        calls: Model calls.
        prompt_tokens: Tokens sent.
        completion_tokens: Tokens generated.
        total_tokens: Their sum.
        seconds: Model seconds.
    """

    day: date
    kind: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    seconds: float


class UsageLog:
    """Record turns' usage and read it per day and kind.

    Args:
        database: The memory database.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self._prepared = False

    def prepare(self) -> None:
        """Create the usage table if it is missing (safe when several processes race)."""
        if not self._prepared:
            create_tables(self.database.engine, [usage_table])
            self._prepared = True

    async def arecord(self, user_id: str, usage: Usage, *, when: datetime | None = None) -> int:
        """Add a turn's usage (one row per kind it used); returns how many rows."""
        check_user_id(user_id)
        self.prepare()
        day = (when or datetime.now(UTC)).astimezone(UTC).date()
        rows = [
            {
                "id": uuid.uuid4().hex,
                "user_id": user_id,
                "day": day,
                "kind": kind,
                "calls": counts.calls,
                "prompt_tokens": counts.prompt_tokens,
                "completion_tokens": counts.completion_tokens,
                "seconds": counts.seconds,
            }
            for kind, counts in usage.by_kind.items()
            if counts.calls
        ]
        if not rows:
            return 0

        def write(session: Session) -> None:
            session.connection().execute(usage_table.insert(), rows)

        await self.database.run(write)
        return len(rows)

    async def akeep(self, user_id: str, recorder: UsageRecorder) -> Usage:
        """Close a turn's recorder and add its usage to the log; returns the usage.

        A background extraction that ends after the turn is not counted. Failing to write the
        log never fails the turn (it is logged as a warning).
        """
        usage = recorder.close()
        try:
            await self.arecord(user_id, usage)
        except Exception as exc:  # noqa: BLE001 - the turn's answer matters more than its log
            logger.warning("could not record the turn's usage: %s", type(exc).__name__)
        return usage

    async def adaily(self, user_id: str, *, days: int = 30) -> list[DailyUsage]:
        """A user's usage per day and kind over the last ``days`` days, oldest first."""
        check_user_id(user_id)
        self.prepare()
        since = datetime.now(UTC).date() - timedelta(days=max(days, 1) - 1)
        table = usage_table
        query = (
            select(
                table.c.day,
                table.c.kind,
                func.sum(table.c.calls).label("calls"),
                func.sum(table.c.prompt_tokens).label("prompt_tokens"),
                func.sum(table.c.completion_tokens).label("completion_tokens"),
                func.sum(table.c.seconds).label("seconds"),
            )
            .where(table.c.user_id == user_id, table.c.day >= since)
            .group_by(table.c.day, table.c.kind)
            .order_by(table.c.day, table.c.kind)
        )

        def read(session: Session) -> list[DailyUsage]:
            return [
                DailyUsage(
                    day=row.day,
                    kind=row.kind,
                    calls=int(row.calls),
                    prompt_tokens=int(row.prompt_tokens),
                    completion_tokens=int(row.completion_tokens),
                    total_tokens=int(row.prompt_tokens) + int(row.completion_tokens),
                    seconds=round(float(row.seconds), 6),
                )
                for row in session.connection().execute(query)
            ]

        return await self.database.run(read, write=False)

    async def adelete_user(self, user_id: str) -> int:
        """Erase a user's usage rows; returns how many."""
        check_user_id(user_id)
        self.prepare()

        def write(session: Session) -> int:
            result = session.connection().execute(
                usage_table.delete().where(usage_table.c.user_id == user_id)
            )
            return int(result.rowcount or 0)

        return await self.database.run(write)

    record = sync_twin(arecord)
    daily = sync_twin(adaily)
    delete_user = sync_twin(adelete_user)


__all__ = ["DailyUsage", "UsageLog", "UsageRecord"]
