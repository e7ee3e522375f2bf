"""How a tool keeps tables of its own in the memory's database.

A tool may own tables next to the memory's (the recommender's ``catalog_items``,
:mod:`confidante.tools.recommend.catalog`), so its data shares the memory's backend,
transactions and backups without a second connection. The rules:

- Define each table as a SQLModel ``table=True`` class with a name of the tool's own (never
  one of the memory's tables; they are reached through :class:`~confidante.memory.store.Memory`
  and :mod:`confidante.memory.bulk_reads`).
- Create it with :func:`create_tool_tables` when the tool is built: it creates only what is
  missing, safely when several processes start at once, so no memory migration is needed.
- Run reads and writes with ``database.run(fn, write=...)``, as the memory does, and insert a
  row that may already exist with :func:`insert_if_absent` (never fails when writers race).
- Personal data belongs in the memory (items, events), not in a tool's table: only the memory's
  rows are exported, imported and deleted by ``forget_user``.

This module is the whole of what a tool needs for that; ``confidante.memory.storage`` stays
private to the memory.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import SQLModel

from confidante.memory.storage.database import Database, insert_if_absent
from confidante.memory.storage.records import utcnow
from confidante.memory.storage.schema import create_tables

__all__ = ["Database", "create_tool_tables", "insert_if_absent", "utcnow"]


def create_tool_tables(database: Database, models: Sequence[type[SQLModel]]) -> None:
    """Create the tables of ``models`` (SQLModel table classes) that do not exist yet.

    Raises:
        TypeError: A model is not a table (``table=True``).
    """
    tables = []
    for model in models:
        table = getattr(model, "__table__", None)
        if table is None:
            raise TypeError(f"{model.__name__} is not a SQLModel table (table=True)")
        tables.append(table)
    create_tables(database.engine, tables)
