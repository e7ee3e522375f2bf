"""The interface every vector index implements, and the exact vector math they share.

:class:`VectorIndex` answers "the ``n`` stored vectors of this user most similar to ``q``".
Implementations: :class:`~confidante.memory.index.embedded.EmbeddedVectorIndex` (in this
process) and :class:`~confidante.memory.index.pgvector.PgVectorIndex` (inside PostgreSQL).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt
from sqlmodel import Session

Vector = npt.NDArray[np.float32]


class VectorIndex(Protocol):
    """Nearest-neighbour search over one user's stored vectors."""

    def search(
        self, session: Session, user_id: str, query: Vector, n: int
    ) -> list[tuple[str, float]]:
        """Return up to ``n`` ``(concept_id, cosine)`` pairs, most similar first."""
        ...

    def similarities(
        self, session: Session, user_id: str, query: Vector, ids: Sequence[str]
    ) -> dict[str, float]:
        """Return the cosine similarity of ``query`` to each listed item that has a vector."""
        ...

    def forget_user(self, user_id: str) -> None:
        """Drop everything cached for a user."""
        ...


def dot_rows(matrix: Vector, query: Vector) -> Vector:
    """Dot product of each row with ``query``, on the calling thread.

    ``einsum`` rather than ``@``: a matrix-vector product through a multi-threaded BLAS is
    ten times slower on a busy two-core machine (its threads spin against each other), and a
    single thread is fast enough for one query.
    """
    scores: Vector = np.einsum("ij,j->i", matrix, query)
    return scores


def exact_top(matrix: Vector, query: Vector, n: int) -> list[tuple[int, float]]:
    """Exact top-``n`` rows of ``matrix`` by dot product with ``query`` (helper for tests)."""
    if len(matrix) == 0 or n <= 0:
        return []
    scores = dot_rows(matrix, query)
    n = min(n, len(matrix))
    top = np.argpartition(-scores, n - 1)[:n]
    top = top[np.argsort(-scores[top], kind="stable")]
    return [(int(i), float(scores[i])) for i in top]
