"""Vector search inside PostgreSQL with pgvector: :class:`PgVectorIndex`, and index selection.

Selection (:func:`default_vector_index`, used by :class:`~confidante.memory.store.Memory` when
no ``index`` is passed): on PostgreSQL, when ``concept_vectors`` has its pgvector column (the
``vector`` extension is installed in that database;
:func:`~confidante.memory.storage.backends.pgvector_schema.prepare_pgvector` creates the column
when the database is opened), the memory searches with :class:`PgVectorIndex`; otherwise
(SQLite, PostgreSQL without pgvector) with the in-process
:class:`~confidante.memory.index.embedded.EmbeddedVectorIndex`. Pass ``Memory(..., index=...)``
to choose.

How :class:`PgVectorIndex` searches:

- ``concept_vectors.vector`` (float32 bytes) stays the source of truth; the column
  ``embedding vector`` holds the same floats, sent by the batch write path
  (:mod:`confidante.memory.storage.vector_rows`) or filled by a trigger, so every process sees every
  commit at once: there is no cache to refresh or to drop.
- The HNSW graphs (:mod:`confidante.memory.index.pgvector_hnsw`): one partial index per dimension,
  over the rows of users large enough to need it (``ann``). Stored vectors are unit length, so
  the inner product is the cosine, and scores equal those of the embedded index.
- A user with at most ``exact_threshold`` vectors (counted by the user's vector sequence
  number, an upper bound), or whose rows are not in the graph, is searched exactly: the
  user's rows through the btree on ``user_id``, then the top ``n`` inner products — exact,
  and as fast as HNSW at that size.
  So is a user whose rows are too rare in the table for a filtered graph scan to find ``n``
  of them cheaply (``max_visits``, from the graph's row estimate).
- Any other user goes through the HNSW index with pgvector 0.8's iterative index scan
  (``hnsw.iterative_scan = relaxed_order``, ``hnsw.ef_search``), filtered on the user and the
  model, so the scan continues until ``n`` of the user's rows are found. Sorting is disabled
  for that one statement so that the planner cannot prefer a sort on stale estimates. If the
  scan stops first (``hnsw.max_scan_tuples``), the search falls back to the exact scan. HNSW
  is approximate: the exact top ``n`` may lose a few near-ties (measured by
  ``benchmarks/memory_scale.py`` as ``dense_recall_at_10``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from confidante.memory.index.base import Vector, VectorIndex
from confidante.memory.index.embedded import EmbeddedVectorIndex
from confidante.memory.index.pgvector_hnsw import (
    ensure_hnsw_index,
    hnsw_index_name,
    indexed_type,
    set_ann_min_vectors,
)
from confidante.memory.storage.backends import operations_for

if TYPE_CHECKING:
    from confidante.memory.embeddings.text import Embedder
    from confidante.memory.storage.database import Database

logger = logging.getLogger(__name__)

Hit = tuple[str, float]
__all__ = [
    "PgVectorIndex",
    "default_vector_index",
    "ensure_hnsw_index",
    "hnsw_index_name",
    "pgvector_ready",
    "set_ann_min_vectors",
    "vector_literal",
]


def pgvector_ready(engine: Engine) -> bool:
    """Return whether the database is PostgreSQL with the pgvector column in place."""
    return operations_for(engine).vector_column_ready(engine)


def default_vector_index(database: Database, embedder: Embedder) -> VectorIndex:
    """Return the vector index for a memory: pgvector when the database has it, else embedded.

    With pgvector, the HNSW index for the embedder's dimension is created if missing.
    """
    if not pgvector_ready(database.engine):
        return EmbeddedVectorIndex(embedder.name)
    try:
        ensure_hnsw_index(database.engine, int(getattr(embedder, "dim", 0) or 0))
    except DBAPIError as exc:  # e.g. no right to create an index: exact search still works
        logger.warning("could not create the HNSW index, searching exactly: %s", exc)
    return PgVectorIndex(embedder.name)


def vector_literal(vector: Vector) -> str:
    """Return pgvector's text form of a float32 vector; it parses back to the same floats."""
    values = np.asarray(vector, dtype=np.float32).ravel().tolist()
    return "[" + ",".join(map(repr, values)) + "]"


class PgVectorIndex:
    """Nearest-neighbour search over ``concept_vectors.embedding`` inside PostgreSQL.

    Holds no state about users: every call reads the database in the caller's transaction.
    :func:`default_vector_index` also creates the HNSW index for the embedder's dimension; when
    passing an instance to ``Memory`` yourself, call :func:`ensure_hnsw_index` once.

    Args:
        model: Only vectors stored by this embedder are searched.
        exact_threshold: Users with at most this many vectors are searched exactly (an exact
            scan of 10,000 384-d vectors takes about as long as a filtered HNSW scan).
        max_visits: Users whose rows are so rare in the table that a filtered HNSW scan would
            visit more than this many rows to find ``n`` of theirs (``n`` × table rows / user
            rows) are searched exactly too.
        ef_search: HNSW candidate list size (raised to ``n`` when a search asks for more).
        near_ef_search: The same for :meth:`nearest_many` (one nearest item per new item,
            to find near-duplicates, which are very close: a short list finds them).
        max_scan_tuples: ``hnsw.max_scan_tuples`` for iterative scans (None: the server's).
    """

    def __init__(
        self,
        model: str,
        *,
        exact_threshold: int = 10_000,
        max_visits: int = 20_000,
        ef_search: int = 100,
        near_ef_search: int = 20,
        max_scan_tuples: int | None = None,
    ) -> None:
        self.model = model
        self.exact_threshold = exact_threshold
        self.max_visits = max_visits
        self.ef_search = ef_search
        self.near_ef_search = near_ef_search
        self.max_scan_tuples = max_scan_tuples

    # ------------------------------------------------------------------ search
    def search(
        self, session: Session, user_id: str, query: Vector, n: int
    ) -> list[tuple[str, float]]:
        """Return up to ``n`` of the user's ``(concept_id, cosine)`` pairs, most similar first."""
        if n <= 0:
            return []
        query = np.asarray(query, dtype=np.float32).ravel()
        size, rows = self._sizes(session, user_id)
        if size == 0:
            return []
        if self._uses_hnsw(size, rows, len(query), n):
            hits = self._hnsw(session, user_id, query, n)
            if len(hits) >= n:
                return hits
        return self._exact(session, user_id, query, n)

    def similarities(
        self, session: Session, user_id: str, query: Vector, ids: Sequence[str]
    ) -> dict[str, float]:
        """Return the cosine similarity of ``query`` to each listed item of the user."""
        if not ids:
            return {}
        query = np.asarray(query, dtype=np.float32).ravel()
        rows = session.execute(
            text(
                "SELECT concept_id, -(embedding <#> CAST(:query AS vector)) FROM concept_vectors "
                "WHERE user_id = :user AND model = :model AND concept_id = ANY(:ids) "
                f"AND vector_dims(embedding) = {len(query)}"
            ),
            {
                "query": vector_literal(query),
                "user": user_id,
                "model": self.model,
                "ids": list(ids),
            },
        ).all()
        return {str(row[0]): float(row[1]) for row in rows}

    def nearest_many(
        self, session: Session, user_id: str, queries: Vector
    ) -> list[tuple[str, float] | None]:
        """Return the user's most similar item for each query row (near-duplicate checks).

        A small user's vectors are read once and scored by one matrix product; a large user
        is searched through the HNSW index, all queries in one statement.
        """
        queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
        size, rows = self._sizes(session, user_id)
        if size == 0 or len(queries) == 0:
            return [None] * len(queries)
        dim = queries.shape[1]
        if not self._uses_hnsw(size, rows, dim, 1):
            found = session.execute(
                text(
                    "SELECT concept_id, vector FROM concept_vectors "
                    "WHERE user_id = :user AND model = :model AND length(vector) = :bytes"
                ),
                {"user": user_id, "model": self.model, "bytes": 4 * dim},
            ).all()
            if not found:
                return [None] * len(queries)
            matrix = np.frombuffer(b"".join(row[1] for row in found), dtype=np.float32)
            scores = matrix.reshape(len(found), dim) @ queries.T
            best = scores.argmax(axis=0)
            return [(str(found[i][0]), float(scores[i, j])) for j, i in enumerate(best)]
        kind = indexed_type(dim)
        literal = "{" + ",".join(f'"{vector_literal(q)}"' for q in queries) + "}"
        with self._settings(session, 1, hnsw=True, ef_search=self.near_ef_search):
            found = session.execute(
                text(
                    "SELECT q.ord, best.concept_id, best.score "
                    "FROM unnest(CAST(:queries AS vector[])) WITH ORDINALITY AS q(v, ord) "
                    "CROSS JOIN LATERAL (SELECT concept_id, -(embedding <#> q.v) AS score "
                    "FROM concept_vectors WHERE user_id = :user AND model = :model "
                    f"AND vector_dims(embedding) = {int(dim)} AND ann "
                    f"ORDER BY embedding::{kind} <#> q.v::{kind} LIMIT 1) AS best"
                ),
                {"queries": literal, "user": user_id, "model": self.model},
            ).all()
        nearest: list[tuple[str, float] | None] = [None] * len(queries)
        for ordinal, concept_id, score in found:
            nearest[int(ordinal) - 1] = (str(concept_id), float(score))
        return nearest

    def forget_user(self, user_id: str) -> None:
        """Nothing to drop: the index lives in the database, whose rows are already gone."""

    def explain(self, session: Session, user_id: str, query: Vector, n: int) -> str:
        """Return PostgreSQL's plan of the statement :meth:`search` runs first (diagnostics)."""
        query = np.asarray(query, dtype=np.float32).ravel()
        hnsw = self._uses_hnsw(*self._sizes(session, user_id), len(query), n)
        statement = self._hnsw_sql(len(query)) if hnsw else self._exact_sql(len(query))
        params = self._params(user_id, query, n)
        with self._settings(session, n, hnsw):
            lines = session.execute(text("EXPLAIN " + statement), params).scalars().all()
        return "\n".join(str(line) for line in lines)

    # --------------------------------------------------------------- internals
    def _uses_hnsw(self, size: int, rows: float, dim: int, n: int) -> bool:
        if size <= self.exact_threshold or rows < 0 or indexed_type(dim) is None:
            return False
        return rows == 0 or n * rows / size <= self.max_visits  # rows == 0: never analysed

    @staticmethod
    def _sizes(session: Session, user_id: str) -> tuple[int, float]:
        """Return the user's vector count (bounded above) and the estimated rows in the graphs.

        The count is the user's vector sequence number, at least their number of vectors.
        The graphs hold the rows of large users only (``ann``).
        """
        size, rows, least = session.execute(
            text(
                "SELECT (SELECT vector_seq FROM users WHERE id = :user), "
                "(SELECT sum(greatest(c.reltuples, 0)) FROM pg_index i "
                "JOIN pg_class c ON c.oid = i.indexrelid "
                "WHERE i.indrelid = to_regclass('concept_vectors') "
                "AND c.relname LIKE 'ix_concept_vectors_ann_%'), "
                "confidante_ann_min_vectors()"
            ),
            {"user": user_id},
        ).one()
        if rows is None or int(size or 0) <= int(least):  # no graph, or the user is not in it
            return int(size or 0), -1.0
        return int(size or 0), float(rows or 0)

    @staticmethod
    def _exact_sql(dim: int) -> str:
        return (
            "SELECT concept_id, -(embedding <#> CAST(:query AS vector)) AS score "
            "FROM concept_vectors WHERE user_id = :user AND model = :model "
            f"AND vector_dims(embedding) = {int(dim)} "
            "ORDER BY score DESC, concept_id LIMIT :n"
        )

    @staticmethod
    def _hnsw_sql(dim: int) -> str:
        kind = indexed_type(dim)
        return (
            "SELECT concept_id, -(embedding <#> CAST(:query AS vector)) AS score "
            "FROM concept_vectors WHERE user_id = :user AND model = :model "
            f"AND vector_dims(embedding) = {int(dim)} "
            f"AND ann ORDER BY embedding::{kind} <#> CAST(:query AS {kind}) LIMIT :n"
        )

    def _params(self, user_id: str, query: Vector, n: int) -> dict[str, Any]:
        return {"query": vector_literal(query), "user": user_id, "model": self.model, "n": n}

    def _exact(self, session: Session, user_id: str, query: Vector, n: int) -> list[Hit]:
        rows = session.execute(text(self._exact_sql(len(query))), self._params(user_id, query, n))
        return [(str(row[0]), float(row[1])) for row in rows]

    def _hnsw(self, session: Session, user_id: str, query: Vector, n: int) -> list[Hit]:
        with self._settings(session, n, hnsw=True):
            rows = session.execute(
                text(self._hnsw_sql(len(query))), self._params(user_id, query, n)
            ).all()
        hits = [(str(row[0]), float(row[1])) for row in rows]
        hits.sort(key=lambda hit: (-hit[1], hit[0]))  # relaxed order: nearly sorted already
        return hits

    @contextmanager
    def _settings(
        self, session: Session, n: int, hnsw: bool, ef_search: int | None = None
    ) -> Iterator[None]:
        """Set the HNSW scan's parameters for the next statement, then restore the planner's.

        Sorting is disabled so that the planner takes the only plan that yields rows in order
        without one, the HNSW index scan (its estimates for one user's rows can be stale).
        """
        if not hnsw:
            yield
            return
        settings = {
            "enable_sort": "off",
            "hnsw.ef_search": str(max(ef_search or self.ef_search, n)),
            "hnsw.iterative_scan": "relaxed_order",
        }
        if self.max_scan_tuples is not None:
            settings["hnsw.max_scan_tuples"] = str(self.max_scan_tuples)
        names = list(settings)
        assignments = ", ".join(f"set_config(:name{i}, :value{i}, true)" for i in range(len(names)))
        params = {f"name{i}": name for i, name in enumerate(names)}
        params.update({f"value{i}": settings[name] for i, name in enumerate(names)})
        previous = session.execute(
            text(f"SELECT current_setting('enable_sort'), {assignments}"), params
        ).scalar_one()
        try:
            yield
        finally:
            session.execute(
                text("SELECT set_config('enable_sort', :previous, true)"), {"previous": previous}
            )
