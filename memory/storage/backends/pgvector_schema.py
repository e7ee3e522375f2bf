"""pgvector on PostgreSQL: the ``embedding vector`` column of ``concept_vectors`` and its upkeep.

Only when the ``vector`` extension is installed or can be created: ``concept_vectors`` gets a
column ``embedding vector`` holding the same floats as the float32 bytes of ``vector`` (which
stay the source of truth). The batch write path sends it
(:mod:`confidante.memory.storage.vector_rows`, binary ``COPY``); for any other writer a trigger
computes it from the bytes in the database. Databases of earlier versions, where it was a
generated column (computed by PL/pgSQL on every write, ~0.5k rows/s), are migrated when
opened. The HNSW index on it is made per dimension by :mod:`confidante.memory.index.pgvector`.
Without pgvector nothing changes.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, text
from sqlalchemy.dialects.postgresql.base import ischema_names
from sqlalchemy.exc import DBAPIError
from sqlalchemy.types import NullType

logger = logging.getLogger(__name__)
ischema_names.setdefault("vector", NullType)  # reflect the pgvector column without a warning

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
#: HNSW indexes of earlier versions (over every row); replaced by ones over ``ann`` rows.
OLD_HNSW_INDEXES = """
    SELECT indexname FROM pg_indexes
    WHERE tablename = 'concept_vectors' AND indexname LIKE 'ix\\_concept\\_vectors\\_hnsw\\_%'
"""
#: The state of the pgvector column: absent, ``generated`` (schema of versions that computed it
#: in the database on every write; migrated by dropping the expression, values kept), or
#: ``plain`` with or without the filling trigger.
PGVECTOR_STATE = """
    SELECT a.attgenerated,
           EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'concept_vectors_embedding'
                   AND tgrelid = a.attrelid)
    FROM pg_attribute a
    WHERE a.attname = 'embedding' AND a.attrelid = to_regclass('concept_vectors')
      AND NOT a.attisdropped
"""


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
