"""A journal of side-effecting tool calls, so that a completed call is never run twice.

The graph records a call's outcome in its checkpoint (``completed``), but a process can die
after the tool returned and before that checkpoint is written (with ``durability="async"``
the write finishes a few milliseconds later). The journal closes that window: the ``act``
node marks the call ``started`` in the memory database before calling, and ``done`` with its
result after. Replaying the step then finds the call:

- ``done``: its journaled result is used, the tool is not called;
- ``started`` only: the process stopped during the call, so whether it took effect is
  unknown; it is reported as a failed step and not run again (the user decides).

A call is identified by its user, thread, turn (the stored raw turn's id) and signature
(tool and arguments), so the same request in a later turn runs again as it should. A graph
whose turns store no raw turn (``recall`` replaced) has nothing to tie a call to a turn, so
its calls are not journaled.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from sqlmodel import Session

from confidante.memory.storage.database import Database, insert_if_absent
from confidante.memory.storage.records import ToolCall

__all__ = ["INTERRUPTED_OUTPUT", "ToolJournal", "call_key"]

#: The failed result of a call whose process stopped before it returned.
INTERRUPTED_OUTPUT = (
    "the process stopped during this call, so it was not run again; "
    "check whether it took effect before asking for it again"
)


def call_key(user_id: str, thread_id: str, turn_id: str, tool: str, args: dict[str, Any]) -> str:
    """Return the journal key of one call (a SHA-256 hex digest)."""
    payload = json.dumps([user_id, thread_id, turn_id, tool, args], sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


class ToolJournal:
    """Journal entries of side-effecting calls, in the memory database."""

    def __init__(self, database: Database) -> None:
        self.database = database

    async def alookup(self, user_id: str, key: str) -> ToolCall | None:
        """Return the user's entry for ``key``, if any."""

        def read(session: Session) -> ToolCall | None:
            entry = session.get(ToolCall, key)
            return entry if entry is not None and entry.user_id == user_id else None

        return await self.database.run(read, write=False)

    async def aclaim(self, user_id: str, key: str, tool: str) -> ToolCall | None:
        """Mark the call ``started`` unless it has an entry; return that entry, if any.

        One write transaction that inserts the entry unless its key exists (``ON CONFLICT DO
        NOTHING``): of two processes replaying the same step, only one claims it, also on
        PostgreSQL where both could otherwise find no entry and insert.
        """

        def write(session: Session) -> ToolCall | None:
            if insert_if_absent(session, ToolCall(key=key, user_id=user_id, tool=tool)):
                return None
            return session.get(ToolCall, key)

        return await self.database.run(write)

    async def afinish(self, user_id: str, key: str, result: dict[str, Any]) -> None:
        """Record the call's result on its claimed entry.

        Nothing is written if the entry is gone (``forget_user`` ran during the call): a
        forgotten user's journal is not brought back.
        """

        def write(session: Session) -> None:
            entry = session.get(ToolCall, key)
            if entry is not None and entry.user_id == user_id:
                entry.status, entry.result = "done", dict(result)
                session.add(entry)

        await self.database.run(write)
