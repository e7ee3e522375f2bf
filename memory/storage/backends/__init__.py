"""One operations object per database: the only place that knows which database it is.

SQLite (:mod:`.sqlite`) and PostgreSQL (:mod:`.postgresql`) each implement
:class:`~.base.BackendOperations`; :func:`operations_for` picks one from an engine, a
connection or a URL, and :class:`~confidante.memory.storage.database.Database` keeps it as
``database.ops``. Code elsewhere asks the ops object (``database.ops.upsert(...)``) or reads
its flags (``ops.skip_locked``), never the dialect's name.

Adding a third database (say ``mysql``):

1. Write ``backends/mysql.py`` with a subclass of :class:`~.base.BackendOperations`: set
   ``name`` to SQLAlchemy's backend name and implement the abstract methods (engine,
   full-text DDL and query, insert-if-absent, upsert); override the others where the
   database has the feature (locks, extensions, housekeeping, an images folder).
2. Add it to :data:`BACKENDS` below, and map its URL schemes in :func:`normalise_url` if
   users spell them differently from SQLAlchemy.
3. Add it to the parametrised backend tests (``tests/test_backends.py``), and give the graph's
   checkpoints a saver for it (``confidante.graphs.checkpoint.OPENERS``).
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import URL, make_url

from confidante.errors import ConfigurationError
from confidante.memory.storage.backends.base import WRITE_OPTION, BackendOperations
from confidante.memory.storage.backends.postgresql import PostgreSQLOperations
from confidante.memory.storage.backends.sqlite import SQLiteOperations

__all__ = [
    "BACKENDS",
    "WRITE_OPTION",
    "BackendOperations",
    "PostgreSQLOperations",
    "SQLiteOperations",
    "backend_name",
    "normalise_url",
    "operations_for",
]

#: The supported backends by name (SQLAlchemy's ``get_backend_name()``), one instance each.
BACKENDS: dict[str, BackendOperations] = {
    ops.name: ops for ops in (SQLiteOperations(), PostgreSQLOperations())
}


def normalise_url(url_or_path: str | Path) -> str:
    """Turn a path or URL into a SQLAlchemy URL.

    A bare path means a SQLite file; ``postgres://`` and ``postgresql://`` (libpq's spellings)
    mean PostgreSQL through psycopg 3.
    """
    text = str(url_or_path)
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser()}"
    if text.startswith("postgresql://") or text.startswith("postgres://"):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    return text


def backend_name(target: Engine | Connection | URL | str | Path) -> str:
    """Return the backend's one name (``sqlite``, ``postgresql``) for an engine or a URL."""
    if isinstance(target, Engine | Connection):
        return target.dialect.name
    url = target if isinstance(target, URL) else make_url(normalise_url(target))
    return url.get_backend_name()


def operations_for(target: Engine | Connection | URL | str | Path) -> BackendOperations:
    """Return the operations of the database behind an engine, a connection or a URL.

    A session's are ``operations_for(session.get_bind())``.

    Raises:
        ConfigurationError: The database is not one of :data:`BACKENDS`.
    """
    name = backend_name(target)
    try:
        return BACKENDS[name]
    except KeyError:
        raise ConfigurationError(
            f"unsupported database {name!r}; supported: {', '.join(sorted(BACKENDS))}"
        ) from None
