"""The memory database: one SQLAlchemy engine, used from async code through worker threads.

SQLite (the embedded default) runs in WAL mode with a busy timeout so that several processes
can share one file; PostgreSQL is reached by URL. Blocking database work runs in a worker
thread (:meth:`Database.run`), so the async core never blocks the event loop and the same
engine serves sync and async callers on any event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, create_engine

from confidante.errors import ConfigurationError
from confidante.memory.storage import records as _records  # noqa: F401  (registers the tables)
from confidante.memory.storage.schema import prepare_schema

T = TypeVar("T")


def normalise_url(url_or_path: str | Path) -> str:
    """Turn a path or URL into a SQLAlchemy URL (a bare path means a SQLite file)."""
    text = str(url_or_path)
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser()}"
    if text.startswith("postgresql://") or text.startswith("postgres://"):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    return text


WRITE_OPTION = "confidante_write"


def _sqlite_begin(connection: Any) -> None:
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun by _sqlite_begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # erased text is zeroed, not left in free space
    cursor.close()


def create_memory_engine(url_or_path: str | Path) -> Engine:
    """Create an engine for the memory database and make sure its tables exist.

    Raises:
        ConfigurationError: The URL names a driver that is not installed.
    """
    url = make_url(normalise_url(url_or_path))
    kwargs: dict[str, Any] = {}
    if url.get_backend_name() == "sqlite":
        if url.database and url.database != ":memory:":
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except ModuleNotFoundError as exc:
        raise ConfigurationError(
            f"the database driver for {url.drivername!r} is not installed ({exc.name}); "
            "for PostgreSQL: pip install 'psycopg[binary]'"
        ) from exc
    if url.get_backend_name() == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
    prepare_schema(engine)
    return engine


def insert_if_absent(session: Session, row: SQLModel) -> bool:
    """Insert ``row`` unless one with the same key exists; never fails when writers race.

    On PostgreSQL and SQLite this is ``INSERT ... ON CONFLICT DO NOTHING`` (a plain look-up then
    insert lets two concurrent writers both insert, and one fails on the unique key). Other
    backends look the row up first.

    Args:
        session: The session of the current transaction.
        row: A table model instance, with every column set (defaults already applied).

    Returns:
        Whether the row was inserted (False: a row with its key was there, or came first).
    """
    table: Any = type(row).__table__  # type: ignore[attr-defined]
    values = {column.name: getattr(row, column.name) for column in table.columns}
    dialect = session.get_bind().dialect.name
    if dialect in ("postgresql", "sqlite"):
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = insert(table).values(values).on_conflict_do_nothing()
        keys = statement.returning(*table.primary_key.columns)  # rowcount is -1 on psycopg
        return session.exec(keys).first() is not None
    if session.get(type(row), [values[c.name] for c in table.primary_key.columns]) is None:
        session.add(row)
        session.flush()
        return True
    return False


class Database:
    """A memory database: an engine plus helpers to run work in sessions off the event loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def open(cls, url_or_path: str | Path) -> Database:
        """Open (and create if needed) the database at a URL or SQLite path."""
        return cls(create_memory_engine(url_or_path))

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.url.get_backend_name()

    def session(self) -> Session:
        """Return a new session (use it as a context manager)."""
        return Session(self.engine, expire_on_commit=False)

    def run_sync(self, work: Callable[[Session], T], *, write: bool = True) -> T:
        """Run ``work`` in one transaction; commit on success, roll back on error.

        Args:
            work: Receives the session.
            write: The work writes. On SQLite its transaction takes the write lock at once
                (``BEGIN IMMEDIATE``), so concurrent writers queue on the busy timeout instead
                of failing when a read-then-write transaction finds the database changed.
        """
        with self.session() as session:
            session.connection(execution_options={WRITE_OPTION: write})
            try:
                result = work(session)
                session.commit()
            except BaseException:
                session.rollback()
                raise
            return result

    async def run(self, work: Callable[[Session], T], *, write: bool = True) -> T:
        """Run ``work`` in one transaction in a worker thread (see :meth:`run_sync`)."""
        return await asyncio.to_thread(self.run_sync, work, write=write)

    def truncate_wal(self) -> None:
        """On SQLite, copy the write-ahead log into the database and empty it (best effort).

        With ``secure_delete`` on, this leaves no copy of deleted rows in either file.
        """
        if self.backend != "sqlite":
            return
        raw = self.engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
        finally:
            raw.close()

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
