"""The memory database: one SQLAlchemy engine, used from async code through worker threads.

SQLite (the embedded default) runs in WAL mode with a busy timeout so that several processes
can share one file; PostgreSQL is reached by URL. What differs between them is in
:mod:`confidante.memory.storage.backends` (``database.ops``). Blocking database work runs in a
worker thread (:meth:`Database.run`), so the async core never blocks the event loop and the same
engine serves sync and async callers on any event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel

from confidante.errors import ConfigurationError
from confidante.memory.storage import records as _records  # noqa: F401  (registers the tables)
from confidante.memory.storage.backends import WRITE_OPTION, operations_for
from confidante.memory.storage.backends import normalise_url as normalise_url
from confidante.memory.storage.backends.base import BackendOperations
from confidante.memory.storage.schema import prepare_schema

T = TypeVar("T")


def create_memory_engine(url_or_path: str | Path) -> Engine:
    """Create an engine for the memory database and make sure its tables exist.

    The backend's operations make the engine (SQLite's pragmas, PostgreSQL's pool checks).

    Raises:
        ConfigurationError: The URL names a driver that is not installed, or a database that
            is not supported.
    """
    url = make_url(normalise_url(url_or_path))
    ops = operations_for(url)
    try:
        engine = ops.create_engine(url)
    except ModuleNotFoundError as exc:
        raise ConfigurationError(
            f"the database driver for {url.drivername!r} is not installed ({exc.name}); "
            "for PostgreSQL: pip install 'psycopg[binary]'"
        ) from exc
    prepare_schema(engine)
    return engine


def insert_if_absent(session: Session, row: SQLModel) -> bool:
    """Insert ``row`` unless one with the same key exists; never fails when writers race.

    One statement (``INSERT ... ON CONFLICT DO NOTHING`` on SQLite and PostgreSQL, see
    :meth:`~confidante.memory.storage.backends.base.BackendOperations.insert_if_absent`): a
    plain look-up then insert lets two concurrent writers both insert, and one fails on the
    unique key.

    Args:
        session: The session of the current transaction.
        row: A table model instance, with every column set (defaults already applied).

    Returns:
        Whether the row was inserted (False: a row with its key was there, or came first).
    """
    return operations_for(session.get_bind()).insert_if_absent(session, row)


class Database:
    """A memory database: an engine plus helpers to run work in sessions off the event loop."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        #: What differs on this database (see :mod:`confidante.memory.storage.backends`).
        self.ops: BackendOperations = operations_for(engine)

    @classmethod
    def open(cls, url_or_path: str | Path) -> Database:
        """Open (and create if needed) the database at a URL or SQLite path."""
        return cls(create_memory_engine(url_or_path))

    @property
    def backend(self) -> str:
        """``sqlite`` or ``postgresql`` (the name of :attr:`ops`)."""
        return self.ops.name

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
        self.ops.truncate_log(self.engine)

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
