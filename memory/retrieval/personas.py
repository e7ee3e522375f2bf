"""Persona membership: which groups a user belongs to, for retrieval fallback.

:class:`PersonaDirectory` is a part of :class:`~confidante.memory.store.Memory`. A persona's
shared memories are stored under the owner id ``@persona:NAME``
(:mod:`confidante.memory.scopes`); membership decides which personas a user's retrieval may
fall back to.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session, col, delete, select

from confidante._sync import sync_twin
from confidante.memory._core import MemoryCore
from confidante.memory.items import check_label, check_user_id
from confidante.memory.storage.database import insert_if_absent
from confidante.memory.storage.records import PersonaMember

if TYPE_CHECKING:
    pass


class PersonaDirectory(MemoryCore):
    """Join, leave and list personas (mixed into ``Memory``)."""

    async def ajoin_persona(self, user_id: str, persona: str) -> None:
        """Make a user a member of a persona (a group whose memories serve as fallback)."""
        check_user_id(user_id)
        check_label(persona, "persona", 100)

        def write(session: Session) -> None:
            self._ensure_user(session, user_id)
            insert_if_absent(session, PersonaMember(user_id=user_id, persona=persona))

        await self.database.run(write)

    async def aleave_persona(self, user_id: str, persona: str) -> None:
        """Remove a user from a persona."""
        check_user_id(user_id)

        def write(session: Session) -> None:
            session.exec(
                delete(PersonaMember).where(
                    col(PersonaMember.user_id) == user_id, col(PersonaMember.persona) == persona
                )
            )

        await self.database.run(write)

    async def apersonas(self, user_id: str) -> list[str]:
        """Return the personas a user belongs to, sorted."""
        check_user_id(user_id)
        rows = await self.database.run(
            lambda session: session.exec(
                select(PersonaMember.persona).where(PersonaMember.user_id == user_id)
            ).all(),
            write=False,
        )
        return sorted(str(row) for row in rows)

    join_persona = sync_twin(ajoin_persona)
    leave_persona = sync_twin(aleave_persona)
    personas = sync_twin(apersonas)
