"""The pgvector index: exact where it says so, near-exact through HNSW, isolated, really used.

Runs on a database of the bundled PostgreSQL 16 + pgvector server (``pgvector_url``); the
selection tests run on every backend of the ``memory`` fixture.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pytest
from conftest import fresh_postgres_database
from sqlalchemy import Engine, text
from sqlmodel import Session

from confidante.memory.index.base import exact_top
from confidante.memory.index.embedded import EmbeddedVectorIndex
from confidante.memory.index.pgvector import (
    PgVectorIndex,
    hnsw_index_name,
    pgvector_ready,
    set_ann_min_vectors,
    vector_literal,
)
from confidante.memory.storage.database import Database
from confidante.memory.store import Memory

DIM = 64
MAIN_USER_ITEMS = 3000
OTHER_USERS = ("bob", "carol", "dave")
OTHER_USER_ITEMS = 400


class HashEmbedder:
    """A random unit vector per text, the same on every call (seeded by the text's CRC)."""

    def __init__(self, dim: int = DIM, name: str | None = None) -> None:
        self.dim = dim
        self.name = name or f"test/hash-{dim}"

    def embed_documents(self, texts: Sequence[str]) -> Any:
        rows = [
            np.random.default_rng(zlib.crc32(text.encode())).standard_normal(self.dim)
            for text in texts
        ]
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(rows), self.dim)
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)

    def embed_query(self, text: str) -> Any:
        return self.embed_documents([text])[0]


class LookupEmbedder(HashEmbedder):
    """Returns given vectors for given texts (else a hashed random one)."""

    def __init__(self, vectors: dict[str, Any], dim: int = DIM) -> None:
        super().__init__(dim, name=f"test/lookup-{dim}")
        self.vectors = vectors

    def embed_documents(self, texts: Sequence[str]) -> Any:
        hashed = super().embed_documents(texts)
        rows = [self.vectors.get(text, row) for text, row in zip(texts, hashed, strict=True)]
        return np.asarray(rows, dtype=np.float32)


def remember_many(memory: Memory, user: str, texts: list[str]) -> list[str]:
    return asyncio.run(memory.aremember_many(user, texts))


def texts_of(user: str, count: int) -> list[str]:
    return [f"{user} item {i}" for i in range(count)]


@pytest.fixture(scope="module")
def filled(pgvector_url: str) -> Iterator[Memory]:
    """One database, shared by the read-only tests: alice has 3,000 vectors, three others 400."""
    with fresh_postgres_database(pgvector_url) as url:
        memory = Memory(Database.open(url), HashEmbedder())
        set_ann_min_vectors(memory.database.engine, 0)  # every user's rows in the graph
        remember_many(memory, "alice", texts_of("alice", MAIN_USER_ITEMS))
        for user in OTHER_USERS:
            remember_many(memory, user, texts_of(user, OTHER_USER_ITEMS))
        memory.database.run_sync(lambda session: session.execute(text("ANALYZE")))
        yield memory
        memory.close()


@pytest.fixture
def small(pgvector_database_url: str) -> Iterator[Memory]:
    """A fresh pgvector database with a few items per user, for tests that change it."""
    memory = Memory(Database.open(pgvector_database_url), HashEmbedder())
    set_ann_min_vectors(memory.database.engine, 0)
    for user in ("alice", *OTHER_USERS):
        remember_many(memory, user, texts_of(user, 60))
    yield memory
    memory.close()


def stored(memory: Memory, user: str) -> tuple[list[str], Any]:
    """The user's ids and vectors as the store holds them (the source of truth)."""

    def read(session: Session) -> tuple[list[str], Any]:
        rows = session.execute(
            text("SELECT concept_id, vector FROM concept_vectors WHERE user_id = :u"),
            {"u": user},
        ).all()
        matrix = np.frombuffer(b"".join(row[1] for row in rows), dtype=np.float32)
        return [str(row[0]) for row in rows], matrix.reshape(len(rows), -1)

    return memory.database.run_sync(read, write=False)


def search(memory: Memory, index: Any, user: str, query: Any, n: int) -> list[tuple[str, float]]:
    hits: list[tuple[str, float]] = memory.database.run_sync(
        lambda session: index.search(session, user, query, n), write=False
    )
    return hits


def queries(count: int, seed: int = 11) -> Any:
    matrix = np.random.default_rng(seed).standard_normal((count, DIM)).astype(np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


# ------------------------------------------------------------------------------ selection
def test_each_backend_gets_its_index(request: pytest.FixtureRequest, memory: Memory) -> None:
    engine = memory.database.engine
    if request.node.callspec.params["memory_url"] == "pgvector":
        assert pgvector_ready(engine)
        assert isinstance(memory.index, PgVectorIndex)
        assert _index_exists(engine, hnsw_index_name(memory.embedder.dim))
    else:  # SQLite, and the plain PostgreSQL without pgvector: nothing changes
        assert not pgvector_ready(engine)
        assert isinstance(memory.index, EmbeddedVectorIndex)
        if engine.url.get_backend_name() == "postgresql":
            with engine.connect() as conn:
                columns = conn.execute(
                    text(
                        "SELECT column_name FROM information_schema.columns "
                        "WHERE table_name = 'concept_vectors'"
                    )
                ).scalars()
                assert "embedding" not in set(columns)


def test_an_injected_index_is_kept_on_pgvector(pgvector_database_url: str) -> None:
    embedded = EmbeddedVectorIndex("test/hash-64")
    memory = Memory(Database.open(pgvector_database_url), HashEmbedder(), index=embedded)
    try:
        assert memory.index is embedded
        item = memory.remember("ana", "ana item 1")
        assert memory.retrieve("ana", "ana item 1", k=1)[0].id == item
    finally:
        memory.close()


def test_reopening_is_idempotent(pgvector_database_url: str) -> None:
    for _ in range(2):
        memory = Memory(Database.open(pgvector_database_url), HashEmbedder())
        assert isinstance(memory.index, PgVectorIndex)
        memory.remember("ana", "ana item 1")
        memory.close()
    memory = Memory(Database.open(pgvector_database_url), HashEmbedder())
    try:
        assert len(memory.list_items("ana")) == 1
    finally:
        memory.close()


# --------------------------------------------------------------------- exactness, recall
def test_exact_path_returns_exactly_the_numpy_top_k(filled: Memory) -> None:
    index = filled.index
    assert isinstance(index, PgVectorIndex)
    assert index.exact_threshold >= MAIN_USER_ITEMS  # the exact path
    ids, matrix = stored(filled, "alice")
    for query in queries(25):
        for n in (1, 10, 50):
            hits = search(filled, index, "alice", query, n)
            expected = exact_top(matrix, query, n)
            assert [item for item, _ in hits] == [ids[row] for row, _ in expected]
            np.testing.assert_allclose(
                [score for _, score in hits], [score for _, score in expected], atol=1e-5
            )


def test_hnsw_path_is_near_exact_and_fills_n(filled: Memory) -> None:
    index = PgVectorIndex(filled.embedder.name, exact_threshold=0)
    ids, matrix = stored(filled, "alice")
    recalls = []
    for query in queries(25, seed=5):
        hits = search(filled, index, "alice", query, 10)
        assert len(hits) == 10
        assert [score for _, score in hits] == sorted((score for _, score in hits), reverse=True)
        expected = {ids[row] for row, _ in exact_top(matrix, query, 10)}
        recalls.append(len(expected & {item for item, _ in hits}) / 10)
        assert len(search(filled, index, "bob", query, 50)) == 50  # 400 of 4,200 rows
    assert np.mean(recalls) >= 0.95


def test_similarities_are_exact_and_per_user(filled: Memory) -> None:
    index = filled.index
    ids, matrix = stored(filled, "alice")
    bob_ids, _ = stored(filled, "bob")
    query = queries(1)[0]
    wanted = [*ids[:100], *bob_ids[:5], "missing"]
    scores = filled.database.run_sync(
        lambda session: index.similarities(session, "alice", query, wanted), write=False
    )
    assert set(scores) == set(ids[:100])
    np.testing.assert_allclose([scores[i] for i in ids[:100]], matrix[:100] @ query, atol=1e-5)


# ------------------------------------------------------------------------------ isolation
@pytest.mark.parametrize("exact_threshold", [0, 20_000])
def test_search_never_returns_another_users_items(filled: Memory, exact_threshold: int) -> None:
    index = PgVectorIndex(filled.embedder.name, exact_threshold=exact_threshold)
    owned = {user: set(stored(filled, user)[0]) for user in ("alice", *OTHER_USERS)}
    _, alice_matrix = stored(filled, "alice")
    for user in OTHER_USERS:
        # queries right on alice's vectors: her items are the nearest in the whole table
        for query in alice_matrix[:5]:
            hits = search(filled, index, user, query, 50)
            assert len(hits) == 50
            assert {item for item, _ in hits} <= owned[user]
    assert search(filled, index, "nobody", alice_matrix[0], 10) == []


def test_a_short_hnsw_answer_falls_back_to_exact(
    filled: Memory, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = PgVectorIndex(filled.embedder.name, exact_threshold=0)
    ids, matrix = stored(filled, "bob")
    query = queries(1, seed=3)[0]
    expected = [ids[row] for row, _ in exact_top(matrix, query, 50)]
    hnsw_answers: list[int] = []
    real_hnsw = index._hnsw

    def short_hnsw(*args: Any) -> list[tuple[str, float]]:
        # as when the scan gives up (hnsw.max_scan_tuples) before finding n of a rare user's
        hits = real_hnsw(*args)[:7]
        hnsw_answers.append(len(hits))
        return hits

    monkeypatch.setattr(index, "_hnsw", short_hnsw)
    assert [item for item, _ in search(filled, index, "bob", query, 50)] == expected
    assert hnsw_answers == [7]
    eve = remember_many(filled, "eve", texts_of("eve", 3))  # fewer vectors than n
    try:
        hits = search(filled, index, "eve", query, 10)
        assert sorted(item for item, _ in hits) == sorted(eve)
    finally:
        filled.forget_user("eve")


def test_hnsw_settings_do_not_leak_into_the_transaction(filled: Memory) -> None:
    index = PgVectorIndex(filled.embedder.name, exact_threshold=0)

    def run(session: Session) -> tuple[str, str]:
        session.execute(text("SET LOCAL enable_sort = on"))
        index.search(session, "alice", queries(1)[0], 10)
        after = session.execute(text("SHOW enable_sort")).scalar_one()
        session.execute(text("SET LOCAL enable_sort = off"))
        index.search(session, "alice", queries(1)[0], 10)
        return after, session.execute(text("SHOW enable_sort")).scalar_one()

    assert filled.database.run_sync(run, write=False) == ("on", "off")


# ---------------------------------------------------------------- forget, update, models
@pytest.mark.parametrize("exact_threshold", [0, 20_000])
def test_forget_and_forget_user_leave_the_index(small: Memory, exact_threshold: int) -> None:
    index = PgVectorIndex(small.embedder.name, exact_threshold=exact_threshold)
    ids, matrix = stored(small, "alice")
    assert search(small, index, "alice", matrix[0], 1)[0][0] == ids[0]
    small.forget("alice", ids[0])
    assert ids[0] not in {item for item, _ in search(small, index, "alice", matrix[0], 60)}
    small.forget_user("alice")
    assert search(small, index, "alice", matrix[1], 10) == []
    assert len(search(small, index, "bob", matrix[1], 100)) == 60


def test_update_replaces_the_vector_in_the_index(small: Memory) -> None:
    ids, _ = stored(small, "alice")
    new_vector = small.embedder.embed_query("completely new text")
    small.update("alice", ids[3], text="completely new text")
    hits = search(small, small.index, "alice", new_vector, 1)
    assert hits[0][0] == ids[3] and hits[0][1] == pytest.approx(1.0, abs=1e-5)


def test_embedding_column_is_bit_exact_and_skips_non_finite(pgvector_database_url: str) -> None:
    odd = np.zeros(DIM, dtype=np.float32)
    odd[:8] = [1e-40, -0.0, 3.4e38, -1.17549435e-38, 1.4e-45, -2.5, 0.1, 1 / 3]
    bad = np.full(DIM, np.nan, dtype=np.float32)
    memory = Memory(Database.open(pgvector_database_url), LookupEmbedder({"odd": odd, "bad": bad}))
    try:
        remember_many(memory, "ana", ["odd", "bad", *texts_of("ana", 20)])

        def read(session: Session) -> list[Any]:
            return list(
                session.execute(
                    text("SELECT vector, embedding::text FROM concept_vectors ORDER BY seq")
                ).all()
            )

        rows = memory.database.run_sync(read, write=False)
        assert rows[1][1] is None  # NaN: stored, but not searchable
        for raw, embedding in [rows[0], *rows[2:]]:
            expected = np.frombuffer(raw, dtype=np.float32)
            parsed = np.asarray(embedding.strip("[]").split(","), dtype=np.float32)
            assert parsed.view(np.uint32).tolist() == expected.view(np.uint32).tolist()
        assert memory.retrieve("ana", "ana item 3", k=1)[0].text == "ana item 3"
    finally:
        memory.close()


def test_two_models_of_different_dimensions_share_the_table(pgvector_database_url: str) -> None:
    wide = Memory(Database.open(pgvector_database_url), HashEmbedder(DIM))
    narrow = Memory(Database.open(pgvector_database_url), HashEmbedder(16))
    set_ann_min_vectors(wide.database.engine, 0)
    try:
        remember_many(wide, "ana", texts_of("ana", 30))
        remember_many(narrow, "bob", texts_of("bob", 30))
        engine = wide.database.engine
        assert _index_exists(engine, hnsw_index_name(DIM))
        assert _index_exists(engine, hnsw_index_name(16))
        for memory, user, dim in ((wide, "ana", DIM), (narrow, "bob", 16)):
            index = PgVectorIndex(memory.embedder.name, exact_threshold=0)
            query = memory.embedder.embed_query(f"{user} item 7")
            assert len(query) == dim
            hits = search(memory, index, user, query, 5)
            assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
            assert memory.retrieve(user, f"{user} item 7", k=1)[0].text == f"{user} item 7"
    finally:
        wide.close()
        narrow.close()


# --------------------------------------------------------------------- it is really used
def test_plans_use_the_hnsw_index_for_large_users_and_the_btree_for_small(
    filled: Memory,
) -> None:
    name = hnsw_index_name(DIM)
    query = queries(1)[0]
    hnsw = PgVectorIndex(filled.embedder.name, exact_threshold=1000)

    def plan(user: str) -> str:
        return filled.database.run_sync(
            lambda session: hnsw.explain(session, user, query, 50), write=False
        )

    assert name in plan("alice")  # 3,000 vectors
    small_plan = plan("bob")  # 400 vectors
    assert name not in small_plan and "concept_vectors" in small_plan
    # a user too rare in the table: 50 × 4,200 / 400 rows to visit > 100
    hnsw = PgVectorIndex(filled.embedder.name, exact_threshold=0, max_visits=100)
    assert name in plan("alice")  # 50 × 4,200 / 3,000 = 70
    assert name not in plan("bob")


def test_retrieve_runs_through_the_hnsw_index(filled: Memory) -> None:
    engine = filled.database.engine
    name = hnsw_index_name(DIM)
    memory = Memory(
        filled.database,
        filled.embedder,
        index=PgVectorIndex(filled.embedder.name, exact_threshold=1000),
    )
    before = _index_scans(engine, name)
    hits = memory.retrieve("alice", "alice item 42", k=5)
    assert hits[0].text == "alice item 42"
    deadline = time.monotonic() + 15  # statistics reach the cumulative view within ~1 s
    while _index_scans(engine, name) == before and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _index_scans(engine, name) > before


def test_vector_literal_round_trips_float32() -> None:
    values = np.asarray([0.1, -1 / 3, 1e-40, 3.4e38, 0.0], dtype=np.float32)
    parsed = np.asarray(vector_literal(values).strip("[]").split(","), dtype=np.float32)
    assert parsed.view(np.uint32).tolist() == values.view(np.uint32).tolist()


# ---------------------------------------------------------------------------- helpers
def _index_exists(engine: Engine, name: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar() is not None


def _index_scans(engine: Engine, name: str) -> int:
    with engine.connect() as conn:
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))
        scans = conn.execute(
            text("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = :n"), {"n": name}
        ).scalar()
    return int(scans or 0)
