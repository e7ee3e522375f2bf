"""What differs between databases: the operations every backend implements.

The rest of the package never asks which database it runs on; it asks the backend's
:class:`BackendOperations` (``database.ops``) to do the part that differs: make the engine,
create the full-text index and query it, insert or upsert without racing, lock, write vectors
in bulk, clean up after an erasure, and say where images go. Everything that is the same on
every database (the ORM tables, the queries written with SQLAlchemy's portable constructs)
stays outside.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Connection, Engine, Table
from sqlalchemy.engine import URL
from sqlmodel import Session, SQLModel

from confidante.memory.storage.backends.on_conflict import do_nothing, do_update

#: Execution option of a connection whose transaction will write (see ``Database.run_sync``):
#: a backend where one writer excludes the others takes the write lock when it begins.
WRITE_OPTION = "confidante_write"


class BackendOperations(ABC):
    """The SQL that differs between databases, for one backend.

    One instance per backend, stateless: pick it with
    :func:`~confidante.memory.storage.backends.operations_for`. Methods with a body are the
    behaviour of a backend that lacks the feature (no extension, no housekeeping); the
    abstract ones every backend must write.

    Attributes:
        name: The backend's one name, as SQLAlchemy spells it (``engine.url.get_backend_name()``).
        skip_locked: The database can lock a row for one worker and let the others skip it
            (``FOR UPDATE SKIP LOCKED``); without it, every claim succeeds.
        concurrent_writers: Several processes can write at once; False when writers queue on
            one lock (a SQLite file), where more server workers add no throughput.
    """

    name: ClassVar[str]
    skip_locked: ClassVar[bool] = False
    concurrent_writers: ClassVar[bool] = True

    # -- the engine -----------------------------------------------------------------------

    @abstractmethod
    def create_engine(self, url: URL) -> Engine:
        """Create the engine for ``url`` with this backend's options and connection set-up.

        Raises:
            ModuleNotFoundError: The URL's driver is not installed.
        """

    # -- the schema -----------------------------------------------------------------------

    def lock_schema(self, connection: Connection) -> None:
        """Make processes changing the schema take turns (called at the start of its transaction).

        The transaction is begun as a write (``BEGIN IMMEDIATE`` on SQLite), which is enough
        where one writer excludes the others.
        """
        return None  # nothing to do where the database lacks the feature

    @abstractmethod
    def full_text_ddl(self) -> Sequence[str]:
        """Return the statements that create (or upgrade) the full-text index of ``concepts``.

        They run on every open, in the schema transaction, so each must be idempotent.
        """

    def prepare_extensions(self, engine: Engine) -> None:
        """Set up optional database extensions after the schema (pgvector on PostgreSQL)."""
        return None  # nothing to do where the database lacks the feature

    # -- full-text search -----------------------------------------------------------------

    @abstractmethod
    def full_text_candidates(
        self, session: Session, user_id: str, terms: Sequence[str], n: int
    ) -> list[tuple[str, float]]:
        """Return up to ``n`` of the user's concepts matching any of ``terms``, best first.

        Args:
            session: The current session.
            user_id: Only this user's concepts match.
            terms: Lowercase words, at least one.
            n: The most rows to return (> 0).

        Returns:
            ``(concept id, score)`` pairs; a higher score is a better match.
        """

    @abstractmethod
    def full_text_match_count(self, session: Session, user_id: str, term: str, cap: int) -> int:
        """Count the user's concepts matching one word, stopping at ``cap``."""

    # -- writes that must not race --------------------------------------------------------

    @abstractmethod
    def on_conflict_insert(self, table: Table) -> Any:
        """Return the dialect's ``INSERT`` on ``table`` that takes ``ON CONFLICT`` clauses.

        Both :meth:`insert_if_absent` and :meth:`upsert` are built on it; a database without
        ``ON CONFLICT`` overrides those two instead.
        """

    def insert_if_absent(self, session: Session, row: SQLModel) -> bool:
        """Insert ``row`` unless one with its primary key exists, atomically.

        A look-up then an insert lets two concurrent writers both insert, and one fails on
        the key; this is one statement (``ON CONFLICT DO NOTHING RETURNING``).

        Returns:
            Whether the row was inserted.
        """
        return do_nothing(self.on_conflict_insert, session, row)

    def upsert(
        self,
        session: Session,
        table: Table,
        values: dict[str, Any],
        keys: Sequence[str],
        update: Sequence[str],
    ) -> None:
        """Insert a row, or update the columns ``update`` of the row with the same ``keys``.

        Args:
            session: The current session.
            table: The table.
            values: Every column's value for an insert.
            keys: The columns of a unique index that identify the row.
            update: The columns set from ``values`` when the row exists.
        """
        do_update(self.on_conflict_insert, session, table, values, keys, update)

    # -- vectors --------------------------------------------------------------------------

    def vector_column_ready(self, engine: Engine) -> bool:
        """Return whether the database can search vectors itself (the pgvector column)."""
        return False

    def native_vector_connection(self, session: Session) -> Any | None:
        """Return the driver connection for bulk writes of native vectors, or None.

        With one, :mod:`~confidante.memory.storage.vector_rows` copies rows with the database's
        own vector column filled; without, it inserts the float32 bytes only.
        """
        return None

    # -- housekeeping after an erasure ----------------------------------------------------

    def purge_deleted_text(self, session: Session) -> None:
        """Make deleted rows' words leave the full-text index's storage (in the transaction)."""
        return None  # nothing to do where the database lacks the feature

    def truncate_log(self, engine: Engine) -> None:
        """Copy the write-ahead log into the database and empty it (best effort)."""
        return None  # nothing to do where the database lacks the feature

    # -- processes and files --------------------------------------------------------------

    @contextmanager
    def process_lock(self, url: str, key: int) -> Iterator[None]:
        """Hold a lock named ``key`` across processes on the database at ``url``.

        Used while a server process prepares the database; a backend whose schema changes are
        serialised anyway takes none.
        """
        yield

    def images_dir(self, url: URL) -> Path | None:
        """Return the folder for a memory's images when the database fixes one, else None."""
        return None
