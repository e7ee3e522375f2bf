"""Editing the memory in real time: update, merge, forget one item, forget a user.

:class:`MemoryEdits` is a part of :class:`~confidante.memory.store.Memory`. Every edit writes
an audit entry with what it replaced and is visible to the very next read: the vector index
refreshes from the user's sequence number, and rows are re-read on every retrieval.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, cast

from sqlmodel import Session, SQLModel, col, delete, func, select

from confidante._sync import sync_twin
from confidante.errors import InvalidInputError, NotFoundError
from confidante.memory._core import MemoryCore
from confidante.memory.embeddings.images import IMAGE_KIND
from confidante.memory.id_prefix import match_id_prefix
from confidante.memory.items import (
    MemoryHit,
    _storable_id,
    check_attributes,
    check_text,
    check_user_id,
    text_fingerprint,
)
from confidante.memory.storage.expiry import NEVER, TTL, check_expiry, has_expired
from confidante.memory.storage.records import (
    AuditEntry,
    Concept,
    ConceptImageVector,
    ConceptVector,
    Event,
    PersonaMember,
    Subject,
    Summary,
    ToolCall,
    UserRecord,
    concept_snapshot,
    utcnow,
)


class MemoryEdits(MemoryCore):
    """Update, merge and forget (a part of ``Memory``)."""

    async def aresolve_item(self, user_id: str, id_or_prefix: str) -> MemoryHit:
        """Return the user's item whose id is ``id_or_prefix`` or starts with it.

        Listings show ids cut to 12 characters, so edits accept a unique prefix (at least
        :data:`~confidante.memory.id_prefix.MIN_ID_PREFIX` characters), as git does; replaced
        items count too, since they can be edited and forgotten. Only the user's own items
        are candidates: another user's id is "not found", exactly like a missing one.

        Raises:
            NotFoundError: No item of the user matches (or the prefix is too short).
            InvalidInputError: Several of the user's items match (the message lists them).
        """
        check_user_id(user_id)
        if not _storable_id(id_or_prefix):
            raise NotFoundError(f"no memory {id_or_prefix!r} for this user")
        starts = func.substr(col(Concept.id), 1, len(id_or_prefix)) == id_or_prefix
        query = (
            select(Concept)
            .where(Concept.user_id == user_id, starts)
            .order_by(col(Concept.id))
            .limit(11)  # the exact id sorts first; ten more are enough to show an ambiguity
        )
        concepts = await self.database.run(
            lambda session: list(session.exec(query).all()), write=False
        )
        found = {concept.id: concept for concept in concepts}
        labels = {item: concept.text for item, concept in found.items()}
        item_id = match_id_prefix(id_or_prefix, labels, what="memory", where=" for this user")
        return MemoryHit.of(found[item_id])

    async def aupdate(
        self,
        user_id: str,
        item_id: str,
        *,
        text: str | None = None,
        importance: float | None = None,
        attributes: dict[str, Any] | None = None,
        expires_at: datetime | Literal["never"] | None = None,
        ttl: TTL | None = None,
    ) -> MemoryHit:
        """Edit an item in place (the audit log keeps what it replaced); visible at once.

        Args:
            user_id: The owner.
            item_id: One of the user's current or replaced items (not an expired one).
            text: A new text (re-embedded).
            importance: A new importance (0..1).
            attributes: Attributes to set (merged into the item's).
            expires_at: A new expiry (naive: UTC; in the future), or ``"never"`` to remove it;
                None leaves it as it is (see :mod:`confidante.memory.storage.expiry`).
            ttl: Or a new time to live from now, a timedelta or seconds (positive).

        Raises:
            NotFoundError: The user has no such item, or it has expired.
            InvalidInputError: Bad input, e.g. an expiry in the past, or both ``expires_at``
                and ``ttl``.
        """
        check_user_id(user_id)
        never = expires_at == NEVER
        if never and ttl is not None:
            raise InvalidInputError("give expires_at or ttl, not both")
        expiry = None if never else check_expiry(cast("datetime | None", expires_at), ttl)
        new_text = self._screened(check_text(text)) if text is not None else None
        if importance is not None and not 0.0 <= importance <= 1.0:
            raise InvalidInputError("importance must be between 0 and 1")
        if attributes is not None:
            attributes = self._screened_json(check_attributes(attributes))
        vector = await self._embed_documents([new_text]) if new_text else None

        def write(session: Session) -> MemoryHit:
            self._ensure_user(session, user_id)
            concept = self._owned(session, user_id, item_id)
            before = concept_snapshot(concept)
            if new_text is not None and vector is not None:
                concept.text = new_text
                if concept.kind != IMAGE_KIND:  # an image concept is deduplicated by its image
                    concept.text_hash = text_fingerprint(new_text)
                self._add_vectors(session, user_id, [concept], vector)
            if importance is not None:
                concept.importance = importance
            if attributes is not None:
                concept.attributes = {**(concept.attributes or {}), **attributes}
            if never or expiry is not None:
                concept.expires_at = expiry
            concept.updated_at = utcnow()
            session.add(concept)
            session.add(audit(concept, "update", before, concept_snapshot(concept)))
            return MemoryHit.of(concept)

        return await self.database.run(write)

    async def amerge(
        self, user_id: str, item_ids: Sequence[str], *, text: str | None = None
    ) -> MemoryHit:
        """Merge items that say the same thing into the first one; returns the merged item.

        The first item stays, with the union of the items' provenance and attributes (the
        first item's values win) and the highest importance; the others stop being current
        (``valid_to`` set, ``superseded_by`` the first) and stay in the history.

        Args:
            user_id: The owner of every item.
            item_ids: Two or more distinct current items of the user.
            text: A new text for the merged item (default: the first item's text).
        """
        check_user_id(user_id)
        ids = list(dict.fromkeys(item_ids))
        if len(ids) < 2:
            raise InvalidInputError("merge needs at least two distinct item ids")
        new_text = self._screened(check_text(text)) if text is not None else None
        vector = await self._embed_documents([new_text]) if new_text else None

        def write(session: Session) -> MemoryHit:
            self._ensure_user(session, user_id)
            concepts = [self._owned(session, user_id, item_id) for item_id in ids]
            if any(concept.valid_to is not None for concept in concepts):
                raise InvalidInputError("only current items can be merged")
            keep, *others = concepts
            before = concept_snapshot(keep)
            now = utcnow()
            for other in others:
                other_before = concept_snapshot(other)
                keep.provenance = sorted({*keep.provenance, *other.provenance})
                keep.attributes = {**(other.attributes or {}), **(keep.attributes or {})}
                keep.importance = max(keep.importance, other.importance)
                other.valid_to, other.superseded_by, other.updated_at = now, keep.id, now
                session.add(other)
                session.add(audit(other, "merge", other_before, concept_snapshot(other)))
            if new_text is not None and vector is not None:
                keep.text, keep.text_hash = new_text, text_fingerprint(new_text)
                self._add_vectors(session, user_id, [keep], vector)
            keep.updated_at = now
            session.add(keep)
            after = {**concept_snapshot(keep), "merged": [other.id for other in others]}
            session.add(audit(keep, "merge", before, after))
            return MemoryHit.of(keep)

        return await self.database.run(write)

    async def aforget(self, user_id: str, item_id: str) -> None:
        """Forget one item: its row, vectors and image are deleted, its audit trail redacted.

        On SQLite its words are also merged out of the full-text index and the write-ahead log
        is checkpointed, so no copy of its row is left in the database files (the turns it was
        learned from are kept: they are the user's messages, erased by ``forget_user`` or the
        retention of turns). An expired item can be forgotten too.
        """
        check_user_id(user_id)
        await self._erase(user_id, [item_id], "forget")

    async def _erase(self, user_id: str, item_ids: Sequence[str], action: str) -> int:
        """Erase the user's items as :meth:`aforget` does, in one transaction; returns how many.

        ``action`` is the audit entry's: ``forget`` raises ``NotFoundError`` for an item that
        is not the user's; ``expire`` (the sweep) erases only items that are still expired;
        ``retention`` (the sweep, for copies of erased turns) any of the user's listed items.
        Both skip the ids they do not find.
        """

        def write(session: Session) -> list[str | None]:
            now = utcnow()
            image_paths: list[str | None] = []
            for item_id in item_ids:
                if action == "forget":
                    concept = self._owned(session, user_id, item_id, expired=True)
                else:
                    found = session.get(Concept, item_id)
                    if found is None or found.user_id != user_id:
                        continue
                    if action == "expire" and not has_expired(found.expires_at, now):
                        continue
                    concept = found
                self._erase_row(session, concept, action)
                image_paths.append(concept.image_path)
            if image_paths:
                session.flush()  # the FTS trigger runs before the segments are merged
                self._purge_deleted_words(session)
            return image_paths

        image_paths = await self.database.run(write)
        if not image_paths:
            return 0
        await asyncio.to_thread(self.database.truncate_wal)
        for image_path in image_paths:
            self.images.delete(image_path)
        self.index.forget_user(user_id)  # reload without the erased vectors
        return len(image_paths)

    @staticmethod
    def _erase_row(session: Session, concept: Concept, action: str) -> None:
        """Delete a concept's vectors and row, redact its audit trail, record ``action``."""
        user_id, item_id = concept.user_id, concept.id
        for table in (ConceptVector, ConceptImageVector):
            session.exec(delete(table).where(col(table.concept_id) == item_id))
        entries = session.exec(
            select(AuditEntry).where(
                AuditEntry.user_id == user_id, AuditEntry.concept_id == item_id
            )
        ).all()
        for entry in entries:
            entry.before = {"redacted": True} if entry.before else None
            entry.after = {"redacted": True} if entry.after else None
            session.add(entry)
        session.add(AuditEntry(user_id=user_id, concept_id=item_id, action=action))
        session.delete(concept)

    def _purge_deleted_words(self, session: Session) -> None:
        """Make deleted rows' words leave the full-text index's files, where they linger.

        On SQLite a deleted row's words stay in FTS5's index segments (hidden by a delete
        marker) until the segments are merged; the backend merges them all.
        """
        self.database.ops.purge_deleted_text(session)

    async def aforget_user(self, user_id: str) -> dict[str, int]:
        """Erase everything stored for a user; returns the number of rows deleted per table.

        Memories, subjects, vectors, image files, turns, summaries, the audit log, persona
        memberships and the journal of tool calls go; ``Agent.forget_user`` also deletes the
        conversation checkpoints.
        """
        check_user_id(user_id)

        def write(session: Session) -> dict[str, int]:
            # lock the user row first, in the same order as writers (no deadlock on PostgreSQL)
            lock = select(UserRecord.id).where(UserRecord.id == user_id).with_for_update()
            session.exec(lock).all()
            counts: dict[str, int] = {}
            owned: list[tuple[type[SQLModel], Any]] = [
                (ConceptVector, ConceptVector.user_id),
                (ConceptImageVector, ConceptImageVector.user_id),
                (Concept, Concept.user_id),
                (Subject, Subject.user_id),
                (Event, Event.user_id),
                (AuditEntry, AuditEntry.user_id),
                (Summary, Summary.user_id),
                (PersonaMember, PersonaMember.user_id),
                (ToolCall, ToolCall.user_id),
                (UserRecord, UserRecord.id),
            ]
            for table, column in owned:
                result = session.exec(delete(table).where(col(column) == user_id))
                counts[str(table.__tablename__)] = int(result.rowcount or 0)
            self._purge_deleted_words(session)
            return counts

        counts = await self.database.run(write)
        await asyncio.to_thread(self.database.truncate_wal)
        self.images.delete_user(user_id)
        self.term_counts.forget_user(user_id)
        self.index.forget_user(user_id)
        self._vectors_checked.discard(user_id)
        return counts

    resolve_item = sync_twin(aresolve_item)
    update = sync_twin(aupdate)
    merge = sync_twin(amerge)
    forget = sync_twin(aforget)
    forget_user = sync_twin(aforget_user)


def audit(
    concept: Concept, action: str, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> AuditEntry:
    """Return the audit entry of one change to a concept."""
    return AuditEntry(
        user_id=concept.user_id, concept_id=concept.id, action=action, before=before, after=after
    )
