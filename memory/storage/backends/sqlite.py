"""SQLite: the embedded default, one file shared by processes through WAL and a busy timeout.

- Every connection runs in WAL mode with a 30 s busy timeout, ``synchronous=NORMAL``, foreign
  keys on and ``secure_delete`` on (erased text is zeroed, not left in free pages). A
  transaction that will write begins with ``BEGIN IMMEDIATE``, so concurrent writers queue on
  the timeout instead of failing when a read-then-write transaction finds the file changed.
- Full text is an FTS5 table kept in sync by triggers. Each row carries an ``owner`` token
  (``o`` + the hex of the user id), so a search matches one user's rows only; BM25 ranks.
- After an erasure, the FTS5 segments are merged (a deleted row's words stay in them, hidden,
  until then) and the write-ahead log is emptied, so no copy is left in either file.
- A file database keeps its images beside the file (``NAME-images``).
- A JSON column holding text that is not JSON (SQLite does not check it) reads as NULL, with a
  warning, instead of failing every statement that reads the row.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from sqlalchemy import Engine, Table, create_engine, event, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import URL
from sqlmodel import Session

from confidante._private import private_file
from confidante.memory.storage.backends.base import WRITE_OPTION, BackendOperations

FULL_TEXT_DDL = [
    """CREATE VIRTUAL TABLE IF NOT EXISTS concepts_fts
       USING fts5(text, owner, tokenize='porter unicode61')""",
    """CREATE TRIGGER IF NOT EXISTS concepts_fts_insert AFTER INSERT ON concepts BEGIN
         INSERT INTO concepts_fts(rowid, text, owner)
         VALUES (new.rowid, new.text, 'o' || hex(new.user_id));
       END""",
    """CREATE TRIGGER IF NOT EXISTS concepts_fts_delete AFTER DELETE ON concepts BEGIN
         DELETE FROM concepts_fts WHERE rowid = old.rowid;
       END""",
    """CREATE TRIGGER IF NOT EXISTS concepts_fts_update AFTER UPDATE OF text ON concepts BEGIN
         UPDATE concepts_fts SET text = new.text WHERE rowid = old.rowid;
       END""",
    # fills the index of a database made before it existed (only when it is empty)
    """INSERT INTO concepts_fts(rowid, text, owner)
       SELECT rowid, text, 'o' || hex(user_id) FROM concepts
       WHERE NOT EXISTS (SELECT 1 FROM concepts_fts LIMIT 1)""",
]


logger = logging.getLogger(__name__)


def _json_or_null(stored: str) -> Any:
    """Decode a JSON column; text that is not JSON reads as None (and is logged)."""
    try:
        return json.loads(stored)
    except ValueError:
        logger.warning("a JSON column holds text that is not JSON; it reads as null")
        return None


def owner_token(user_id: str) -> str:
    """Return the FTS5 ``owner`` token of a user, as the triggers write it."""
    return "o" + user_id.encode().hex().upper()


def _begin(connection: Any) -> None:
    write = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # transactions are begun by _begin
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # erased text is zeroed, not left in free space
    cursor.close()


def _file(url: URL) -> Path | None:
    """Return the database file of a URL (None for an in-memory database)."""
    return Path(url.database) if url.database and url.database != ":memory:" else None


class SQLiteOperations(BackendOperations):
    """The operations of SQLite (module docstring)."""

    name: ClassVar[str] = "sqlite"
    concurrent_writers: ClassVar[bool] = False

    def create_engine(self, url: URL) -> Engine:
        """Create the engine (and an owner-only file), with the pragmas on every connection."""
        path = _file(url)
        if path is not None:
            private_file(path)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            json_deserializer=_json_or_null,
        )
        event.listen(engine, "connect", _pragmas)
        event.listen(engine, "begin", _begin)
        return engine

    def full_text_ddl(self) -> Sequence[str]:
        """The FTS5 table, its triggers and the back-fill of an older database."""
        return FULL_TEXT_DDL

    def full_text_candidates(
        self, session: Session, user_id: str, terms: Sequence[str], n: int
    ) -> list[tuple[str, float]]:
        """FTS5 ``MATCH`` on the owner token and any of the words, ranked by BM25."""
        words = " OR ".join('"' + term + '"' for term in terms)
        match = f"owner : {owner_token(user_id)} AND text : ({words})"
        rows = session.execute(
            text(
                "SELECT c.id, -bm25(concepts_fts) AS score FROM concepts_fts "
                "JOIN concepts c ON c.rowid = concepts_fts.rowid "
                "WHERE concepts_fts MATCH :match AND c.user_id = :user "
                "ORDER BY rank LIMIT :n"
            ),
            {"match": match, "user": user_id, "n": n},
        ).all()
        return [(str(row[0]), float(row[1])) for row in rows]

    def full_text_match_count(self, session: Session, user_id: str, term: str, cap: int) -> int:
        """Count the FTS5 rows of the owner token that contain the word, up to ``cap``."""
        match = f'owner : {owner_token(user_id)} AND text : "{term}"'
        sql = "SELECT rowid FROM concepts_fts WHERE concepts_fts MATCH :match LIMIT :cap"
        count = session.execute(
            text(f"SELECT count(*) FROM ({sql}) AS hits"), {"match": match, "cap": cap}
        )
        return int(count.scalar_one())

    def on_conflict_insert(self, table: Table) -> Any:
        """SQLite's ``INSERT`` (``ON CONFLICT DO NOTHING`` / ``DO UPDATE``)."""
        return sqlite.insert(table)

    def purge_deleted_text(self, session: Session) -> None:
        """Merge the FTS5 segments (``optimize``), which drops deleted rows' words."""
        session.connection().execute(
            text("INSERT INTO concepts_fts(concepts_fts) VALUES('optimize')")
        )

    def truncate_log(self, engine: Engine) -> None:
        """``PRAGMA wal_checkpoint(TRUNCATE)``: with ``secure_delete``, no copy is left."""
        raw = engine.raw_connection()
        try:
            raw.cursor().execute("PRAGMA wal_checkpoint(TRUNCATE)").close()
        finally:
            raw.close()

    def images_dir(self, url: URL) -> Path | None:
        """Beside a database file (``NAME-images``); None for an in-memory database."""
        path = _file(url)
        return None if path is None else path.parent / f"{path.stem}-images"
