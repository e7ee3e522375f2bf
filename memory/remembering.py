"""Remembering: the write path of the memory (one item, many, or what a turn taught).

:class:`MemoryWrites` is a part of :class:`~confidante.memory.store.Memory`. Every write is
validated (and screened for secrets, :mod:`confidante.memory.secrets`) before anything is stored,
embedded in one embedder call per batch and written in one transaction per batch by
:func:`~confidante.memory.storage.writes.write_items`, which applies the memory's rules: a slot
supersedes its current value, the same text dedupes, a near-duplicate merges, and an item that
meets one saying the same keeps the longer of their two lives
(:mod:`confidante.memory.storage.expiry`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session

from confidante._sync import sync_twin
from confidante.errors import InvalidInputError
from confidante.memory._core import MemoryCore
from confidante.memory.ingest.events import set_extraction
from confidante.memory.items import MemoryItem, check_text, check_user_id
from confidante.memory.slots import DEFAULT_SLOTS, SlotVocabulary
from confidante.memory.storage.expiry import TTL, check_expiry
from confidante.memory.storage.near_duplicates import DEFAULT_THRESHOLD
from confidante.memory.storage.writes import (
    NearDuplicates,
    already_stored,
    vectors_for,
    write_items,
)

__all__ = ["MemoryWrites"]


class MemoryWrites(MemoryCore):
    """Remember items (a part of ``Memory``)."""

    #: Cosine similarity from which a fact that names the same specifics merges into an
    #: existing one (see :mod:`confidante.memory.storage.near_duplicates`); None never merges.
    near_duplicate_threshold: float | None = DEFAULT_THRESHOLD
    #: The slots this memory knows (see :mod:`confidante.memory.slots`): a multi-valued
    #: slot's values accumulate instead of superseding each other.
    slots: SlotVocabulary = DEFAULT_SLOTS

    async def aremember(
        self,
        user_id: str,
        text: str,
        *,
        key: str | None = None,
        kind: str = "fact",
        importance: float = 0.5,
        provenance: Iterable[str] = (),
        attributes: dict[str, Any] | None = None,
        subject_id: str | None = None,
        expires_at: datetime | None = None,
        ttl: TTL | None = None,
        **extra_attributes: Any,
    ) -> str:
        """Remember one item for a user and return its id.

        Args:
            user_id: The owner.
            text: A self-contained statement ("Ana's dog is called Biscuit.").
            key: A stable slot; a new value for the slot supersedes the current one (the
                subject's, see ``subject_id``), unless the slot is multi-valued.
            kind: The item's kind.
            importance: 0..1, nudges ranking.
            provenance: Ids of the turns or documents the item came from.
            attributes: Typed attributes (JSON-serialisable).
            subject_id: The user's subject the item is about (see
                :meth:`~confidante.memory.store.Memory.aresolve`); None when it is about the
                user.
            expires_at: When the item expires (naive: UTC; must be in the future). From then
                on no read returns it and the next sweep
                (:meth:`~confidante.memory.sweep.MemorySweep.asweep`) erases it.
            ttl: Or how long it lives, a timedelta or seconds (positive).
            **extra_attributes: More attributes, merged into ``attributes``.

        Raises:
            InvalidInputError: Bad input, e.g. ``expires_at`` in the past, a TTL that is not
                positive, or both given.
        """
        check_user_id(user_id)
        item = MemoryItem(
            text=check_text(text),
            key=key,
            kind=kind,
            importance=importance,
            provenance=list(provenance),
            attributes={**(attributes or {}), **extra_attributes},
            subject_id=subject_id,
            expires_at=check_expiry(expires_at, ttl),
        )
        (item_id,) = await self.aremember_many(user_id, [item])
        return item_id

    async def aremember_many(
        self, user_id: str, items: Sequence[str | MemoryItem], *, batch_size: int = 256
    ) -> list[str]:
        """Remember many items for a user: one embedder call and one transaction per batch.

        Each item follows the rules of :meth:`aremember` (slots supersede, same text dedupes).
        Every item is validated before anything is written: a secret in a text or attribute is
        replaced by a placeholder, or the whole batch refused, as :attr:`secret_policy` says
        (see :mod:`confidante.memory.secrets`).

        Returns:
            The ids, in the order of ``items``.
        """
        return await self._write(user_id, items, batch_size)

    async def aremember_learned(
        self,
        user_id: str,
        event_id: str,
        items: Sequence[MemoryItem],
        *,
        note: str | None = None,
    ) -> list[str]:
        """Remember what was learned from a stored turn and mark the turn ``done``, together.

        One embedder call and one transaction write the items and the turn's status, so a turn
        is never marked done without its items. Items follow :meth:`aremember_many`'s rules.
        ``note`` (what could not be learned as asked) is kept as the turn's ``error``.

        Raises:
            NotFoundError: The user has no such turn (nothing is written).
        """
        return await self._write(
            user_id,
            items,
            max(len(items), 1),
            lambda session: set_extraction(session, user_id, event_id, "done", note),
        )

    async def _write(
        self,
        user_id: str,
        items: Sequence[str | MemoryItem],
        batch_size: int,
        finish: Callable[[Session], None] | None = None,
    ) -> list[str]:
        """Validate, then embed and write each batch in one worker hop; ``finish`` runs last."""
        check_user_id(user_id)
        if any(not isinstance(item, str | MemoryItem) for item in items):
            raise InvalidInputError("items must be texts or MemoryItem values")
        checked = [
            self._screened_item(
                (MemoryItem(text=item) if isinstance(item, str) else item).checked()
            )
            for item in items
        ]
        batches = [
            checked[start : start + batch_size] for start in range(0, len(checked), batch_size)
        ]
        if finish is not None and not batches:
            batches = [[]]
        ids: list[str] = []
        for number, batch in enumerate(batches, 1):
            last = finish if number == len(batches) else None

            def work(batch: list[MemoryItem] = batch, last: Any = last) -> list[str]:
                # Texts already stored for the user, and repeats, are not embedded again.
                multi = self.slots.multi_valued()
                known = self.database.run_sync(
                    lambda session: already_stored(session, user_id, batch, multi), write=False
                )
                vectors = vectors_for(self.embedder, batch, known)

                def write(session: Session) -> list[str]:
                    written: list[str] = []
                    if batch:
                        self._ensure_user(session, user_id)
                        written = write_items(
                            session,
                            user_id,
                            batch,
                            vectors,
                            self.embedder.name,
                            self._near(),
                            multi,
                            known,
                            self.embedder.embed_documents,
                        )
                    if last is not None:
                        last(session)
                    return written

                return self.database.run_sync(write)

            ids.extend(await asyncio.to_thread(work))
        return ids

    def _near(self) -> NearDuplicates | None:
        threshold = self.near_duplicate_threshold
        return None if threshold is None else NearDuplicates(self.index, threshold)

    remember = sync_twin(aremember)
    remember_many = sync_twin(aremember_many)
    remember_learned = sync_twin(aremember_learned)
