"""Where the graph keeps its checkpoints: a SQLite file by default, PostgreSQL at scale.

:func:`open_checkpointer` picks the saver from the settings: when the memory's
``database_url`` is PostgreSQL, checkpoints go to the same database
(``langgraph-checkpoint-postgres``, extra ``postgres``); otherwise to the SQLite file
``<data_dir>/checkpoints.db`` (WAL, ``synchronous=NORMAL``: a commit survives the death of the
process, not a power cut). Every graph step is checkpointed (LangGraph's ``async``
durability: written while the next step starts), so a killed process resumes from its last
completed step.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiosqlite
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from confidante.errors import ConfigurationError
from confidante.settings import Settings


@dataclass
class Checkpoints:
    """An open checkpoint saver and the connection it owns.

    Attributes:
        saver: The LangGraph saver the graph is compiled with.
        connection: Its database connection (aiosqlite or psycopg), closed by :meth:`aclose`.
        backend: ``sqlite`` or ``postgres``.
    """

    saver: BaseCheckpointSaver[Any]
    connection: Any
    backend: str

    async def athreads(self) -> list[str]:
        """Return the id of every thread that has a checkpoint."""
        query = "SELECT DISTINCT thread_id FROM checkpoints"
        if self.backend == "sqlite":
            cursor = await self.connection.execute(query)
            return [str(row[0]) for row in await cursor.fetchall()]
        cursor = await self.connection.execute(query)
        return [str(row["thread_id"]) for row in await cursor.fetchall()]

    async def adelete_threads(self, threads: list[str]) -> None:
        """Delete every checkpoint of the given threads, leaving no copy in the SQLite file."""
        for thread in threads:
            await self.saver.adelete_thread(thread)
        if self.backend == "sqlite":  # secure_delete zeroed the pages; now empty the WAL
            await self.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def aclose(self) -> None:
        """Close the connection."""
        await self.connection.close()


def is_postgres(url: str | None) -> bool:
    """Return True for a PostgreSQL SQLAlchemy or libpq URL."""
    return bool(url) and str(url).split(":", 1)[0].split("+", 1)[0] in {"postgresql", "postgres"}


def libpq_url(url: str) -> str:
    """Turn a SQLAlchemy URL (``postgresql+psycopg://``) into a libpq one (``postgresql://``)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


async def open_checkpointer(settings: Settings) -> Checkpoints:
    """Open the saver the settings call for (see the module docstring) and create its tables."""
    if is_postgres(settings.database_url):
        return await _open_postgres(libpq_url(str(settings.database_url)))
    path = Path(settings.checkpoint_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = await aiosqlite.connect(str(path))
    await connection.execute("PRAGMA journal_mode=WAL")
    await connection.execute("PRAGMA busy_timeout=30000")
    await connection.execute("PRAGMA synchronous=NORMAL")  # WAL: safe from process crashes
    await connection.execute("PRAGMA secure_delete=ON")  # forget_user leaves no copy
    saver = AsyncSqliteSaver(connection)
    await saver.setup()
    return Checkpoints(saver, connection, "sqlite")


async def _open_postgres(url: str) -> Checkpoints:
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
        url, autocommit=True, prepare_threshold=0, row_factory=dict_row
    )
    saver = AsyncPostgresSaver(connection)
    await saver.setup()
    return Checkpoints(saver, connection, "postgres")
