"""Any llama-index vector store as the memory's vector index.

:class:`LlamaIndexVectorIndex` implements confidante's
:class:`~confidante.memory.index.base.VectorIndex` over a llama-index
``BasePydanticVectorStore`` (``PGVectorStore``, Qdrant, Chroma, LanceDB...)::

    store = PGVectorStore.from_params(connection_string=..., async_connection_string=...,
                                      table_name="confidante", embed_dim=memory_embedder.dim)
    memory = Memory(database, embedder, index=LlamaIndexVectorIndex(store, embedder.name))

How it stays right:

- The memory's database stays the source of truth (``concept_vectors``); the vector store is a
  copy. Each vector row carries its user's sequence number, so before a user's search the
  index copies only the rows written since its last copy (by any process) into the store,
  as nodes whose id is the item's id and whose metadata holds ``user_id`` and ``model``.
  A vector replaced by an edit replaces its node.
- Every store query is filtered on the user and the embedder (``MetadataFilters``), and the
  memory reads the candidates' rows with the user's id anyway, so the store can never hand
  one user another user's items.
- After a forget (``forget_user``), the next search of that user deletes the nodes whose items
  no longer have a vector in the database (one read of the user's ids). A process that has
  not seen the user yet, or a user erased and written again, rebuilds that user's nodes from
  the database (delete by filter, then add): nodes of deleted items never survive.
- ``similarities`` (scores of listed items, used for filtered searches) are computed exactly
  from the database's vectors; ``search`` uses the store's own similarity (cosine for the
  stores that offer it; stored vectors are unit length, so it equals the dot product).

One process should own a given store table at a time (two processes rebuilding one user at
once may duplicate nodes; duplicates are merged in results, and the next rebuild removes them).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from llama_index.core.schema import TextNode
from llama_index.core.vector_stores.types import (
    MetadataFilter,
    MetadataFilters,
    VectorStoreQuery,
)
from sqlmodel import Session, col, select

from confidante.memory.index.base import Vector, dot_rows
from confidante.memory.storage.records import ConceptVector, UserRecord

if TYPE_CHECKING:
    from llama_index.core.vector_stores.types import BasePydanticVectorStore

__all__ = ["LlamaIndexVectorIndex"]


@dataclass
class _UserCopy:
    ids: set[str] = field(default_factory=set)
    last_seq: int = 0
    stale: bool = False  # items may have been deleted since the last copy
    lock: threading.Lock = field(default_factory=threading.Lock)


class LlamaIndexVectorIndex:
    """confidante's ``VectorIndex`` over a llama-index vector store (see the module docstring).

    Args:
        vector_store: Any llama-index ``BasePydanticVectorStore`` that supports metadata
            filters and ``delete_nodes``.
        model: The memory embedder's name; only its vectors are copied and searched.
        batch_size: Nodes per ``add`` call when copying.
    """

    def __init__(
        self, vector_store: BasePydanticVectorStore, model: str, batch_size: int = 512
    ) -> None:
        self.vector_store = vector_store
        self.model = model
        self.batch_size = batch_size
        self._users: dict[str, _UserCopy] = {}
        self._lock = threading.Lock()

    def _filters(self, user_id: str) -> MetadataFilters:
        return MetadataFilters(
            filters=[
                MetadataFilter(key="user_id", value=user_id),
                MetadataFilter(key="model", value=self.model),
            ]
        )

    # ------------------------------------------------------------------ search
    def search(
        self, session: Session, user_id: str, query: Vector, n: int
    ) -> list[tuple[str, float]]:
        """Return up to ``n`` ``(item id, cosine)`` pairs of the user, most similar first."""
        if n <= 0 or not self._sync(session, user_id).ids:
            return []
        result = self.vector_store.query(
            VectorStoreQuery(
                query_embedding=np.asarray(query, dtype=np.float32).tolist(),
                similarity_top_k=n,
                filters=self._filters(user_id),
            )
        )
        best: dict[str, float] = {}
        for item_id, score in zip(result.ids or [], result.similarities or [], strict=False):
            best[item_id] = max(float(score), best.get(item_id, -2.0))
        return sorted(best.items(), key=lambda pair: pair[1], reverse=True)[:n]

    def similarities(
        self, session: Session, user_id: str, query: Vector, ids: Sequence[str]
    ) -> dict[str, float]:
        """Return the exact cosine similarity of ``query`` to each listed item with a vector."""
        if not ids:
            return {}
        rows = session.exec(
            select(ConceptVector.concept_id, ConceptVector.vector).where(
                ConceptVector.user_id == user_id,
                ConceptVector.model == self.model,
                col(ConceptVector.concept_id).in_(list(ids)),
            )
        ).all()
        if not rows:
            return {}
        matrix = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32)
        scores = dot_rows(matrix.reshape(len(rows), -1), np.asarray(query, dtype=np.float32))
        return {str(row[0]): float(score) for row, score in zip(rows, scores, strict=True)}

    def forget_user(self, user_id: str) -> None:
        """Drop the nodes of the user's deleted items before their next search."""
        with self._lock:
            copy = self._users.get(user_id)
            if copy is not None:
                copy.stale = True

    # -------------------------------------------------------------------- copy
    def _sync(self, session: Session, user_id: str) -> _UserCopy:
        """Bring the store's copy of the user's vectors up to date with the database."""
        with self._lock:
            copy = self._users.get(user_id)
            rebuild = copy is None
            if copy is None:
                copy = self._users[user_id] = _UserCopy()
        with copy.lock:
            latest = session.exec(
                select(UserRecord.vector_seq).where(UserRecord.id == user_id)
            ).first()
            latest = int(latest or 0)
            if rebuild or latest < copy.last_seq:  # new to this process, or erased since
                self.vector_store.delete_nodes(filters=self._filters(user_id))
                copy.ids, copy.last_seq, copy.stale = set(), 0, False
            if copy.stale:
                self._drop_deleted(session, user_id, copy)
            if latest > copy.last_seq:
                self._copy_since(session, user_id, copy)
                copy.last_seq = latest
        return copy

    def _drop_deleted(self, session: Session, user_id: str, copy: _UserCopy) -> None:
        copy.stale = False
        present = set(
            session.exec(
                select(ConceptVector.concept_id).where(
                    ConceptVector.user_id == user_id, ConceptVector.model == self.model
                )
            ).all()
        )
        gone = sorted(copy.ids - present)
        if gone:
            self.vector_store.delete_nodes(node_ids=gone)
            copy.ids -= set(gone)

    def _copy_since(self, session: Session, user_id: str, copy: _UserCopy) -> None:
        rows = session.exec(
            select(ConceptVector.concept_id, ConceptVector.vector)
            .where(
                ConceptVector.user_id == user_id,
                ConceptVector.model == self.model,
                col(ConceptVector.seq) > copy.last_seq,
            )
            .order_by(col(ConceptVector.seq))
        ).all()
        latest = {str(row[0]): bytes(row[1]) for row in rows}  # a later row replaces an earlier
        replaced = [item_id for item_id in latest if item_id in copy.ids]
        if replaced:
            self.vector_store.delete_nodes(node_ids=replaced)
        nodes = [
            TextNode(
                id_=item_id,
                text="",
                embedding=np.frombuffer(vector, dtype=np.float32).tolist(),
                metadata={"user_id": user_id, "model": self.model},
            )
            for item_id, vector in latest.items()
        ]
        for start in range(0, len(nodes), self.batch_size):
            self.vector_store.add(list(nodes[start : start + self.batch_size]))
        copy.ids.update(latest)
