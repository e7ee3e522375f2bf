"""The core every part of the memory shares: its dependencies and the low-level steps.

:class:`MemoryCore` holds the database, the embedders, the vector index and the image folder,
and the steps that the parts of :class:`~confidante.memory.store.Memory` (editing, images,
conversation ingestion, events, personas) build on: locking a user's row, reading an owned
item, numbering and storing vectors, embedding off the event loop, and keeping secrets out of
what is written (:meth:`MemoryCore._screened`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from confidante.errors import NotFoundError
from confidante.memory.embeddings.images import ImageEmbedder
from confidante.memory.embeddings.text import Embedder
from confidante.memory.index.base import VectorIndex
from confidante.memory.index.pgvector import default_vector_index
from confidante.memory.items import MemoryItem, _storable_id, readable, shown
from confidante.memory.retrieval.candidates import concepts_without_vectors
from confidante.memory.retrieval.full_text import TermCounts
from confidante.memory.retrieval.ranking import RankWeights
from confidante.memory.secrets import SecretPolicy, check_policy, screen, screen_json
from confidante.memory.storage.database import Database, insert_if_absent
from confidante.memory.storage.expiry import has_expired, live
from confidante.memory.storage.files import ImageFiles, default_images_dir
from confidante.memory.storage.records import Concept, ConceptVector, UserRecord
from confidante.memory.storage.writes import next_vector_seq


class MemoryCore:
    """Dependencies and shared low-level steps of the memory (see the module docstring).

    Args:
        database: The database.
        embedder: The text embedder.
        weights: How importance and recency nudge ranking.
        index: The vector index (default: pgvector on PostgreSQL with pgvector, else
            in-process).
        image_embedder: Embeds image concepts (default: none, captions only).
        images_dir: Where image files are kept (default: beside a SQLite file, else in the
            default data directory).
        secret_policy: What a write does with a secret in a text (card numbers, IBANs,
            passwords, API keys; see :mod:`confidante.memory.secrets`): ``redact`` replaces it
            with a placeholder, ``refuse`` raises
            :class:`~confidante.errors.SecretRefusedError`, ``allow`` stores it.
    """

    def __init__(
        self,
        database: Database,
        embedder: Embedder,
        weights: RankWeights | None = None,
        index: VectorIndex | None = None,
        image_embedder: ImageEmbedder | None = None,
        images_dir: Path | None = None,
        secret_policy: SecretPolicy = "redact",
    ) -> None:
        self.database = database
        self.embedder = embedder
        self.weights = weights or RankWeights()
        self.index: VectorIndex = index or default_vector_index(database, embedder)
        self.image_embedder = image_embedder
        self.images = ImageFiles(images_dir or default_images_dir(database, None))
        self.term_counts = TermCounts()
        self._vectors_checked: set[str] = set()
        self.secret_policy: SecretPolicy = check_policy(secret_policy)

    def _screened(self, text: str, what: str = "text") -> str:
        """``text`` under the memory's secret policy: as it is, redacted, or refused."""
        return screen(text, self.secret_policy, what)

    def _screened_json(self, value: Any, what: str = "attributes") -> Any:
        """Every string inside a JSON value under the memory's secret policy."""
        return screen_json(value, self.secret_policy, what)

    def _screened_item(self, item: MemoryItem) -> MemoryItem:
        """An item to write with its text and attributes under the memory's secret policy."""
        if self.secret_policy == "allow":
            return item
        return item.model_copy(
            update={
                "text": self._screened(item.text),
                "attributes": self._screened_json(item.attributes),
            }
        )

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
    def _owned(session: Session, user_id: str, item_id: str, *, expired: bool = False) -> Concept:
        """The user's item; ``NotFoundError`` if not theirs, or expired (unless ``expired``)."""
        concept = session.get(Concept, item_id) if _storable_id(item_id) else None
        if (
            concept is None
            or concept.user_id != user_id
            or (not expired and has_expired(concept.expires_at))
        ):
            raise NotFoundError(f"no memory {shown(item_id)} for this user")
        return concept

    @staticmethod
    def _owned_readable(session: Session, user_id: str, item_id: str) -> Concept:
        """The user's item, or ``NotFoundError`` when its stored values cannot be read."""
        concept = MemoryCore._owned(session, user_id, item_id)
        if not readable([concept]):
            raise NotFoundError(
                f"memory {shown(item_id)} has stored values that are not valid text; forget it"
            )
        return concept

    @staticmethod
    def _load(
        session: Session, user_id: str, kinds: Sequence[str] | None, include_history: bool
    ) -> list[Concept]:
        query = (
            select(Concept)
            .where(Concept.user_id == user_id, live())
            .order_by(col(Concept.created_at), col(Concept.id))
        )
        if not include_history:
            query = query.where(col(Concept.valid_to).is_(None))
        if kinds:
            query = query.where(col(Concept.kind).in_(list(kinds)))
        return readable(session.exec(query).all())

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

    async def _embed_documents(self, texts: list[str]) -> np.ndarray[Any, np.dtype[np.float32]]:
        return await asyncio.to_thread(self.embedder.embed_documents, texts)

    async def _embed_query(self, text: str) -> np.ndarray[Any, np.dtype[np.float32]]:
        return await asyncio.to_thread(self.embedder.embed_query, text)
