"""Writing rows of ``concept_vectors`` in batches, with the pgvector column when there is one.

On SQLite, and on PostgreSQL without pgvector, a batch is one multi-row ``INSERT`` of the
float32 bytes. Where the backend has a native vector column (PostgreSQL with pgvector,
:func:`~confidante.memory.storage.backends.pgvector_schema.prepare_pgvector`; its connection
comes from ``BackendOperations.native_vector_connection``), the batch goes through one binary
``COPY`` that also sends the ``embedding`` column itself, encoded by the ``pgvector`` package's
psycopg adapter: the database does not compute it (the fallback trigger sees it set and does
nothing), and ``ann``: whether the rows go into the HNSW graph, true once the user has more vectors
than the database's threshold (``confidante_ann_min_vectors()``; :func:`flag_large_user` adds the
user's earlier rows when the threshold is crossed). A vector that pgvector cannot store (NaN or
infinite values, more than 16,000 dimensions) is sent as NULL there, as the trigger would make
it; its bytes are stored either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import insert, text
from sqlmodel import Session

from confidante.memory.storage.backends import operations_for
from confidante.memory.storage.records import ConceptVector

#: pgvector's largest ``vector``.
MAX_VECTOR_DIM = 16_000
_COPY = (
    "COPY concept_vectors (concept_id, user_id, model, seq, vector, embedding, ann) "
    "FROM STDIN (FORMAT BINARY)"
)
_COPY_TYPES = ["varchar", "varchar", "varchar", "int4", "bytea", "vector", "bool"]


def _pgvector_connection(session: Session) -> Any | None:
    """Return the psycopg connection when the pgvector column is in place, else None."""
    return operations_for(session.get_bind()).native_vector_connection(session)


def ann_min_vectors(session: Session) -> int | None:
    """Return the database's HNSW size threshold, or None without the pgvector column."""
    if _pgvector_connection(session) is None:
        return None
    return int(session.execute(text("SELECT confidante_ann_min_vectors()")).scalar_one())


def flag_large_user(session: Session, user_id: str, before: int, after: int) -> None:
    """Put a user's rows into the HNSW graph when their sequence number crosses the threshold.

    Called when a write moves the user's vector sequence number from ``before`` to ``after``
    (rows written afterwards get ``ann`` from the writer or the trigger).
    """
    threshold = ann_min_vectors(session)
    if threshold is not None and before <= threshold < after:
        session.execute(
            text("UPDATE concept_vectors SET ann = true WHERE user_id = :user AND ann IS NOT TRUE"),
            {"user": user_id},
        )


def insert_vectors(
    session: Session,
    user_id: str,
    model: str,
    first_seq: int,
    concept_ids: Sequence[str],
    vectors: Any,
) -> None:
    """Insert the vectors of new concepts, numbered ``first_seq``, ``first_seq + 1``...

    Args:
        session: The open write transaction (pending ORM changes are flushed first).
        user_id: The owner.
        model: The embedder's name.
        first_seq: The user's vector sequence number of the first row.
        concept_ids: The concepts, one per row of ``vectors``.
        vectors: Their embeddings (float32 after conversion).
    """
    if not concept_ids:
        return
    matrix = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(concept_ids), -1)
    session.flush()
    driver = _pgvector_connection(session)
    if driver is None:
        session.execute(
            insert(ConceptVector),
            [
                {
                    "concept_id": concept_id,
                    "user_id": user_id,
                    "model": model,
                    "seq": first_seq + offset,
                    "vector": row.tobytes(),
                }
                for offset, (concept_id, row) in enumerate(zip(concept_ids, matrix, strict=True))
            ],
        )
        return
    ann = first_seq + len(concept_ids) - 1 > int(ann_min_vectors(session) or 0)
    finite: Any = np.isfinite(matrix).all(axis=1)
    storable: list[bool] = [bool(ok) and 0 < matrix.shape[1] <= MAX_VECTOR_DIM for ok in finite]
    with driver.cursor() as cursor, cursor.copy(_COPY) as copy:
        copy.set_types(_COPY_TYPES)
        for offset, (concept_id, row, ok) in enumerate(
            zip(concept_ids, matrix, storable, strict=True)
        ):
            copy.write_row(
                (
                    concept_id,
                    user_id,
                    model,
                    first_seq + offset,
                    row.tobytes(),
                    row if ok else None,
                    ann,
                )
            )
