"""The personal memory: remember, retrieve and edit a user's concepts in real time.

:class:`Memory` has one async core (``aremember``, ``aretrieve``...) and sync twins with the
same names without the ``a`` (``remember``, ``retrieve``...). Every call names its user; an id
that belongs to another user is reported as not found, exactly like an id that does not exist.

A concept with a ``key`` (a stable slot such as ``home_city``) supersedes the user's current
concept with the same key: the old one keeps its row with ``valid_to`` set and is no longer
retrieved unless history is asked for. Re-remembering the same text returns the existing id.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field
from sqlmodel import Session, SQLModel, col, delete, select

from confidante._sync import sync_twin
from confidante.errors import InvalidInputError, NotFoundError
from confidante.memory.database import Database
from confidante.memory.embedders import Embedder, build_embedder
from confidante.memory.records import (
    AuditEntry,
    Concept,
    ConceptVector,
    Event,
    UserRecord,
    concept_snapshot,
    utcnow,
)
from confidante.memory.search import RankWeights, bm25_scores, fuse, top_k
from confidante.settings import Settings

MAX_TEXT_CHARS = 20_000
_KEY_PATTERN = re.compile(r"[^a-z0-9]+")


class MemoryHit(BaseModel):
    """One memory item as returned to callers.

    Attributes:
        id: The item's id.
        text: Its text.
        key: Its stable slot, if any.
        kind: ``fact``, ``preference``, ``event``, ``reminder``...
        score: Relevance to the query (1.0 is best; 0 when listing).
        provenance: Ids of the turns or documents it came from.
        attributes: Typed attributes given when it was remembered.
        importance: 0..1.
        created_at: When it was first remembered.
        valid_to: When it stopped being current (None while current).
    """

    id: str
    text: str
    key: str | None = None
    kind: str = "fact"
    score: float = 0.0
    provenance: list[str] = Field(default_factory=list)
    attributes: dict[str, Any] = Field(default_factory=dict)
    importance: float = 0.5
    created_at: datetime
    valid_to: datetime | None = None

    @classmethod
    def of(cls, concept: Concept, score: float = 0.0) -> MemoryHit:
        """Build a hit from a stored concept."""
        return cls(
            id=concept.id,
            text=concept.text,
            key=concept.key,
            kind=concept.kind,
            score=score,
            provenance=list(concept.provenance or []),
            attributes=dict(concept.attributes or {}),
            importance=concept.importance,
            created_at=concept.created_at,
            valid_to=concept.valid_to,
        )


def check_user_id(user_id: str) -> str:
    """Validate a user id (non-empty printable text, at most 200 characters)."""
    if not isinstance(user_id, str) or not user_id.strip():
        raise InvalidInputError("user_id must be a non-empty string")
    if len(user_id) > 200 or not user_id.isprintable():
        raise InvalidInputError("user_id must be printable and at most 200 characters")
    return user_id


def check_text(text: str, what: str = "text") -> str:
    """Validate memory text: non-empty, at most 20,000 characters, no NUL bytes."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidInputError(f"{what} must be a non-empty string")
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInputError(f"{what} is longer than {MAX_TEXT_CHARS} characters")
    if "\x00" in text:
        raise InvalidInputError(f"{what} contains a NUL character")
    return text.strip()


def normalise_key(key: str | None) -> str | None:
    """Turn a slot name into ``snake_case`` (``"Home City"`` → ``"home_city"``)."""
    if key is None:
        return None
    normalised = _KEY_PATTERN.sub("_", key.lower()).strip("_")
    return normalised[:100] or None


def _same_text(a: str, b: str) -> bool:
    return " ".join(a.lower().split()).rstrip(".") == " ".join(b.lower().split()).rstrip(".")


class Memory:
    """A personal memory over a database and an embedder (both injected).

    Example:
        >>> memory = Memory.open("/tmp/me.db")  # doctest: +SKIP
        >>> item = memory.remember("alice", "Alice's dog is called Biscuit.")  # doctest: +SKIP
        >>> memory.retrieve("alice", "dog name")[0].text  # doctest: +SKIP
    """

    def __init__(
        self, database: Database, embedder: Embedder, weights: RankWeights | None = None
    ) -> None:
        self.database = database
        self.embedder = embedder
        self.weights = weights or RankWeights()

    @classmethod
    def open(
        cls,
        url_or_path: str | Path | None = None,
        *,
        embedder: Embedder | None = None,
        settings: Settings | None = None,
    ) -> Memory:
        """Open the memory at a database URL or SQLite path (default: from settings)."""
        settings = settings or Settings()
        target = url_or_path if url_or_path is not None else settings.resolved_database_url
        return cls(Database.open(target), embedder or build_embedder(settings))

    # ----------------------------------------------------------------- writes
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
        **extra_attributes: Any,
    ) -> str:
        """Remember one item for a user and return its id.

        Args:
            user_id: The owner.
            text: A self-contained statement ("Ana's dog is called Biscuit.").
            key: A stable slot; a new value for the slot supersedes the current one.
            kind: The item's kind.
            importance: 0..1, nudges ranking.
            provenance: Ids of the turns or documents the item came from.
            attributes: Typed attributes (JSON-serialisable).
            **extra_attributes: More attributes, merged into ``attributes``.
        """
        check_user_id(user_id)
        text = check_text(text)
        if not 0.0 <= importance <= 1.0:
            raise InvalidInputError("importance must be between 0 and 1")
        slot = normalise_key(key)
        attrs = {**(attributes or {}), **extra_attributes}
        vector = await self._embed_documents([text])
        sources = [str(source) for source in provenance]

        def write(session: Session) -> str:
            self._ensure_user(session, user_id)
            current = self._current_for(session, user_id, slot, text)
            if current is not None and _same_text(current.text, text):
                current.provenance = sorted({*current.provenance, *sources})
                current.updated_at = utcnow()
                session.add(current)
                return current.id
            concept = Concept(
                user_id=user_id,
                text=text,
                key=slot,
                kind=kind,
                importance=importance,
                provenance=sources,
                attributes=attrs,
            )
            session.add(concept)
            session.add(self._vector_row(concept, vector[0]))
            if current is not None:
                before = concept_snapshot(current)
                current.valid_to = concept.valid_from
                current.superseded_by = concept.id
                session.add(current)
                session.add(self._audit(current, "supersede", before, concept_snapshot(current)))
            session.add(self._audit(concept, "add", None, concept_snapshot(concept)))
            return concept.id

        return await self.database.run(write)

    async def aupdate(
        self,
        user_id: str,
        item_id: str,
        *,
        text: str | None = None,
        importance: float | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> MemoryHit:
        """Edit an item in place (the audit log keeps what it replaced); visible at once."""
        check_user_id(user_id)
        new_text = check_text(text) if text is not None else None
        vector = await self._embed_documents([new_text]) if new_text else None

        def write(session: Session) -> MemoryHit:
            concept = self._owned(session, user_id, item_id)
            before = concept_snapshot(concept)
            if new_text is not None and vector is not None:
                concept.text = new_text
                session.merge(self._vector_row(concept, vector[0]))
            if importance is not None:
                concept.importance = importance
            if attributes is not None:
                concept.attributes = {**concept.attributes, **attributes}
            concept.updated_at = utcnow()
            session.add(concept)
            session.add(self._audit(concept, "update", before, concept_snapshot(concept)))
            return MemoryHit.of(concept)

        return await self.database.run(write)

    async def aforget(self, user_id: str, item_id: str) -> None:
        """Forget one item: its row and vector are deleted, its audit entries redacted."""
        check_user_id(user_id)

        def write(session: Session) -> None:
            concept = self._owned(session, user_id, item_id)
            session.exec(delete(ConceptVector).where(col(ConceptVector.concept_id) == item_id))
            entries = session.exec(
                select(AuditEntry).where(
                    AuditEntry.user_id == user_id, AuditEntry.concept_id == item_id
                )
            ).all()
            for entry in entries:
                entry.before = {"redacted": True} if entry.before else None
                entry.after = {"redacted": True} if entry.after else None
                session.add(entry)
            session.add(AuditEntry(user_id=user_id, concept_id=item_id, action="forget"))
            session.delete(concept)

        await self.database.run(write)

    async def aforget_user(self, user_id: str) -> dict[str, int]:
        """Erase everything stored for a user; returns the number of rows deleted per table."""
        check_user_id(user_id)

        def write(session: Session) -> dict[str, int]:
            counts: dict[str, int] = {}
            owned: list[tuple[type[SQLModel], Any]] = [
                (ConceptVector, ConceptVector.user_id),
                (Concept, Concept.user_id),
                (Event, Event.user_id),
                (AuditEntry, AuditEntry.user_id),
                (UserRecord, UserRecord.id),
            ]
            for table, column in owned:
                result = session.exec(delete(table).where(col(column) == user_id))
                counts[str(table.__tablename__)] = int(result.rowcount or 0)
            return counts

        return await self.database.run(write)

    async def arecord_event(
        self, user_id: str, role: str, text: str, *, session_id: str = "default"
    ) -> str:
        """Store a raw turn before anything is derived from it; returns the event id."""
        check_user_id(user_id)
        text = check_text(text, "message")

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

        def write(session: Session) -> None:
            event = session.get(Event, event_id)
            if event is None or event.user_id != user_id:
                raise NotFoundError(f"no event {event_id!r} for this user")
            event.extraction = status
            event.error = error
            session.add(event)

        await self.database.run(write)

    # ------------------------------------------------------------------ reads
    async def aretrieve(
        self,
        user_id: str,
        query: str,
        k: int = 10,
        *,
        kinds: Sequence[str] | None = None,
        include_history: bool = False,
    ) -> list[MemoryHit]:
        """Return the user's ``k`` items most relevant to ``query``, best first."""
        check_user_id(user_id)
        query = check_text(query, "query")
        if k <= 0:
            raise InvalidInputError("k must be positive")
        rows = await self.database.run(
            lambda session: self._load(session, user_id, kinds, include_history, with_vectors=True)
        )
        if not rows:
            return []
        concepts = [concept for concept, _ in rows]
        matrix = await self._vectors_for(rows)
        query_vector = await self._embed_query(query)
        dense = matrix @ query_vector
        lexical = bm25_scores([concept.text for concept in concepts], query)
        importance = np.asarray([c.importance for c in concepts], dtype=np.float32)
        order = np.argsort(np.asarray([c.created_at.timestamp() for c in concepts]))
        age_rank = np.zeros(len(concepts), dtype=np.float32)
        age_rank[order] = np.linspace(0.0, 1.0, len(concepts), dtype=np.float32)
        scores = fuse(dense, lexical, importance, age_rank, self.weights)
        return [MemoryHit.of(concepts[i], float(scores[i])) for i in top_k(scores, k)]

    async def alist_items(
        self,
        user_id: str,
        *,
        kinds: Sequence[str] | None = None,
        include_history: bool = False,
    ) -> list[MemoryHit]:
        """Return all of the user's items, oldest first."""
        check_user_id(user_id)
        rows = await self.database.run(
            lambda session: self._load(session, user_id, kinds, include_history, False)
        )
        return [MemoryHit.of(concept) for concept, _ in rows]

    async def aget(self, user_id: str, item_id: str) -> MemoryHit:
        """Return one of the user's items (``NotFoundError`` if it is not theirs)."""
        check_user_id(user_id)
        return await self.database.run(
            lambda session: MemoryHit.of(self._owned(session, user_id, item_id))
        )

    async def ahistory(self, user_id: str, item_id: str) -> list[dict[str, Any]]:
        """Return the audit trail of one item, oldest first, including what each change replaced."""
        check_user_id(user_id)

        def read(session: Session) -> list[dict[str, Any]]:
            entries = session.exec(
                select(AuditEntry)
                .where(AuditEntry.user_id == user_id, AuditEntry.concept_id == item_id)
                .order_by(col(AuditEntry.id))
            ).all()
            if not entries:
                raise NotFoundError(f"no memory {item_id!r} for this user")
            return [
                {"action": e.action, "before": e.before, "after": e.after, "at": e.at}
                for e in entries
            ]

        return await self.database.run(read)

    remember = sync_twin(aremember)
    update = sync_twin(aupdate)
    forget = sync_twin(aforget)
    forget_user = sync_twin(aforget_user)
    record_event = sync_twin(arecord_event)
    mark_event = sync_twin(amark_event)
    retrieve = sync_twin(aretrieve)
    list_items = sync_twin(alist_items)
    get = sync_twin(aget)
    history = sync_twin(ahistory)

    def close(self) -> None:
        """Release the database connections."""
        self.database.dispose()

    # -------------------------------------------------------------- internals
    @staticmethod
    def _ensure_user(session: Session, user_id: str) -> None:
        if session.get(UserRecord, user_id) is None:
            session.add(UserRecord(id=user_id))
            session.flush()

    @staticmethod
    def _current_for(session: Session, user_id: str, slot: str | None, text: str) -> Concept | None:
        query = select(Concept).where(Concept.user_id == user_id, col(Concept.valid_to).is_(None))
        if slot is not None:
            return session.exec(query.where(Concept.key == slot)).first()
        for concept in session.exec(query.where(col(Concept.key).is_(None))):
            if _same_text(concept.text, text):
                return concept
        return None

    @staticmethod
    def _owned(session: Session, user_id: str, item_id: str) -> Concept:
        concept = session.get(Concept, item_id) if isinstance(item_id, str) else None
        if concept is None or concept.user_id != user_id:
            raise NotFoundError(f"no memory {item_id!r} for this user")
        return concept

    @staticmethod
    def _load(
        session: Session,
        user_id: str,
        kinds: Sequence[str] | None,
        include_history: bool,
        with_vectors: bool,
    ) -> list[tuple[Concept, ConceptVector | None]]:
        query = (
            select(Concept, ConceptVector)
            .join(ConceptVector, col(ConceptVector.concept_id) == Concept.id, isouter=True)
            .where(Concept.user_id == user_id)
            .order_by(col(Concept.created_at), col(Concept.id))
        )
        if not include_history:
            query = query.where(col(Concept.valid_to).is_(None))
        if kinds:
            query = query.where(col(Concept.kind).in_(list(kinds)))
        rows = session.exec(query).all()
        return [(concept, vector if with_vectors else None) for concept, vector in rows]

    async def _vectors_for(
        self, rows: list[tuple[Concept, ConceptVector | None]]
    ) -> np.ndarray[Any, np.dtype[np.float32]]:
        """Stack stored vectors, re-embedding items stored by another embedder."""
        stale = [i for i, (_, v) in enumerate(rows) if v is None or v.model != self.embedder.name]
        vectors: list[Any] = [
            None if v is None else np.frombuffer(v.vector, dtype=np.float32) for _, v in rows
        ]
        if stale:
            fresh = await self._embed_documents([rows[i][0].text for i in stale])
            new_rows = [self._vector_row(rows[i][0], fresh[j]) for j, i in enumerate(stale)]
            for j, i in enumerate(stale):
                vectors[i] = fresh[j]

            def write(session: Session) -> None:
                for row in new_rows:
                    session.merge(row)

            await self.database.run(write)
        return np.vstack(vectors).astype(np.float32)

    def _vector_row(self, concept: Concept, vector: np.ndarray[Any, Any]) -> ConceptVector:
        return ConceptVector(
            concept_id=concept.id,
            user_id=concept.user_id,
            model=self.embedder.name,
            vector=np.asarray(vector, dtype=np.float32).tobytes(),
        )

    @staticmethod
    def _audit(
        concept: Concept, action: str, before: dict[str, Any] | None, after: dict[str, Any] | None
    ) -> AuditEntry:
        return AuditEntry(
            user_id=concept.user_id,
            concept_id=concept.id,
            action=action,
            before=before,
            after=after,
        )

    async def _embed_documents(self, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        return await asyncio.to_thread(self.embedder.embed_documents, texts)

    async def _embed_query(self, text: str) -> np.ndarray[Any, np.dtype[np.float32]]:
        return await asyncio.to_thread(self.embedder.embed_query, text)
