"""PostgreSQL: the database for several processes and large memories (``psycopg`` 3).

- Connections are checked before use (``pool_pre_ping``); processes changing the schema take
  an advisory lock for the transaction.
- Full text is a generated ``tsvector`` column with a GIN index on the words plus an owner
  token (``o`` + the md5 of the user id, :data:`OWNER_TSV`), so a search intersects the user's
  posting list with the words' inside the index, whatever the other users' data;
  ``ts_rank_cd`` ranks.
- pgvector, when the server has it (:mod:`~confidante.memory.storage.backends.pgvector_schema`):
  the vector column, bulk writes by binary ``COPY`` with it filled, search in the database.
- Summary workers claim a user with ``FOR UPDATE SKIP LOCKED``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, ClassVar

from sqlalchemy import Connection, Engine, Table, create_engine, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from sqlmodel import Session

from confidante.memory.storage.backends.base import BackendOperations
from confidante.memory.storage.backends.pgvector_schema import (
    pgvector_column_exists,
    pgvector_state,
    prepare_pgvector,
)

logger = logging.getLogger(__name__)

#: The indexed full text of a concept: its words and its owner's token.
OWNER_TSV = "tsv || array_to_tsvector(ARRAY['o' || md5(user_id)])"
#: The owner token of ``:user`` as a query, matching :data:`OWNER_TSV`.
OWNER_QUERY = "CAST(quote_literal('o' || md5(:user)) AS tsquery)"
FULL_TEXT_DDL = [
    """ALTER TABLE concepts ADD COLUMN IF NOT EXISTS tsv tsvector
       GENERATED ALWAYS AS (to_tsvector('english', text)) STORED""",
    # the words plus an owner token (``o`` + md5 of the user id), so that a search of one user
    # intersects posting lists inside the index instead of fetching every user's matches
    f"CREATE INDEX IF NOT EXISTS ix_concepts_owner_tsv ON concepts USING GIN (({OWNER_TSV}))",
    "DROP INDEX IF EXISTS ix_concepts_tsv",  # the index of earlier versions (words only)
]
#: Serialises schema creation between processes opening one PostgreSQL database at once.
SCHEMA_LOCK = 0x636F6E66_73636D61  # "confscma"
#: Key in the pooled DBAPI connection's ``info``: whether the pgvector column is in place
#: (and the adapter registered on that connection).
_VECTOR_INFO_KEY = "confidante_pgvector_copy"


class PostgreSQLOperations(BackendOperations):
    """The operations of PostgreSQL (module docstring)."""

    name: ClassVar[str] = "postgresql"
    skip_locked: ClassVar[bool] = True

    def create_engine(self, url: URL) -> Engine:
        """Create a pooled engine that checks connections before handing them out."""
        return create_engine(url, pool_pre_ping=True)

    def lock_schema(self, connection: Connection) -> None:
        """Take the schema's advisory lock until the transaction ends."""
        connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK})

    def full_text_ddl(self) -> Sequence[str]:
        """The ``tsv`` column and the GIN index on words plus owner token."""
        return FULL_TEXT_DDL

    def prepare_extensions(self, engine: Engine) -> None:
        """Set up pgvector when the server has it."""
        prepare_pgvector(engine)

    def full_text_candidates(
        self, session: Session, user_id: str, terms: Sequence[str], n: int
    ) -> list[tuple[str, float]]:
        """``tsquery`` of any word and the owner token, ranked by ``ts_rank_cd``."""
        rows = session.execute(
            text(
                "SELECT id, ts_rank_cd(tsv, q) AS score FROM concepts, "
                "to_tsquery('english', :query) AS q "
                "WHERE numnode(q) > 0 AND user_id = :user "  # only stop words: no match
                f"AND ({OWNER_TSV}) @@ (q && {OWNER_QUERY}) "
                "ORDER BY score DESC LIMIT :n"
            ),
            {"query": " | ".join(terms), "user": user_id, "n": n},
        ).all()
        return [(str(row[0]), float(row[1])) for row in rows]

    def full_text_match_count(self, session: Session, user_id: str, term: str, cap: int) -> int:
        """Count the user's concepts whose indexed text matches the word, up to ``cap``."""
        sql = (
            "SELECT 1 FROM concepts, to_tsquery('english', :term) AS q "
            f"WHERE numnode(q) > 0 AND user_id = :user AND ({OWNER_TSV}) @@ (q && {OWNER_QUERY}) "
            "LIMIT :cap"
        )
        count = session.execute(
            text(f"SELECT count(*) FROM ({sql}) AS hits"),
            {"user": user_id, "term": term, "cap": cap},
        )
        return int(count.scalar_one())

    def on_conflict_insert(self, table: Table) -> Any:
        """PostgreSQL's ``INSERT`` (``ON CONFLICT DO NOTHING`` / ``DO UPDATE``)."""
        return postgresql.insert(table)

    def vector_column_ready(self, engine: Engine) -> bool:
        """Whether the pgvector column is in place (False, with a warning, if unreadable)."""
        try:
            with engine.connect() as connection:
                return pgvector_column_exists(connection)
        except DBAPIError as exc:
            logger.warning("could not check for pgvector, not using it: %s", exc)
            return False

    def native_vector_connection(self, session: Session) -> Any | None:
        """The psycopg connection, with pgvector's adapter, when the column is in place.

        Checked once per pooled connection (kept in its ``info``).
        """
        connection = session.connection()
        pooled = connection.connection
        driver: Any = pooled.driver_connection
        ready = pooled.info.get(_VECTOR_INFO_KEY)
        if ready is None:
            ready = pgvector_state(connection) != "absent"
            if ready:
                from pgvector.psycopg import register_vector

                register_vector(driver)
            pooled.info[_VECTOR_INFO_KEY] = ready
        return driver if ready else None

    @contextmanager
    def process_lock(self, url: str, key: int) -> Iterator[None]:
        """A session advisory lock, on a connection of its own, held while the block runs."""
        engine = create_engine(url, poolclass=NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
                try:
                    yield
                finally:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                    connection.commit()
        finally:
            engine.dispose()
