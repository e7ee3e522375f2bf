"""Where the graph keeps its checkpoints: a SQLite file by default, PostgreSQL at scale.

:func:`open_checkpointer` picks the saver from the settings: when the memory's
``database_url`` is PostgreSQL, checkpoints go to the same database
(``langgraph-checkpoint-postgres``, extra ``postgres``); otherwise to the SQLite file
``<data_dir>/checkpoints.db`` (WAL, ``synchronous=NORMAL``: a commit survives the death of the
process, not a power cut). Every graph step is checkpointed (LangGraph's ``async``
durability: written while the next step starts), so a killed process resumes from its last
completed step.

LangGraph's async savers belong to the event loop that made them, so :class:`LoopGraphs` keeps
one compiled graph and checkpoint connection per loop that ran it (the caller's loop for
``await agent.achat(...)``, the sync twins' background loop for ``agent.chat(...)``) and closes
them all together. A SQLite connection's worker thread is a daemon: a script that forgets to
close its agent still exits (commits are already on disk; WAL keeps the file consistent).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from confidante._private import private_file
from confidante.errors import ConfigurationError
from confidante.memory.storage.backends import backend_name
from confidante.settings import Settings


@dataclass
class Checkpoints:
    """An open checkpoint saver and the connection it owns (one subclass per backend).

    Attributes:
        saver: The LangGraph saver the graph is compiled with.
        connection: Its database connection (aiosqlite or psycopg), closed by :meth:`aclose`.
        backend: ``sqlite`` or ``postgresql`` (the memory's backend names).
    """

    backend: ClassVar[str]
    saver: BaseCheckpointSaver[Any]
    connection: Any

    async def athreads(self) -> list[str]:
        """Return the id of every thread that has a checkpoint."""
        cursor = await self.connection.execute("SELECT DISTINCT thread_id FROM checkpoints")
        return [self._thread_id(row) for row in await cursor.fetchall()]

    def _thread_id(self, row: Any) -> str:
        return str(row[0])

    async def adelete_threads(self, threads: list[str]) -> None:
        """Delete every checkpoint of the given threads, leaving no copy in the database files."""
        for thread in threads:
            await self.saver.adelete_thread(thread)
        await self._after_delete()

    async def _after_delete(self) -> None:
        """Housekeeping after deleting checkpoints (none by default)."""

    async def aclose(self) -> None:
        """Close the connection."""
        await self.connection.close()


class SQLiteCheckpoints(Checkpoints):
    """Checkpoints in a SQLite file (aiosqlite, tuple rows)."""

    backend: ClassVar[str] = "sqlite"

    async def _after_delete(self) -> None:
        # secure_delete zeroed the pages; now empty the WAL
        await self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")


class PostgreSQLCheckpoints(Checkpoints):
    """Checkpoints in the memory's PostgreSQL database (psycopg, dict rows)."""

    backend: ClassVar[str] = "postgresql"

    def _thread_id(self, row: Any) -> str:
        return str(row["thread_id"])


def libpq_url(url: str) -> str:
    """Turn a SQLAlchemy URL (``postgresql+psycopg://``) into a libpq one (``postgresql://``)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


async def open_checkpointer(settings: Settings) -> Checkpoints:
    """Open the saver the settings call for (see the module docstring) and create its tables.

    Raises:
        ConfigurationError: The memory's database has no checkpoint saver here.
    """
    url = settings.database_url
    name = backend_name(str(url)) if url else SQLiteCheckpoints.backend
    opener = OPENERS.get(name)
    if opener is None:
        raise ConfigurationError(f"no checkpoint saver for the database {name!r}")
    return await opener(settings)


async def _open_sqlite(settings: Settings) -> Checkpoints:
    path = Path(settings.checkpoint_path)
    private_file(path)  # the conversation: owner-only, like the memory
    connection = await daemon_worker(aiosqlite.connect(str(path)))
    await connection.execute("PRAGMA journal_mode=WAL")
    await connection.execute("PRAGMA busy_timeout=30000")
    await connection.execute("PRAGMA synchronous=NORMAL")  # WAL: safe from process crashes
    await connection.execute("PRAGMA secure_delete=ON")  # forget_user leaves no copy
    saver = AsyncSqliteSaver(connection)
    await saver.setup()
    return SQLiteCheckpoints(saver, connection)


def daemon_worker(connection: aiosqlite.Connection) -> aiosqlite.Connection:
    """Make an unopened aiosqlite connection's worker thread a daemon.

    aiosqlite runs each connection on a non-daemon thread that only :meth:`Checkpoints.aclose`
    stops, so an agent that was never closed kept the interpreter alive after the script's end
    (``tests/test_script_exit.py`` fails if a new aiosqlite moves the thread).
    """
    worker = getattr(connection, "_thread", None)
    if isinstance(worker, threading.Thread) and not worker.is_alive():
        worker.daemon = True
    return connection


async def _open_postgresql(settings: Settings) -> Checkpoints:
    try:
        from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
        from psycopg import AsyncConnection
        from psycopg.rows import dict_row
    except ImportError as exc:
        raise ConfigurationError(
            "PostgreSQL checkpoints need langgraph-checkpoint-postgres: "
            "pip install 'confidante[postgres]'"
        ) from exc
    connection: Any = await AsyncConnection.connect(
        libpq_url(str(settings.database_url)),
        autocommit=True,
        prepare_threshold=0,
        row_factory=dict_row,
    )
    saver = AsyncPostgresSaver(connection)
    await saver.setup()
    return PostgreSQLCheckpoints(saver, connection)


#: The checkpoint saver of each memory backend, by its name (see
#: :mod:`confidante.memory.storage.backends`); a database added there gets one here.
OPENERS: dict[str, Callable[[Settings], Awaitable[Checkpoints]]] = {
    SQLiteCheckpoints.backend: _open_sqlite,
    PostgreSQLCheckpoints.backend: _open_postgresql,
}


@dataclass
class BoundGraph:
    """A graph compiled for one event loop, with the checkpoints it writes to."""

    graph: Any
    checkpoints: Checkpoints


class LoopGraphs:
    """One compiled graph and checkpoint connection per event loop; :meth:`aclose` ends them all.

    Args:
        settings: Where the checkpoints go (see :func:`open_checkpointer`).
        build: Compiles the graph with a saver.

    A loop that has ended (``asyncio.run`` returned) cannot run its saver again: its connection
    is closed when the next one is opened, from the current loop (aiosqlite and psycopg
    connections close from any loop).
    """

    def __init__(self, settings: Settings, build: Callable[[BaseCheckpointSaver[Any]], Any]):
        self.settings = settings
        self.build = build
        self._bound: dict[asyncio.AbstractEventLoop, BoundGraph] = {}

    async def aget(self) -> BoundGraph:
        """Return the running loop's graph, opening its checkpoints the first time."""
        loop = asyncio.get_running_loop()
        bound = self._bound.get(loop)
        if bound is not None:
            return bound
        await self._aclose_where(lambda other: other.is_closed())
        checkpoints = await open_checkpointer(self.settings)
        if loop in self._bound:  # another task of this loop opened one meanwhile
            await checkpoints.aclose()
            return self._bound[loop]
        bound = self._bound[loop] = BoundGraph(self.build(checkpoints.saver), checkpoints)
        return bound

    @property
    def open(self) -> list[Checkpoints]:
        """The checkpoints open now, one per loop that ran the graph since the last close."""
        return [bound.checkpoints for bound in self._bound.values()]

    async def aclose(self) -> None:
        """Close the checkpoint connection of every loop (a later call opens a new one)."""
        await self._aclose_where(lambda _: True)

    async def _aclose_where(self, ended: Callable[[asyncio.AbstractEventLoop], bool]) -> None:
        for loop in [loop for loop in self._bound if ended(loop)]:
            await self._bound.pop(loop).checkpoints.aclose()
