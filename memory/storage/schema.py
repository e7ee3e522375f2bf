"""Schema upkeep beyond ``create_all``: additive migrations and the backend's own parts.

- Columns added to a table in a later version are added to an existing database
  (``ALTER TABLE ... ADD COLUMN``), so a data directory survives upgrades.
- The backend adds what SQLAlchemy's models cannot say (through
  :mod:`confidante.memory.storage.backends`): the full-text index of ``concepts`` (FTS5 on
  SQLite, a ``tsvector`` column on PostgreSQL), then its extensions (pgvector on PostgreSQL,
  :mod:`~confidante.memory.storage.backends.pgvector_schema`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, Table, inspect, text
from sqlmodel import SQLModel

from confidante.memory.storage.backends import WRITE_OPTION, operations_for

#: What a summary's watermark reads (see :mod:`~confidante.memory.summaries.store`): the user's
#: latest audit entry, and the user's entries other than ``add``. Created on old databases too.
AUDIT_INDEXES = [
    "CREATE INDEX IF NOT EXISTS ix_audit_log_user_last ON audit_log (user_id, id)",
    "CREATE INDEX IF NOT EXISTS ix_audit_log_user_edits ON audit_log (user_id, id) "
    "WHERE action <> 'add'",
]
#: What the sweep reads: items that carry an expiry (``storage.expiry``), turns by age.
EXPIRY_INDEXES = [
    "CREATE INDEX IF NOT EXISTS ix_concepts_expires_at ON concepts (expires_at) "
    "WHERE expires_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS ix_events_created_at ON events (created_at)",  # retention
]


def add_missing_columns(connection: Connection) -> list[str]:
    """Add columns that the models define but an older database lacks; returns their names."""
    added: list[str] = []
    inspector = inspect(connection)
    for table in SQLModel.metadata.sorted_tables:
        if not inspector.has_table(table.name):
            continue
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present or column.primary_key:
                continue
            kind = column.type.compile(dialect=connection.dialect)
            default = getattr(column.default, "arg", None)
            clause = ""
            if isinstance(default, bool | int | float):
                clause = f" DEFAULT {int(default) if isinstance(default, bool) else default}"
            connection.execute(
                text(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}{clause}')
            )
            added.append(f"{table.name}.{column.name}")
    return added


def prepare_schema(engine: Engine) -> None:
    """Create tables, add missing columns and set up the full-text index for the backend.

    It all runs in one transaction that processes opening the database at once take in turn
    (SQLite: ``BEGIN IMMEDIATE``; PostgreSQL: an advisory lock), so none of them sees a
    half-made schema or fails creating a table another has just created.
    """
    ops = operations_for(engine)
    with schema_transaction(engine) as connection:
        SQLModel.metadata.create_all(connection)
        add_missing_columns(connection)
        for statement in [*ops.full_text_ddl(), *AUDIT_INDEXES, *EXPIRY_INDEXES]:
            connection.execute(text(statement))
    ops.prepare_extensions(engine)


@contextmanager
def schema_transaction(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in a transaction that processes changing the schema take in turn.

    SQLite: ``BEGIN IMMEDIATE`` (the database's write lock); PostgreSQL: an advisory lock held
    until the transaction ends. Parts that keep their own tables in the memory's database
    (the recommendation catalog...) create them through :func:`create_tables`.
    """
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            operations_for(engine).lock_schema(connection)
            yield connection


def create_tables(engine: Engine, tables: Sequence[Table]) -> None:
    """Create tables that do not exist yet, safely when several processes start at once."""
    with schema_transaction(engine) as connection:
        SQLModel.metadata.create_all(connection, tables=list(tables))
