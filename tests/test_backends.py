"""The operations object of each database backend, on a real database of that backend.

SQLite always runs; PostgreSQL runs on the local server (``postgres_admin_url``: skipped
locally when unreachable, required in CI). Every operation that differs is exercised through
``database.ops``, the way the rest of the package reaches it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import fresh_postgres_database
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlmodel import Session, select

from confidante.errors import ConfigurationError
from confidante.graphs.checkpoint import OPENERS, SQLiteCheckpoints, open_checkpointer
from confidante.memory.storage.backends import (
    BACKENDS,
    PostgreSQLOperations,
    SQLiteOperations,
    backend_name,
    normalise_url,
    operations_for,
)
from confidante.memory.storage.backends.postgresql import SCHEMA_LOCK
from confidante.memory.storage.database import Database, insert_if_absent
from confidante.memory.storage.records import Concept, Summary, UserRecord
from confidante.memory.storage.schema import schema_transaction
from confidante.settings import Settings

LOCK_KEY = 0x636F6E66_74657374  # "conftest"


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty memory database of each backend."""
    if request.param == "sqlite":
        opened = Database.open(tmp_path / "memory.db")
        yield opened
        opened.dispose()
        return
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    with fresh_postgres_database(admin_url) as url:
        opened = Database.open(url)
        yield opened
        opened.dispose()


def _concepts(database: Database) -> None:
    def write(session: Session) -> None:
        session.add(Concept(id="a1", user_id="ana", text="Ana moved to Lisbon in May."))
        session.add(Concept(id="a2", user_id="ana", text="Ana's sister lives in Lisbon."))
        session.add(Concept(id="a3", user_id="ana", text="Ana drinks green tea."))
        session.add(Concept(id="b1", user_id="bob", text="Bob moved to Lisbon too."))

    database.run_sync(write)


def test_urls_and_engines_pick_one_backend_by_one_name(tmp_path: Path) -> None:
    assert set(BACKENDS) == {"sqlite", "postgresql"}
    assert operations_for(tmp_path / "x.db") is BACKENDS["sqlite"]
    for url in ("postgres://u@h/db", "postgresql://u@h/db", "postgresql+psycopg://u@h/db"):
        assert backend_name(url) == "postgresql"
        assert isinstance(operations_for(url), PostgreSQLOperations)
    assert normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    assert isinstance(operations_for(make_url("sqlite://")), SQLiteOperations)
    with pytest.raises(ConfigurationError, match="unsupported database 'mysql'"):
        operations_for("mysql://u@h/db")


def test_the_database_keeps_the_ops_of_its_engine(database: Database) -> None:
    assert database.ops is operations_for(database.engine)
    assert database.backend == database.ops.name == database.engine.dialect.name
    with database.session() as session:
        assert operations_for(session.get_bind()) is database.ops


def test_flags_say_what_the_database_can_do(database: Database) -> None:
    postgres = database.backend == "postgresql"
    assert database.ops.skip_locked is postgres
    assert database.ops.concurrent_writers is postgres


def test_full_text_matches_the_users_words_and_ranks_them(database: Database) -> None:
    _concepts(database)
    ops = database.ops

    def read(session: Session) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        return (
            ops.full_text_candidates(session, "ana", ["lisbon"], 10),
            ops.full_text_candidates(session, "ana", ["tea", "missing"], 10),
        )

    lisbon, tea = database.run_sync(read, write=False)
    assert sorted(item for item, _ in lisbon) == ["a1", "a2"]  # not Bob's
    assert all(score > 0 for _, score in lisbon)
    assert [item for item, _ in tea] == ["a3"]
    counts = database.run_sync(
        lambda s: [ops.full_text_match_count(s, "ana", "lisbon", cap) for cap in (10, 1)],
        write=False,
    )
    assert counts == [2, 1]


def test_insert_if_absent_inserts_once(database: Database) -> None:
    first = database.run_sync(lambda s: insert_if_absent(s, UserRecord(id="ana")))
    again = database.run_sync(lambda s: database.ops.insert_if_absent(s, UserRecord(id="ana")))
    assert (first, again) == (True, False)


def test_upsert_replaces_the_row_with_the_same_keys(database: Database) -> None:
    table = Summary.__table__  # type: ignore[attr-defined]

    def put(row_id: str, words: str) -> None:
        values = {"id": row_id, "user_id": "ana", "task": "chat", "text": words, "watermark": "1"}
        database.run_sync(
            lambda s: database.ops.upsert(
                s, table, values, keys=["user_id", "task"], update=["text", "watermark"]
            )
        )

    put("s1", "first")
    put("s2", "second")
    rows = database.run_sync(lambda s: s.exec(select(Summary)).all(), write=False)
    assert [(row.id, row.text) for row in rows] == [("s1", "second")]


def test_housekeeping_after_an_erasure_leaves_no_copy(database: Database) -> None:
    _concepts(database)
    secret = "Zanzibarquux"

    def write(session: Session) -> None:
        session.add(Concept(id="z", user_id="ana", text=f"The code word is {secret}."))

    database.run_sync(write)

    def forget(session: Session) -> None:
        session.delete(session.get(Concept, "z"))
        session.flush()
        database.ops.purge_deleted_text(session)

    database.run_sync(forget)
    database.truncate_wal()
    found = database.run_sync(
        lambda s: database.ops.full_text_candidates(s, "ana", [secret.lower()], 10), write=False
    )
    assert found == []
    url = database.engine.url
    if database.backend == "sqlite":  # the words and the row are gone from the files too
        assert url.database is not None
        files = [Path(url.database), Path(f"{url.database}-wal")]
        assert not any(secret.encode() in p.read_bytes() for p in files if p.exists())


def test_images_live_beside_a_sqlite_file_only(database: Database, tmp_path: Path) -> None:
    url = database.engine.url
    expected = tmp_path / "memory-images" if database.backend == "sqlite" else None
    assert database.ops.images_dir(url) == expected
    assert SQLiteOperations().images_dir(make_url("sqlite://")) is None  # in memory: no file


def test_no_native_vectors_without_pgvector(database: Database) -> None:
    # the local server has no pgvector (the pgvector tests use their own server)
    assert not database.ops.vector_column_ready(database.engine)
    with database.session() as session:
        assert database.ops.native_vector_connection(session) is None


def _lock_is_free(database: Database, key: int) -> bool:
    with database.engine.connect() as other:
        free = bool(other.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}).scalar())
        if free:
            other.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
        other.commit()
    return free


def test_process_and_schema_locks_exclude_others(database: Database) -> None:
    if not database.ops.concurrent_writers:
        pytest.skip("one writer at a time already: no advisory locks to take")
    url = database.engine.url.render_as_string(hide_password=False)
    with database.ops.process_lock(url, LOCK_KEY):
        assert not _lock_is_free(database, LOCK_KEY)
    assert _lock_is_free(database, LOCK_KEY)  # released
    with schema_transaction(database.engine):
        assert not _lock_is_free(database, SCHEMA_LOCK)
    assert _lock_is_free(database, SCHEMA_LOCK)


async def test_checkpoints_use_the_same_backend_names(settings: Settings) -> None:
    assert set(OPENERS) == set(BACKENDS)
    checkpoints = await open_checkpointer(settings)
    try:
        assert isinstance(checkpoints, SQLiteCheckpoints)
        assert checkpoints.backend == "sqlite"
        assert await checkpoints.athreads() == []
    finally:
        await checkpoints.aclose()
