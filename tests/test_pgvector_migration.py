"""The pgvector column: written by the batch path, filled by the trigger otherwise, migrated.

Earlier versions made ``concept_vectors.embedding`` a generated column computed by PL/pgSQL
from the float32 bytes. These tests build such a database by hand, open it with the current
code and check that it is migrated in place (values kept, searchable, new writes consistent),
and that on a new database every way of writing a vector leaves ``embedding`` equal to the
bytes.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from sqlalchemy import Connection, create_engine, text
from sqlmodel import SQLModel

from confidante.memory.index.pgvector import PgVectorIndex, set_ann_min_vectors
from confidante.memory.storage import records as _records  # noqa: F401  (registers the tables)
from confidante.memory.storage.backends.pgvector_schema import (
    ANN_MIN_VECTORS,
    POSTGRES_VECTOR_FROM_BYTES,
    pgvector_state,
)
from confidante.memory.storage.database import normalise_url
from confidante.memory.store import Memory

DIM = 16
#: The schema of the pgvector column before this version, verbatim.
OLD_COLUMN = [
    """ALTER TABLE concept_vectors ADD COLUMN IF NOT EXISTS embedding vector
       GENERATED ALWAYS AS (confidante_vector_from_bytes(vector)) STORED""",
    "ALTER TABLE concept_vectors ALTER COLUMN embedding SET STORAGE MAIN",
]


class HashEmbedder:
    """A random unit vector per text, the same on every call."""

    name = "test/hash-16"
    dim = DIM

    def embed_documents(self, texts: Sequence[str]) -> Any:
        rows = [np.random.default_rng(zlib.crc32(t.encode())).standard_normal(DIM) for t in texts]
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(rows), DIM)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)

    def embed_query(self, text: str) -> Any:
        return self.embed_documents([text])[0]


def mismatches(connection: Connection) -> int:
    """Rows whose ``embedding`` differs from the floats of their bytes (or is missing)."""
    return int(
        connection.execute(
            text(
                "SELECT count(*) FROM concept_vectors WHERE embedding IS NULL "
                "OR embedding <> confidante_vector_from_bytes(vector)"
            )
        ).scalar_one()
    )


def make_old_database(url: str, texts: list[str]) -> None:
    """Create the tables and the generated column of earlier versions, with some rows."""
    engine = create_engine(normalise_url(url))
    vectors = HashEmbedder().embed_documents(texts)
    with engine.begin() as connection:
        SQLModel.metadata.create_all(connection)
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
        connection.execute(text(POSTGRES_VECTOR_FROM_BYTES))
        for statement in OLD_COLUMN:
            connection.execute(text(statement))
        connection.execute(
            text("INSERT INTO users (id, created_at, vector_seq) VALUES ('ana', now(), :n)"),
            {"n": len(texts)},
        )
        for seq, (item, vector) in enumerate(zip(texts, vectors, strict=True), start=1):
            connection.execute(
                text(
                    "INSERT INTO concepts (id, user_id, scope, kind, text, attributes, provenance,"
                    " importance, valid_from, created_at, updated_at) VALUES (:id, 'ana', 'user',"
                    " 'fact', :text, '{}', '[]', 0.5, now(), now(), now())"
                ),
                {"id": f"old{seq}", "text": item},
            )
            connection.execute(
                text(
                    "INSERT INTO concept_vectors (concept_id, user_id, model, seq, vector) "
                    "VALUES (:id, 'ana', :model, :seq, :vector)"
                ),
                {
                    "id": f"old{seq}",
                    "model": HashEmbedder.name,
                    "seq": seq,
                    "vector": bytes(vector),
                },
            )
        assert pgvector_state(connection) == "generated"
    engine.dispose()


def test_old_generated_column_is_migrated_in_place(pgvector_database_url: str) -> None:
    old_texts = [f"Ana's old note number {i} about gardening" for i in range(30)]
    make_old_database(pgvector_database_url, old_texts)
    memory = Memory.open(pgvector_database_url, embedder=HashEmbedder())  # type: ignore[arg-type]
    try:
        with memory.database.engine.connect() as connection:
            assert pgvector_state(connection) == "ready"
            assert mismatches(connection) == 0  # the old values are kept
        assert type(memory.index).__name__ == "PgVectorIndex"
        hits = memory.retrieve("ana", old_texts[7], k=3)
        assert hits[0].id == "old8"  # the old rows are searched through the column
        new_ids = asyncio.run(memory.aremember_many("ana", [f"new fact {i}" for i in range(50)]))
        memory.update("ana", new_ids[0], text="a corrected fact about tulips")
        with memory.database.engine.connect() as connection:
            assert mismatches(connection) == 0
            count = connection.execute(text("SELECT count(*) FROM concept_vectors")).scalar_one()
        assert count == 80
        assert memory.retrieve("ana", "new fact 3", k=1)[0].id == new_ids[3]
    finally:
        memory.close()


def test_every_write_path_fills_the_column(pgvector_database_url: str) -> None:
    memory = Memory.open(pgvector_database_url, embedder=HashEmbedder())  # type: ignore[arg-type]
    try:
        ids = asyncio.run(memory.aremember_many("bob", [f"bob fact {i}" for i in range(20)]))
        memory.remember("bob", "one more fact")
        memory.update("bob", ids[2], text="bob fact two, edited")  # ORM upsert of the vector
        with memory.database.engine.begin() as connection:
            assert mismatches(connection) == 0
            # a writer that sends no embedding (older code, other tools): the trigger fills it
            connection.execute(
                text(
                    "INSERT INTO concepts (id, user_id, scope, kind, text, attributes, provenance,"
                    " importance, valid_from, created_at, updated_at) VALUES ('raw1', 'bob',"
                    " 'user', 'fact', 'raw', '{}', '[]', 0.5, now(), now(), now())"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO concept_vectors (concept_id, user_id, model, seq, vector) "
                    "VALUES ('raw1', 'bob', 'x', 99, :vector)"
                ),
                {"vector": np.arange(DIM, dtype=np.float32).tobytes()},
            )
            assert mismatches(connection) == 0
            nan = np.full(DIM, np.nan, dtype=np.float32).tobytes()
            connection.execute(
                text("UPDATE concept_vectors SET vector = :v WHERE concept_id = 'raw1'"),
                {"v": nan},
            )
            embedding = connection.execute(
                text("SELECT embedding FROM concept_vectors WHERE concept_id = 'raw1'")
            ).scalar_one()
        assert embedding is None  # pgvector stores no NaN: no embedding, bytes kept
    finally:
        memory.close()


def ann_flags(memory: Memory, user: str) -> set[bool | None]:
    with memory.database.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT DISTINCT ann FROM concept_vectors WHERE user_id = :u"), {"u": user}
        ).all()
    return {row[0] for row in rows}


def test_only_large_users_rows_go_into_the_graph(pgvector_database_url: str) -> None:
    memory = Memory.open(pgvector_database_url, embedder=HashEmbedder())  # type: ignore[arg-type]
    try:
        engine = memory.database.engine
        with engine.connect() as connection:
            default = connection.execute(text("SELECT confidante_ann_min_vectors()")).scalar()
        assert default == ANN_MIN_VECTORS
        set_ann_min_vectors(engine, 25)
        first = asyncio.run(memory.aremember_many("big", [f"big fact {i}" for i in range(20)]))
        memory.remember("small", "a small user's only fact")
        assert ann_flags(memory, "big") == {False}
        asyncio.run(memory.aremember_many("big", [f"big fact {i}" for i in range(20, 30)]))
        assert ann_flags(memory, "big") == {True}  # crossing the threshold adds earlier rows
        memory.update("big", first[0], text="big fact zero, edited")
        assert ann_flags(memory, "big") == {True}
        assert ann_flags(memory, "small") == {False}
        index = PgVectorIndex(HashEmbedder.name, exact_threshold=0)
        query = HashEmbedder().embed_query("big fact 7")
        with memory.database.session() as session:
            assert "ix_concept_vectors_ann_16" in index.explain(session, "big", query, 5)
            assert "ix_concept_vectors_ann_16" not in index.explain(session, "small", query, 5)
            assert index.search(session, "big", query, 1)[0][1] == pytest.approx(1.0, abs=1e-5)
            assert len(index.search(session, "small", query, 5)) == 1
        set_ann_min_vectors(engine, 0)
        assert ann_flags(memory, "small") == {True}
    finally:
        memory.close()
