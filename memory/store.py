"""The personal memory: remember, retrieve and edit a user's concepts in real time.

:class:`Memory` has one async core (``aremember``, ``aretrieve``...) and sync twins with the
same names without the ``a`` (``remember``, ``retrieve``...). Every call names its user; an id
that belongs to another user is reported as not found, exactly like an id that does not exist.

A concept with a ``key`` (a stable slot such as ``home_city``) supersedes the user's current
concept with the same key: the old one keeps its row with ``valid_to`` set and is no longer
retrieved unless history is asked for. Re-remembering the same text returns the existing id.

Dense search goes through a :class:`~confidante.memory.index.VectorIndex`: unless one is passed,
PostgreSQL with pgvector installed in the database searches inside the database
(:class:`~confidante.memory.pgvector_index.PgVectorIndex`), any other database through the
in-process :class:`~confidante.memory.index.EmbeddedVectorIndex`
(see :func:`~confidante.memory.pgvector_index.default_vector_index`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlmodel import Session, SQLModel, col, delete, select

from confidante._sync import sync_twin
from confidante.errors import InvalidInputError, NotFoundError
from confidante.memory.database import Database, insert_if_absent
from confidante.memory.embedders import Embedder, build_embedder
from confidante.memory.episodes import DEFAULT_POLICY, EpisodePolicy, ObservedTurn
from confidante.memory.events import EventLog
from confidante.memory.index import VectorIndex
from confidante.memory.items import (
    MemoryHit,
    MemoryItem,
    _storable_id,
    check_attributes,
    check_label,
    check_text,
    check_user_id,
    normalise_key,
    text_fingerprint,
)
from confidante.memory.observe import observe_turns
from confidante.memory.personas import PersonaDirectory
from confidante.memory.pgvector_index import default_vector_index
from confidante.memory.records import (
    AuditEntry,
    Concept,
    ConceptVector,
    Event,
    PersonaMember,
    Summary,
    UserRecord,
    concept_snapshot,
    utcnow,
)
from confidante.memory.retrieval import concepts_without_vectors, gather_candidates
from confidante.memory.scopes import GLOBAL_OWNER, persona_owner, scope_of
from confidante.memory.search import RankWeights, fuse, top_k
from confidante.memory.writes import next_vector_seq, write_items
from confidante.settings import Settings

if TYPE_CHECKING:
    from confidante.memory.summaries import SummaryView

__all__ = [
    "Memory",
    "MemoryHit",
    "MemoryItem",
    "check_attributes",
    "check_label",
    "check_text",
    "check_user_id",
    "normalise_key",
]


class Memory(EventLog, PersonaDirectory):
    """A personal memory over a database and an embedder (both injected).

    Example:
        >>> memory = Memory.open("/tmp/me.db")  # doctest: +SKIP
        >>> item = memory.remember("alice", "Alice's dog is called Biscuit.")  # doctest: +SKIP
        >>> memory.retrieve("alice", "dog name")[0].text  # doctest: +SKIP
    """

    def __init__(
        self,
        database: Database,
        embedder: Embedder,
        weights: RankWeights | None = None,
        index: VectorIndex | None = None,
    ) -> None:
        self.database = database
        self.embedder = embedder
        self.weights = weights or RankWeights()
        self.index: VectorIndex = index or default_vector_index(database, embedder)
        self._vectors_checked: set[str] = set()

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
        item = MemoryItem(
            text=text,
            key=key,
            kind=kind,
            importance=importance,
            provenance=list(provenance),
            attributes={**(attributes or {}), **extra_attributes},
        )
        (item_id,) = await self.aremember_many(user_id, [item])
        return item_id

    async def aremember_many(
        self, user_id: str, items: Sequence[str | MemoryItem], *, batch_size: int = 256
    ) -> list[str]:
        """Remember many items for a user: one embedder call and one transaction per batch.

        Each item follows the rules of :meth:`aremember` (slots supersede, same text dedupes).
        Every item is validated before anything is written.

        Returns:
            The ids, in the order of ``items``.
        """
        check_user_id(user_id)
        checked = [
            (MemoryItem(text=item) if isinstance(item, str) else item).checked() for item in items
        ]
        ids: list[str] = []
        for start in range(0, len(checked), batch_size):
            batch = checked[start : start + batch_size]
            vectors = await self._embed_documents([item.text for item in batch])

            def write(
                session: Session, batch: list[MemoryItem] = batch, vectors: Any = vectors
            ) -> list[str]:
                self._ensure_user(session, user_id)
                return write_items(session, user_id, batch, vectors, self.embedder.name)

            ids.extend(await self.database.run(write))
        return ids

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
        if attributes is not None:
            check_attributes(attributes)
        vector = await self._embed_documents([new_text]) if new_text else None

        def write(session: Session) -> MemoryHit:
            concept = self._owned(session, user_id, item_id)
            before = concept_snapshot(concept)
            if new_text is not None and vector is not None:
                concept.text = new_text
                concept.text_hash = text_fingerprint(new_text)
                self._add_vectors(session, user_id, [concept], vector)
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
        self.index.forget_user(user_id)  # reload without the forgotten vector

    async def aforget_user(self, user_id: str) -> dict[str, int]:
        """Erase everything stored for a user; returns the number of rows deleted per table."""
        check_user_id(user_id)

        def write(session: Session) -> dict[str, int]:
            # lock the user row first, in the same order as writers (no deadlock on PostgreSQL)
            lock = select(UserRecord.id).where(UserRecord.id == user_id).with_for_update()
            session.exec(lock).all()
            counts: dict[str, int] = {}
            owned: list[tuple[type[SQLModel], Any]] = [
                (ConceptVector, ConceptVector.user_id),
                (Concept, Concept.user_id),
                (Event, Event.user_id),
                (AuditEntry, AuditEntry.user_id),
                (Summary, Summary.user_id),
                (PersonaMember, PersonaMember.user_id),
                (UserRecord, UserRecord.id),
            ]
            for table, column in owned:
                result = session.exec(delete(table).where(col(column) == user_id))
                counts[str(table.__tablename__)] = int(result.rowcount or 0)
            return counts

        counts = await self.database.run(write)
        self.index.forget_user(user_id)
        self._vectors_checked.discard(user_id)
        return counts

    # ------------------------------------------------------------------ reads
    async def aretrieve(
        self,
        user_id: str,
        query: str,
        k: int = 10,
        *,
        kinds: Sequence[str] | None = None,
        include_history: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
        query_vector: np.ndarray[Any, np.dtype[np.float32]] | None = None,
        fallback: bool = True,
    ) -> list[MemoryHit]:
        """Return the user's ``k`` items most relevant to ``query``, best first.

        Args:
            user_id: Whose memory to search; no other user's item can be returned.
            query: The text to match (dense similarity and full-text words, fused).
            k: How many items.
            kinds: Only items of these kinds.
            include_history: Also superseded items.
            since: Only items valid from this time on.
            until: Only items valid from before this time.
            query_vector: The query's embedding, when the caller computed it already.
            fallback: When the user has fewer than ``k`` matching items, fill the list from
                the user's personas, then from the global scope (see
                :func:`~confidante.memory.items.persona_owner`).
        """
        check_user_id(user_id)
        query = check_text(query, "query")
        if k <= 0:
            raise InvalidInputError("k must be positive")
        if query_vector is None:
            query_vector = await self._embed_query(query)
        owners = [user_id]
        if fallback and scope_of(user_id) == "user":
            owners += [persona_owner(name) for name in await self.apersonas(user_id)]
            owners.append(GLOBAL_OWNER)
        hits: list[MemoryHit] = []
        for owner in owners:
            hits += await self._search_owner(
                owner, query, query_vector, k - len(hits), kinds, include_history, since, until
            )
            if len(hits) >= k:
                break
        return hits

    async def _search_owner(
        self,
        owner: str,
        query: str,
        query_vector: np.ndarray[Any, np.dtype[np.float32]],
        k: int,
        kinds: Sequence[str] | None,
        include_history: bool,
        since: datetime | None,
        until: datetime | None,
    ) -> list[MemoryHit]:
        """Rank one owner's items (a user, a persona or the global scope)."""
        await self._ensure_vectors(owner)
        candidates = await self.database.run(
            lambda session: gather_candidates(
                session,
                self.index,
                owner,
                query,
                query_vector,
                pool=max(4 * k, 50),
                kinds=kinds,
                include_history=include_history,
                since=since,
                until=until,
            ),
            write=False,
        )
        if not candidates:
            return []
        concepts = [candidate.concept for candidate in candidates]
        dense = np.asarray([c.dense for c in candidates], dtype=np.float32)
        lexical = np.asarray([c.lexical for c in candidates], dtype=np.float32)
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
        concepts = await self.database.run(
            lambda session: self._load(session, user_id, kinds, include_history), write=False
        )
        return [MemoryHit.of(concept) for concept in concepts]

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
            if not _storable_id(item_id):
                raise NotFoundError(f"no memory {item_id!r} for this user")
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

    async def asummary(self, user_id: str, task: str = "chat") -> SummaryView | None:
        """Return the user's offline summary for a task, or None if none was generated.

        The view tells whether it is ``stale`` (the user's data changed since) and ``usable``
        (nothing it was built from was edited, replaced or forgotten since).
        """
        from confidante.memory.summaries import read_summary  # it imports this module

        return await read_summary(self.database, check_user_id(user_id), task)

    remember = sync_twin(aremember)
    update = sync_twin(aupdate)
    forget = sync_twin(aforget)
    forget_user = sync_twin(aforget_user)
    retrieve = sync_twin(aretrieve)
    list_items = sync_twin(alist_items)
    get = sync_twin(aget)
    history = sync_twin(ahistory)
    summary = sync_twin(asummary)

    def close(self) -> None:
        """Release the database connections."""
        self.database.dispose()

    # -------------------------------------------------------------- internals
    @staticmethod
    def _ensure_user(session: Session, user_id: str) -> None:
        """Create the user's row if missing and lock it until the transaction ends.

        The lock serialises one user's writes across threads, processes and backends (a row
        lock on PostgreSQL; on SQLite the insert takes the database's write lock), so two
        concurrent ``remember`` calls never both find a slot empty or a text absent.
        """
        insert_if_absent(session, UserRecord(id=user_id))
        lock = select(UserRecord.id).where(UserRecord.id == user_id).with_for_update()
        session.exec(lock).all()

    @staticmethod
    def _owned(session: Session, user_id: str, item_id: str) -> Concept:
        concept = session.get(Concept, item_id) if _storable_id(item_id) else None
        if concept is None or concept.user_id != user_id:
            raise NotFoundError(f"no memory {item_id!r} for this user")
        return concept

    @staticmethod
    def _load(
        session: Session, user_id: str, kinds: Sequence[str] | None, include_history: bool
    ) -> list[Concept]:
        query = (
            select(Concept)
            .where(Concept.user_id == user_id)
            .order_by(col(Concept.created_at), col(Concept.id))
        )
        if not include_history:
            query = query.where(col(Concept.valid_to).is_(None))
        if kinds:
            query = query.where(col(Concept.kind).in_(list(kinds)))
        return list(session.exec(query).all())

    async def _ensure_vectors(self, user_id: str) -> None:
        """Embed, once per process and user, items that lack a vector from this embedder."""
        if user_id in self._vectors_checked:
            return
        model = self.embedder.name
        missing = await self.database.run(
            lambda session: concepts_without_vectors(session, user_id, model), write=False
        )
        if missing:
            vectors = await self._embed_documents([text for _, text in missing])

            def write(session: Session) -> None:
                self._ensure_user(session, user_id)
                concepts = [session.get(Concept, item_id) for item_id, _ in missing]
                present = [(c, v) for c, v in zip(concepts, vectors, strict=True) if c is not None]
                if present:
                    stacked = np.vstack([v for _, v in present])
                    self._add_vectors(session, user_id, [c for c, _ in present], stacked)

            await self.database.run(write)
        self._vectors_checked.add(user_id)

    def _add_vectors(
        self,
        session: Session,
        user_id: str,
        concepts: Sequence[Concept],
        vectors: np.ndarray[Any, Any],
    ) -> None:
        """Store (or replace) the vectors of ``concepts``, numbered by the user's sequence.

        The caller holds the user's row lock (``_ensure_user``), so sequence numbers grow in
        commit order and the vector index can load only what is new.
        """
        if not concepts:
            return
        first = next_vector_seq(session, user_id, len(concepts))
        for offset, (concept, vector) in enumerate(zip(concepts, vectors, strict=True)):
            session.merge(
                ConceptVector(
                    concept_id=concept.id,
                    user_id=user_id,
                    model=self.embedder.name,
                    seq=first + offset,
                    vector=np.asarray(vector, dtype=np.float32).tobytes(),
                )
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

    # ---------------------------------------------------------- export / import
    async def aexport(self, user_id: str) -> dict[str, Any]:
        """Return all of a user's items, superseded ones included, as a JSON-ready dict.

        The format (``confidante.memory``, version 1) is documented in
        :mod:`confidante.memory.portable`.
        """
        from confidante.memory.portable import export_memory

        return await export_memory(self, user_id)

    async def aimport(
        self, user_id: str, data: dict[str, Any], *, keep_ids: bool = False
    ) -> list[str]:
        """Add the items of an export (see :meth:`aexport`) to a user; returns their ids.

        The whole document is validated before anything is written (``InvalidInputError``);
        current items follow the rules of :meth:`aremember_many`, superseded ones go to the
        user's history. See :func:`confidante.memory.portable.import_memory`.
        """
        from confidante.memory.portable import import_memory

        return await import_memory(self, user_id, data, keep_ids=keep_ids)

    export = sync_twin(aexport)
    import_ = sync_twin(aimport)  # ``import`` is a keyword

    # ------------------------------------------- conversation ingestion (observe)
    # See confidante.memory.episodes; owned by the conversation-ingestion work.

    #: What observing a turn derives (``turn`` and/or ``episode`` items); set per instance.
    episode_policy: EpisodePolicy = DEFAULT_POLICY

    async def aobserve(
        self,
        user_id: str,
        text: str,
        *,
        speaker: str,
        session_id: str = "default",
        occurred_at: datetime | None = None,
        source_id: str | None = None,
        image_caption: str | None = None,
        role: str = "user",
    ) -> str:
        """Store one conversation turn and derive its retrievable items; returns the event id.

        Under :attr:`episode_policy`, the turn becomes a dated ``turn`` item and/or an
        ``episode`` item (the turn with the ones before it in its session); every item's
        provenance lists the ``source_id`` of each turn it came from (the event id when the
        turn has none). Observing a ``source_id`` again returns the stored event's id.

        Args:
            user_id: The owner.
            text: What was said.
            speaker: Who said it.
            session_id: The conversation session (episodes never span two sessions).
            occurred_at: When it was said.
            source_id: The turn's id in the caller's system (e.g. a message id).
            image_caption: A caption of an image shared with the turn.
            role: The speaker's role (``user``, ``assistant``...).
        """
        turn = {
            "text": text,
            "speaker": speaker,
            "session_id": session_id,
            "occurred_at": occurred_at,
            "source_id": source_id,
            "image_caption": image_caption,
            "role": role,
        }
        (event_id,) = await self.aobserve_many(user_id, [turn])
        return event_id

    async def aobserve_many(
        self,
        user_id: str,
        turns: Sequence[ObservedTurn | dict[str, Any]],
        *,
        batch_size: int = 64,
    ) -> list[str]:
        """Observe turns in order (see :meth:`aobserve`): one embedder call per batch.

        Args:
            user_id: The owner.
            turns: :class:`~confidante.memory.episodes.ObservedTurn` values or dicts of their
                fields, in the order they were said. All are validated before any is written.
            batch_size: Turns per embedder call and per transaction.

        Returns:
            The event ids, in the order of ``turns``.
        """
        check_user_id(user_id)
        return await observe_turns(self, user_id, turns, batch_size)

    observe = sync_twin(aobserve)
    observe_many = sync_twin(aobserve_many)
