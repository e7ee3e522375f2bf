"""Schema upkeep beyond ``create_all``: additive migrations and the full-text index.

- Columns added to a table in a later version are added to an existing database
  (``ALTER TABLE ... ADD COLUMN``), so a data directory survives upgrades.
- Lexical search uses the store's own full-text engine: an FTS5 table kept in sync by triggers
  on SQLite, a generated ``tsvector`` column with a GIN index on PostgreSQL. Each FTS5 row
  carries an ``owner`` token (``o`` + the hex of the user id), so a search matches one user's
  rows only; on PostgreSQL the GIN index is on the words plus an owner token (``o`` + the md5
  of the user id, :data:`OWNER_TSV`), so a search intersects the user's posting list with the
  words' inside the index, whatever the other users' data.
- pgvector (PostgreSQL only, and only when the ``vector`` extension is installed or can be
  created): ``concept_vectors`` gets a column ``embedding vector`` holding the same floats as
  the float32 bytes of ``vector`` (which stay the source of truth). The batch write path sends
  it (:mod:`confidante.memory.storage.vector_rows`, binary ``COPY``); for any other writer a trigger
  computes it from the bytes in the database. Databases of earlier versions, where it was a
  generated column (computed by PL/pgSQL on every write, ~0.5k rows/s), are migrated when
  opened. The HNSW index on it is made per dimension by
  :mod:`confidante.memory.index.pgvector`. Without pgvector nothing changes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, Table, inspect, text
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import NullType
from sqlmodel import SQLModel

logger = logging.getLogger(__name__)
ischema_names.setdefault("vector", NullType)  # reflect the pgvector column without a warning

SQLITE_FTS = [
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
]
SQLITE_FTS_BACKFILL = """
    INSERT INTO concepts_fts(rowid, text, owner)
    SELECT rowid, text, 'o' || hex(user_id) FROM concepts
    WHERE NOT EXISTS (SELECT 1 FROM concepts_fts LIMIT 1)
"""
#: The indexed full text of a concept on PostgreSQL: its words and its owner's token.
OWNER_TSV = "tsv || array_to_tsvector(ARRAY['o' || md5(user_id)])"
POSTGRES_FTS = [
    """ALTER TABLE concepts ADD COLUMN IF NOT EXISTS tsv tsvector
       GENERATED ALWAYS AS (to_tsvector('english', text)) STORED""",
    # the words plus an owner token (``o`` + md5 of the user id), so that a search of one user
    # intersects posting lists inside the index instead of fetching every user's matches
    f"CREATE INDEX IF NOT EXISTS ix_concepts_owner_tsv ON concepts USING GIN (({OWNER_TSV}))",
    "DROP INDEX IF EXISTS ix_concepts_tsv",  # the index of earlier versions (words only)
]
#: Serialises schema creation between processes opening one PostgreSQL database at once.
SCHEMA_LOCK = 0x636F6E66_73636D61  # "confscma"
#: Serialises pgvector schema upkeep between processes opening one database at once.
PGVECTOR_LOCK = 0x636F6E66_76656374  # "confvect"
#: float32 bytes (little-endian, as numpy writes them) to a pgvector ``vector``, bit-exact;
#: NULL for data that is not a whole number of finite floats (pgvector stores no NaN or inf).
POSTGRES_VECTOR_FROM_BYTES = """
    CREATE OR REPLACE FUNCTION confidante_vector_from_bytes(data bytea) RETURNS vector
    LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
    DECLARE
      n integer := length(data) / 4;
      result real[];
      b3 integer;
      b2 integer;
      e integer;
    BEGIN
      IF n = 0 OR n > 16000 OR length(data) % 4 <> 0 THEN
        RETURN NULL;
      END IF;
      result := array_fill(0::real, ARRAY[n]);
      FOR i IN 0 .. n - 1 LOOP
        b3 := get_byte(data, 4 * i + 3);
        b2 := get_byte(data, 4 * i + 2);
        e := ((b3 & 127) << 1) | (b2 >> 7);
        IF e = 255 THEN
          RETURN NULL;
        END IF;
        result[i + 1] := (CASE WHEN b3 >= 128 THEN -1.0::float8 ELSE 1.0::float8 END)
          * (((b2 & 127) << 16) | (get_byte(data, 4 * i + 1) << 8) | get_byte(data, 4 * i)
             | CASE WHEN e = 0 THEN 0 ELSE 8388608 END)
          * 2.0::float8 ^ (greatest(e, 1) - 150);
      END LOOP;
      RETURN result::vector;
    END
    $$"""
#: Users with more vectors than this (by their vector sequence number) are searched through
#: the HNSW graph; only their rows are in it (``ann``), smaller users are searched exactly.
#: A database keeps its own value in ``confidante_ann_min_vectors()``, set when pgvector is
#: first set up (see :func:`confidante.memory.index.pgvector.set_ann_min_vectors`).
ANN_MIN_VECTORS = 10_000
POSTGRES_ANN_MIN = f"""
    CREATE FUNCTION confidante_ann_min_vectors() RETURNS integer
    LANGUAGE sql STABLE PARALLEL SAFE AS 'SELECT {ANN_MIN_VECTORS}'"""
POSTGRES_PGVECTOR_COLUMN = [
    "ALTER TABLE concept_vectors ADD COLUMN IF NOT EXISTS embedding vector",
    # inline in the heap row (the bytes go to TOAST instead): exact scans read it cheaply
    "ALTER TABLE concept_vectors ALTER COLUMN embedding SET STORAGE MAIN",
]
#: Fills ``embedding`` from the bytes for writers that do not send it (ORM writes, older
#: versions of this package): on insert when it is NULL, on update when ``vector`` changed
#: and ``embedding`` did not; and ``ann`` on insert when it is NULL (from the owner's vector
#: sequence number). Writers that send both pay two comparisons per row.
POSTGRES_FILL_EMBEDDING = [
    "ALTER TABLE concept_vectors ADD COLUMN IF NOT EXISTS ann boolean",
    """UPDATE concept_vectors SET ann = true WHERE ann IS NOT TRUE AND user_id IN
        (SELECT id FROM users WHERE vector_seq > confidante_ann_min_vectors())""",
    """CREATE OR REPLACE FUNCTION confidante_fill_embedding() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        IF NEW.embedding IS NULL THEN
          NEW.embedding := confidante_vector_from_bytes(NEW.vector);
        END IF;
        IF NEW.ann IS NULL THEN
          NEW.ann := coalesce((SELECT vector_seq > confidante_ann_min_vectors()
                               FROM users WHERE id = NEW.user_id), false);
        END IF;
      ELSIF NEW.vector IS DISTINCT FROM OLD.vector
            AND NEW.embedding IS NOT DISTINCT FROM OLD.embedding THEN
        NEW.embedding := confidante_vector_from_bytes(NEW.vector);
      END IF;
      RETURN NEW;
    END
    $$""",
    "DROP TRIGGER IF EXISTS concept_vectors_embedding ON concept_vectors",
    """CREATE TRIGGER concept_vectors_embedding
       BEFORE INSERT OR UPDATE OF vector ON concept_vectors
       FOR EACH ROW EXECUTE FUNCTION confidante_fill_embedding()""",
]
#: The state of the pgvector column: absent, ``generated`` (schema of versions that computed it
#: in the database on every write; migrated by dropping the expression, values kept), or
#: ``plain`` with or without the filling trigger.
#: HNSW indexes of earlier versions (over every row); replaced by ones over ``ann`` rows.
OLD_HNSW_INDEXES = """
    SELECT indexname FROM pg_indexes
    WHERE tablename = 'concept_vectors' AND indexname LIKE 'ix\\_concept\\_vectors\\_hnsw\\_%'
"""
PGVECTOR_STATE = """
    SELECT a.attgenerated,
           EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'concept_vectors_embedding'
                   AND tgrelid = a.attrelid)
    FROM pg_attribute a
    WHERE a.attname = 'embedding' AND a.attrelid = to_regclass('concept_vectors')
      AND NOT a.attisdropped
"""


#: What a summary's watermark reads (see :mod:`~confidante.memory.summaries.store`): the user's
#: latest audit entry, and the user's entries other than ``add``. Created on old databases too.
AUDIT_INDEXES = [
    "CREATE INDEX IF NOT EXISTS ix_audit_log_user_last ON audit_log (user_id, id)",
    "CREATE INDEX IF NOT EXISTS ix_audit_log_user_edits ON audit_log (user_id, id) "
    "WHERE action <> 'add'",
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
    backend = engine.url.get_backend_name()
    statements = [*SQLITE_FTS, SQLITE_FTS_BACKFILL] if backend == "sqlite" else []
    if backend == "postgresql":
        statements = POSTGRES_FTS
    with schema_transaction(engine) as connection:
        SQLModel.metadata.create_all(connection)
        add_missing_columns(connection)
        for statement in [*statements, *AUDIT_INDEXES]:
            connection.execute(text(statement))
    if backend == "postgresql":
        prepare_pgvector(engine)


@contextmanager
def schema_transaction(engine: Engine) -> Iterator[Connection]:
    """Yield a connection in a transaction that processes changing the schema take in turn.

    SQLite: ``BEGIN IMMEDIATE`` (the database's write lock); PostgreSQL: an advisory lock held
    until the transaction ends. Parts that keep their own tables in the memory's database
    (the recommendation catalog...) create them through :func:`create_tables`.
    """
    with engine.connect() as connection:
        connection.execution_options(confidante_write=True)  # see database.WRITE_OPTION
        with connection.begin():
            if engine.url.get_backend_name() == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK})
            yield connection


def create_tables(engine: Engine, tables: Sequence[Table]) -> None:
    """Create tables that do not exist yet, safely when several processes start at once."""
    with schema_transaction(engine) as connection:
        SQLModel.metadata.create_all(connection, tables=list(tables))


def pgvector_column_exists(connection: Connection) -> bool:
    """Return whether ``concept_vectors.embedding`` (the pgvector column) exists."""
    return bool(
        connection.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attname = 'embedding' "
                "AND attrelid = to_regclass('concept_vectors') AND NOT attisdropped)"
            )
        ).scalar_one()
    )


def pgvector_state(connection: Connection) -> str:
    """Return the state of ``concept_vectors.embedding``: see :data:`PGVECTOR_STATE`.

    One of ``absent``, ``generated``, ``untriggered`` (plain column, no trigger) or ``ready``.
    """
    row = connection.execute(text(PGVECTOR_STATE)).first()
    if row is None:
        return "absent"
    if row[0]:  # attgenerated: 's' for a stored generated column, '' otherwise
        return "generated"
    return "ready" if row[1] else "untriggered"


def prepare_pgvector(engine: Engine) -> bool:
    """Set up the pgvector column of ``concept_vectors`` if the server has pgvector.

    Creates the ``vector`` extension when it is available but not yet created (a failure,
    such as missing privileges, only disables pgvector), the conversion function, the plain
    ``embedding`` column (filled for rows already there) and the trigger that fills it for
    writers that do not send it. A database made by an earlier version, where ``embedding`` is
    a generated column, is migrated in place: the expression is dropped (a catalog change; the
    values and the HNSW index stay).

    Returns:
        True when the ``embedding`` column is in place.
    """
    try:
        with engine.begin() as connection:
            available = connection.execute(
                text("SELECT count(*) FROM pg_available_extensions WHERE name = 'vector'")
            ).scalar_one()
            if not available:
                return False
            if pgvector_state(connection) == "ready":
                return True  # nothing to do, and no privileges needed
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PGVECTOR_LOCK})
            connection.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            connection.execute(text(POSTGRES_VECTOR_FROM_BYTES))
            state = pgvector_state(connection)  # another process may have moved it on
            if state == "generated":
                logger.info("migrating concept_vectors.embedding to a plain column")
                connection.execute(
                    text("ALTER TABLE concept_vectors ALTER COLUMN embedding DROP EXPRESSION")
                )
                for (name,) in connection.execute(text(OLD_HNSW_INDEXES)).all():
                    connection.execute(text(f'DROP INDEX IF EXISTS "{name}"'))
            elif state == "absent":
                for statement in POSTGRES_PGVECTOR_COLUMN:
                    connection.execute(text(statement))
                connection.execute(
                    text(
                        "UPDATE concept_vectors SET embedding = "
                        "confidante_vector_from_bytes(vector) WHERE embedding IS NULL"
                    )
                )
            if state != "ready":
                exists = "SELECT to_regprocedure('confidante_ann_min_vectors()')"
                if connection.execute(text(exists)).scalar() is None:
                    connection.execute(text(POSTGRES_ANN_MIN))
                for statement in POSTGRES_FILL_EMBEDDING:
                    connection.execute(text(statement))
    except DBAPIError as exc:
        logger.warning("pgvector is installed but could not be set up, not using it: %s", exc)
        return False
    return True
