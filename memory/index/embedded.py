"""The embedded vector index: a per-user matrix in this process, exact or HNSW search.

The database stays the source of truth (``concept_vectors``); the index is a cache of it.

:class:`EmbeddedVectorIndex` keeps, per user, a float32 matrix loaded from the database. Every
vector row carries a per-user sequence number (``seq``) bumped by each write, so a refresh
loads only the rows written since the last one — also those written by other processes. Search
is exact (one matrix product) up to ``ann_threshold`` vectors per user; above it, approximate:
by default (``ann="sketch"``) a scan of the vectors' sign bits picks a thousand candidates that
are rescored exactly (:mod:`confidante.memory.index.sketch`: 0.97 of the exact top 10 where an
HNSW graph found 0.73); with ``ann="hnsw"`` an HNSW graph (``usearch``) is built in a
background thread and used once ready, with exact search meanwhile. New vectors are appended
cheaply: the matrix grows into spare rows (a full copy only every quarter of growth), the
sketch packs only the new rows, and new points are added to a ready HNSW graph, which is
rebuilt only when a stored vector changed. Deleted and superseded items may linger in the
cache; the store drops them when it reads the candidates' rows, and a refresh rebuilds a
user's cache when rows have disappeared.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlmodel import Session, col, select

from confidante.memory.index.base import Vector, dot_rows
from confidante.memory.index.sketch import DEFAULT_POOL, SignSketch
from confidante.memory.storage.records import ConceptVector, UserRecord

logger = logging.getLogger(__name__)


def _empty() -> Vector:
    return np.zeros((0, 0), dtype=np.float32)


@dataclass
class _UserVectors:
    """One user's cached vectors: ``matrix`` is a view of the first rows of ``buffer``."""

    ids: list[str] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)
    matrix: Vector = field(default_factory=_empty)
    buffer: Vector = field(default_factory=_empty)
    last_seq: int = 0
    ann: Any = None
    ann_size: int = 0
    building: bool = False
    sketch: SignSketch | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def nbytes(self) -> int:
        return int(self.buffer.nbytes)

    def append(self, vectors: Vector) -> None:
        """Append rows to ``matrix``, growing ``buffer`` by a quarter when it is full.

        Readers holding the previous ``matrix`` keep a valid view of the rows they saw.
        """
        first = self.buffer.ndim != 2 or self.buffer.shape[1] != vectors.shape[1]
        count = 0 if first else len(self.matrix)
        needed = count + len(vectors)
        if first or len(self.buffer) < needed:  # the first load leaves room to grow too
            grown = np.empty((needed + max(needed // 4, 256), vectors.shape[1]), np.float32)
            if count:
                grown[:count] = self.matrix
            grown[count:needed] = vectors
            self.buffer = grown
        else:
            self.buffer[count:needed] = vectors
        self.matrix = self.buffer[:needed]


class EmbeddedVectorIndex:
    """An in-process cache of each user's vectors with exact or HNSW search.

    Args:
        model: Only vectors stored by this embedder are indexed.
        ann_threshold: Users with more vectors than this are searched approximately.
        max_cache_bytes: Users' matrices are evicted (least recently used) beyond this.
        ann: ``"sketch"`` (sign-bit scan, then exact rescoring) or ``"hnsw"`` (usearch graph).
        sketch_pool: Candidates the sketch hands to exact rescoring per search (at least).
    """

    def __init__(
        self,
        model: str,
        ann_threshold: int = 50_000,
        max_cache_bytes: int = 2 << 30,
        *,
        ann: str = "sketch",
        sketch_pool: int = DEFAULT_POOL,
    ) -> None:
        if ann not in ("sketch", "hnsw"):
            raise ValueError(f"ann must be 'sketch' or 'hnsw', not {ann!r}")
        self.model = model
        self.ann = ann
        self.sketch_pool = sketch_pool
        self.ann_threshold = ann_threshold
        self.max_cache_bytes = max_cache_bytes
        self._users: OrderedDict[str, _UserVectors] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ search
    def search(
        self, session: Session, user_id: str, query: Vector, n: int
    ) -> list[tuple[str, float]]:
        """Return the ``n`` most similar items of the user, refreshing from the database."""
        cache = self._refresh(session, user_id)
        with cache.lock:  # a consistent view; the HNSW graph is not searched while it grows
            ids, matrix = cache.ids, cache.matrix
            count = len(matrix)
            if count == 0 or n <= 0:
                return []
            if self.ann == "sketch" and count > self.ann_threshold:
                sketch = self._sketch(cache)
                return [(ids[row], score) for row, score in sketch.search(matrix, query, n)]
            if cache.ann is not None and cache.ann_size == count:
                matches = cache.ann.search(query, min(n, count))
                return [
                    (ids[int(key)], 1.0 - float(distance))
                    for key, distance in zip(matches.keys, matches.distances, strict=True)
                ]
        if count > self.ann_threshold:
            self._build_ann_later(user_id, cache)
        scores = dot_rows(matrix, query)
        n = min(n, count)
        top = np.argpartition(-scores, n - 1)[:n]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(ids[int(i)], float(scores[i])) for i in top]

    def similarities(
        self, session: Session, user_id: str, query: Vector, ids: Sequence[str]
    ) -> dict[str, float]:
        """Return exact cosine similarities for the listed items."""
        cache = self._refresh(session, user_id)
        with cache.lock:
            matrix = cache.matrix
            rows = [(item, cache.rows[item]) for item in ids if item in cache.rows]
        rows = [(item, row) for item, row in rows if row < len(matrix)]
        if not rows:
            return {}
        scores = dot_rows(matrix[[row for _, row in rows]], query)
        return {item: float(score) for (item, _), score in zip(rows, scores, strict=True)}

    def nearest_many(
        self, session: Session, user_id: str, queries: Vector
    ) -> list[tuple[str, float] | None]:
        """Return the most similar item of the user for each query row (one matrix product)."""
        cache = self._refresh(session, user_id)
        queries = np.atleast_2d(queries)
        if not cache.ids:
            return [None] * len(queries)
        scores = cache.matrix @ queries.T
        best = scores.argmax(axis=0)
        return [(cache.ids[int(i)], float(scores[i, j])) for j, i in enumerate(best)]

    def warm(self, session: Session, user_id: str) -> None:
        """Load a user's vectors now and, for a large user, build the HNSW graph now.

        Searches never wait for a graph (they are exact until it is ready); an application
        that wants its first queries fast warms its users at start-up.
        """
        cache = self._refresh(session, user_id)
        if self.ann == "sketch":
            if len(cache.ids) > self.ann_threshold:
                with cache.lock:
                    self._sketch(cache)
            return
        stale = cache.ann is None or cache.ann_size != len(cache.ids)
        if len(cache.ids) > self.ann_threshold and stale and not cache.building:
            cache.building = True
            self._build_ann(user_id, cache)

    def forget_user(self, user_id: str) -> None:
        """Drop the user's cached vectors."""
        with self._lock:
            self._users.pop(user_id, None)

    # ----------------------------------------------------------------- refresh
    def _refresh(self, session: Session, user_id: str) -> _UserVectors:
        with self._lock:
            cache = self._users.get(user_id)
            if cache is None:
                cache = self._users[user_id] = _UserVectors()
            self._users.move_to_end(user_id)
        refreshed: set[str] = session.info.setdefault("confidante_refreshed_vectors", set())
        if user_id in refreshed:  # already brought up to date in this transaction
            return cache
        refreshed.add(user_id)
        with cache.lock:
            latest = session.exec(
                select(UserRecord.vector_seq).where(UserRecord.id == user_id)
            ).first()
            latest = int(latest or 0)
            if latest < cache.last_seq:  # the user was erased and written again
                cache.ids, cache.rows, cache.last_seq = [], {}, 0
                cache.matrix, cache.buffer = _empty(), _empty()
                cache.ann, cache.ann_size, cache.sketch = None, 0, None
            if latest > cache.last_seq:
                self._load_since(session, user_id, cache)
                cache.last_seq = latest
        self._evict()
        return cache

    def _load_since(self, session: Session, user_id: str, cache: _UserVectors) -> None:
        rows = session.exec(
            select(ConceptVector.concept_id, ConceptVector.seq, ConceptVector.vector)
            .where(
                ConceptVector.user_id == user_id,
                ConceptVector.model == self.model,
                col(ConceptVector.seq) > cache.last_seq,
            )
            .order_by(col(ConceptVector.seq))
        ).all()
        if not rows:
            return
        fresh = np.frombuffer(b"".join(row[2] for row in rows), dtype=np.float32)
        fresh = fresh.reshape(len(rows), -1)
        appended: list[int] = []
        updates: list[tuple[int, int]] = []
        for position, (concept_id, _, _) in enumerate(rows):
            existing = cache.rows.get(concept_id)
            if existing is None:
                cache.rows[concept_id] = len(cache.ids) + len(appended)
                appended.append(position)
            else:
                updates.append((existing, position))
        new_ids = [rows[position][0] for position in appended]
        for row, position in updates:
            cache.matrix[row] = fresh[position]
        if updates:
            cache.ann, cache.ann_size = None, 0  # an HNSW graph cannot move points cheaply
            if cache.sketch is not None:
                cache.sketch.reset()
        if appended:
            count = len(cache.matrix)
            cache.append(fresh[appended])
            if cache.ann is not None and cache.ann_size == count:  # a ready graph grows too
                cache.ann.add(np.arange(count, count + len(appended)), fresh[appended])
                cache.ann_size = count + len(appended)
        cache.ids.extend(new_ids)
        cache.last_seq = int(rows[-1][1])

    def _evict(self) -> None:
        with self._lock:
            total = sum(cache.nbytes for cache in self._users.values())
            while total > self.max_cache_bytes and len(self._users) > 1:
                _, cache = self._users.popitem(last=False)
                total -= cache.nbytes

    # --------------------------------------------------------------------- ann
    def _sketch(self, cache: _UserVectors) -> SignSketch:
        """The user's sign sketch, brought up to the matrix (call with ``cache.lock`` held)."""
        if cache.sketch is None:
            cache.sketch = SignSketch(self.sketch_pool)
        cache.sketch.sync(cache.matrix)
        return cache.sketch

    def _build_ann_later(self, user_id: str, cache: _UserVectors) -> None:
        if cache.building:
            return
        cache.building = True
        thread = threading.Thread(
            target=self._build_ann, args=(user_id, cache), name="confidante-ann", daemon=True
        )
        thread.start()

    @staticmethod
    def _build_ann(user_id: str, cache: _UserVectors) -> None:
        try:
            from usearch.index import Index
        except ImportError:
            logger.warning("usearch is not installed: exact search for large users")
            return
        try:
            with cache.lock:
                matrix, size = cache.matrix.copy(), len(cache.ids)
            index = Index(ndim=matrix.shape[1], metric="cos", dtype="f16", connectivity=16)
            index.add(np.arange(size), matrix)
            with cache.lock:
                if len(cache.ids) >= size:
                    if len(cache.ids) > size:
                        extra = np.arange(size, len(cache.ids))
                        index.add(extra, cache.matrix[size:])
                    cache.ann, cache.ann_size = index, len(cache.ids)
            logger.info("built an HNSW index of %d vectors for one user", size)
        finally:
            cache.building = False
