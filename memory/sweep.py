"""The sweep: erase expired items, and raw turns older than the deployment keeps them.

:class:`MemorySweep` is a part of :class:`~confidante.memory.store.Memory`. ``confidante sweep``
runs it, and so does ``confidante summarize``'s job before it writes summaries
(:class:`~confidante.memory.summaries.job.SummaryJob`).

- **Expiry.** Every item whose ``expires_at`` has passed (:mod:`confidante.memory.storage.expiry`)
  is erased as ``forget`` erases one: its row, vectors, image file and full-text words go, its
  audit trail is redacted and ends with an ``expire`` entry. Expired items are never read even
  before the sweep; the sweep is what removes them from the database files.
- **Retention of raw turns.** With ``keep_turns_days`` (``Settings.keep_turns_days``,
  ``CONFIDANTE_KEEP_TURNS_DAYS``; default: keep forever), every raw conversation turn stored
  more than that many days ago is deleted, with the ``turn`` and ``episode`` items derived from
  them (verbatim copies of the turns, erased as ``forget`` does, audited ``retention``). A turn
  is an event of role ``user`` or ``assistant`` (:data:`TURN_ROLES`: chat messages) or an
  observed conversation turn (one with a position in its session, whatever its speaker's role).
  Other events stay: the recommender's ``interaction`` events and whatever else a tool logs
  with a role of its own are not turns, and tools' own tables are never touched. The facts
  learned from erased turns stay: each erased turn in their provenance becomes
  ``erased:<turn id>`` (:data:`ERASED_SOURCE`), and an audit entry ``source_erased`` records
  the change.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, delete, select

from confidante._sync import sync_twin
from confidante.errors import InvalidInputError
from confidante.memory.ingest.episodes import EPISODE_KIND, TURN_KIND
from confidante.memory.items import check_user_id
from confidante.memory.storage.editing import MemoryEdits
from confidante.memory.storage.records import AuditEntry, Concept, Event, utcnow

__all__ = [
    "ERASED_SOURCE",
    "TURN_ROLES",
    "MemorySweep",
    "SweepReport",
    "erased_source",
    "is_conversation_turn",
    "is_erased_source",
]

#: How a provenance entry says that the turn it names was erased by the retention of turns.
ERASED_SOURCE = "erased:"
#: The roles of the events that are conversation messages (what the chat records).
TURN_ROLES = ("user", "assistant")
#: Items that copy turns word for word: erased with the turns they copy.
_COPY_KINDS = frozenset({TURN_KIND, EPISODE_KIND})
#: Turns deleted per statement (well under every backend's limit on bound parameters).
_CHUNK = 500


def erased_source(source: str) -> str:
    """The provenance entry of an erased source (``erased:<id>``)."""
    return source if is_erased_source(source) else f"{ERASED_SOURCE}{source}"


def is_erased_source(source: str) -> bool:
    """Whether a provenance entry names a source that was erased."""
    return source.startswith(ERASED_SOURCE)


def is_conversation_turn() -> ColumnElement[bool]:
    """The SQL condition of the events that are raw conversation turns (see the module).

    A chat message (role in :data:`TURN_ROLES`) or an observed turn (it has a ``position``);
    never a tool's events, such as the recommender's ``interaction`` ones.
    """
    return or_(col(Event.role).in_(TURN_ROLES), col(Event.position).is_not(None))


class SweepReport(BaseModel):
    """What one sweep erased.

    Attributes:
        expired: Items erased because they expired.
        turns: Raw conversation turns (events) erased by the retention setting.
        copies: ``turn`` and ``episode`` items erased with those turns.
        marked: Items whose provenance now says a source of theirs was erased.
    """

    expired: int = 0
    turns: int = 0
    copies: int = 0
    marked: int = 0


def _check_days(keep_turns_days: float | None) -> float | None:
    if keep_turns_days is None:
        return None
    if isinstance(keep_turns_days, bool) or not isinstance(keep_turns_days, int | float):
        raise InvalidInputError(f"keep_turns_days must be a number, not {keep_turns_days!r}")
    if not 0 < keep_turns_days < 1_000_000:
        raise InvalidInputError(f"keep_turns_days must be positive, not {keep_turns_days!r}")
    return float(keep_turns_days)


class MemorySweep(MemoryEdits):
    """Erase expired items and raw turns past their retention (a part of ``Memory``)."""

    async def asweep(
        self,
        *,
        keep_turns_days: float | None = None,
        users: Sequence[str] | None = None,
    ) -> SweepReport:
        """Erase every expired item, and the raw turns stored more than ``keep_turns_days`` ago.

        Args:
            keep_turns_days: How many days raw turns are kept (None: forever; see the module
                docstring for what goes with them and what stays).
            users: Only these users (default: every user).

        Raises:
            InvalidInputError: ``keep_turns_days`` is not a positive number.
        """
        days = _check_days(keep_turns_days)
        wanted = None if users is None else [check_user_id(user) for user in users]
        now = utcnow()
        report = SweepReport()
        for user_id, ids in (await self._expired_items(now, wanted)).items():
            report.expired += await self._erase(user_id, ids, "expire")
        if days is not None:
            cutoff = now - timedelta(days=days)
            for user_id, turns in (await self._old_turns(cutoff, wanted)).items():
                copies, turns_erased, marked = await self._erase_turns(user_id, turns)
                report.copies += copies
                report.turns += turns_erased
                report.marked += marked
        return report

    async def _expired_items(
        self, now: datetime, users: Sequence[str] | None
    ) -> dict[str, list[str]]:
        """The ids of expired items, by user."""
        query: Any = select(Concept.user_id, Concept.id).where(
            col(Concept.expires_at).is_not(None), col(Concept.expires_at) <= now
        )
        if users is not None:
            query = query.where(col(Concept.user_id).in_(list(users)))
        rows = await self.database.run(lambda session: session.exec(query).all(), write=False)
        found: dict[str, list[str]] = defaultdict(list)
        for user_id, item_id in rows:
            found[str(user_id)].append(str(item_id))
        return found

    async def _old_turns(
        self, cutoff: datetime, users: Sequence[str] | None
    ) -> dict[str, dict[str, str]]:
        """Turns stored before ``cutoff``, by user: event id → the id items cite for it.

        Only conversation turns (:func:`is_conversation_turn`): other events are kept.
        """
        query: Any = select(Event.user_id, Event.id, Event.source_id).where(
            col(Event.created_at) < cutoff, is_conversation_turn()
        )
        if users is not None:
            query = query.where(col(Event.user_id).in_(list(users)))
        rows = await self.database.run(lambda session: session.exec(query).all(), write=False)
        found: dict[str, dict[str, str]] = defaultdict(dict)
        for user_id, event_id, source_id in rows:
            found[str(user_id)][str(event_id)] = str(source_id or event_id)
        return found

    async def _erase_turns(self, user_id: str, turns: dict[str, str]) -> tuple[int, int, int]:
        """Erase a user's turns and their copies, and mark the facts learned from them.

        Returns how many copies, turns and marked items. Copies go first: a sweep that stops
        half-way finds the turns again next time.
        """
        cited = {*turns, *turns.values()}

        def read(session: Session) -> list[tuple[str, str]]:
            rows: Any = session.exec(
                select(Concept.id, Concept.kind, Concept.provenance).where(
                    Concept.user_id == user_id, col(Concept.kind).in_(list(_COPY_KINDS))
                )
            ).all()
            return [(str(r[0]), str(r[1])) for r in rows if cited & set(r[2] or [])]

        copies = [item_id for item_id, _ in await self.database.run(read, write=False)]
        erased_copies = await self._erase(user_id, copies, "retention") if copies else 0

        def write(session: Session) -> tuple[int, int]:
            self._ensure_user(session, user_id)
            marked = 0
            learned = session.exec(select(Concept).where(Concept.user_id == user_id)).all()
            for concept in learned:
                sources = list(concept.provenance or [])
                if not cited & set(sources):
                    continue
                concept.provenance = [erased_source(s) if s in cited else s for s in sources]
                session.add(concept)
                session.add(
                    AuditEntry(
                        user_id=user_id,
                        concept_id=concept.id,
                        action="source_erased",
                        after={"erased_sources": sum(s in cited for s in sources)},
                    )
                )
                marked += 1
            deleted = 0
            ids = list(turns)
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                result = session.exec(
                    delete(Event).where(col(Event.user_id) == user_id, col(Event.id).in_(chunk))
                )
                deleted += int(result.rowcount or 0)
            return deleted, marked

        erased_turns, marked = await self.database.run(write)
        await asyncio.to_thread(self.database.truncate_wal)
        return erased_copies, erased_turns, marked

    sweep = sync_twin(asweep)
