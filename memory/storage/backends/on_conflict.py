"""``INSERT ... ON CONFLICT``: the race-free writes of the databases that spell it that way.

SQLite and PostgreSQL share the syntax (each through its own SQLAlchemy ``insert``), so their
operations call these with their dialect's ``insert``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table
from sqlmodel import Session, SQLModel

#: A dialect's ``insert`` (``sqlalchemy.dialects.sqlite.insert`` or ``...postgresql.insert``).
Insert = Callable[[Table], Any]


def do_nothing(insert: Insert, session: Session, row: SQLModel) -> bool:
    """``INSERT ... ON CONFLICT DO NOTHING RETURNING key``; returns whether a row went in."""
    table: Any = type(row).__table__  # type: ignore[attr-defined]
    values = {column.name: getattr(row, column.name) for column in table.columns}
    statement = insert(table).values(values).on_conflict_do_nothing()
    keys = statement.returning(*table.primary_key.columns)  # rowcount is -1 on psycopg
    return session.exec(keys).first() is not None


def do_update(
    insert: Insert,
    session: Session,
    table: Table,
    values: dict[str, Any],
    keys: Sequence[str],
    update: Sequence[str],
) -> None:
    """``INSERT ... ON CONFLICT (keys) DO UPDATE SET`` the ``update`` columns (one statement)."""
    statement = insert(table).values(values)
    updates = {name: statement.excluded[name] for name in update}
    session.exec(statement.on_conflict_do_update(index_elements=list(keys), set_=updates))
