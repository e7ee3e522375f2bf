"""Writing rows of ``concept_vectors`` in batches, with the pgvector column when there is one.

On SQLite, and on PostgreSQL without pgvector, a batch is one multi-row ``INSERT`` of the
float32 bytes. On PostgreSQL with pgvector (:func:`~confidante.memory.schema.prepare_pgvector`),
the batch goes through one binary ``COPY`` that also sends the ``embedding`` column itself,
encoded by the ``pgvector`` package's psycopg adapter: the database does not compute it (the
fallback trigger sees it set and does nothing). A vector that pgvector cannot store (NaN or
infinite values, more than 16,000 dimensions) is sent as NULL there, as the trigger would make
it; its bytes are stored either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import insert
from sqlmodel import Session

from confidante.memory.records import ConceptVector
from confidante.memory.schema import pgvector_state

#: Key in the pooled DBAPI connection's ``info``: whether the pgvector column is in place
#: (and the adapter registered on that connection).
_INFO_KEY = "confidante_pgvector_copy"
#: pgvector's largest ``vector``.
MAX_VECTOR_DIM = 16_000
_COPY = (
    "COPY concept_vectors (concept_id, user_id, model, seq, vector, embedding) "
    "FROM STDIN (FORMAT BINARY)"
)
_COPY_TYPES = ["varchar", "varchar", "varchar", "int4", "bytea", "vector"]


def _pgvector_connection(session: Session) -> Any | None:
    """Return the psycopg connection when the pgvector column is in place, else None."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return None
    pooled = connection.connection
    ready = pooled.info.get(_INFO_KEY)
    if ready is None:
        ready = pgvector_state(connection) != "absent"
        if ready:
            from pgvector.psycopg import register_vector

            register_vector(pooled.driver_connection)
        pooled.info[_INFO_KEY] = ready
    return pooled.driver_connection if ready else None


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
    storable = np.isfinite(matrix).all(axis=1) & (0 < matrix.shape[1] <= MAX_VECTOR_DIM)
    with driver.cursor() as cursor, cursor.copy(_COPY) as copy:
        copy.set_types(_COPY_TYPES)
        for offset, (concept_id, row, ok) in enumerate(
            zip(concept_ids, matrix, storable, strict=True)
        ):
            copy.write_row(
                (concept_id, user_id, model, first_seq + offset, row.tobytes(), row if ok else None)
            )
