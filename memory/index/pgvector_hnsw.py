"""The HNSW graphs of pgvector over ``concept_vectors``: which rows, which index, made when.

- One partial HNSW index per dimension ``D``, on ``(embedding::vector(D))`` with inner-product
  ops, ``WHERE vector_dims(embedding) = D AND ann`` (an untyped column can hold several
  models; an HNSW index needs one dimension). Above 2,000 dimensions the index is on
  ``halfvec(D)`` (pgvector's limit; up to 4,000); above, none.
- ``ann`` is true for the rows of users with more vectors than the database's threshold
  (``confidante_ann_min_vectors()``, by default
  :data:`~confidante.memory.storage.backends.pgvector_schema.ANN_MIN_VECTORS`). Smaller users
  are always searched exactly, so their rows stay out of the graph: a write of a small user
  costs no graph insertion (the dominant cost of a write otherwise), and a filtered graph scan
  for a large user wastes fewer visits on other users' rows.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, Engine, text

logger = logging.getLogger(__name__)

#: The largest dimension pgvector indexes as ``vector`` (HNSW), then as ``halfvec``.
VECTOR_INDEX_MAX_DIM = 2000
HALFVEC_INDEX_MAX_DIM = 4000
#: Serialises index creation between processes opening one database at once.
HNSW_LOCK = 0x636F6E66_686E7377  # "confhnsw"


def hnsw_index_name(dim: int) -> str:
    """Return the name of the HNSW index over the ``dim``-dimensional rows."""
    return f"ix_concept_vectors_ann_{int(dim)}"


def indexed_type(dim: int) -> str | None:
    """Return the type the HNSW index of ``dim`` casts to, or None if it has none."""
    if 0 < dim <= VECTOR_INDEX_MAX_DIM:
        return f"vector({int(dim)})"
    if VECTOR_INDEX_MAX_DIM < dim <= HALFVEC_INDEX_MAX_DIM:
        return f"halfvec({int(dim)})"
    return None


def ensure_hnsw_index(
    engine: Engine,
    dim: int,
    *,
    m: int = 16,
    ef_construction: int = 64,
    maintenance_work_mem: str | None = None,
) -> str | None:
    """Create the HNSW index over ``dim``-dimensional embeddings unless it exists.

    Building it over a filled table takes time (and blocks writes meanwhile); afterwards,
    PostgreSQL keeps it up to date on every insert.

    Args:
        engine: An engine on a database prepared with pgvector.
        dim: The embedder's dimension.
        m: HNSW ``m`` (links per node).
        ef_construction: HNSW ``ef_construction`` (candidate list size while building).
        maintenance_work_mem: PostgreSQL's ``maintenance_work_mem`` for the build (e.g.
            ``"2GB"``); a build over a filled table is much faster when the graph fits in it.

    Returns:
        The index name, or None when no index can be made for that dimension.
    """
    kind = indexed_type(dim)
    if kind is None:
        logger.info("no HNSW index for %d-dimensional vectors: exact search", dim)
        return None
    name = hnsw_index_name(dim)
    ops = "vector_ip_ops" if kind.startswith("vector") else "halfvec_ip_ops"
    with engine.begin() as connection:
        if index_exists(connection, name):
            return name
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": HNSW_LOCK})
        if index_exists(connection, name):
            return name
        rows = connection.execute(text("SELECT count(*) FROM concept_vectors")).scalar_one()
        if rows:
            logger.info("building the HNSW index of %d-d vectors over %d rows", dim, rows)
        if maintenance_work_mem is not None:
            connection.execute(
                text("SELECT set_config('maintenance_work_mem', :mem, true)"),
                {"mem": maintenance_work_mem},
            )
        connection.execute(
            text(
                f"CREATE INDEX IF NOT EXISTS {name} ON concept_vectors "
                f"USING hnsw ((embedding::{kind}) {ops}) "
                f"WITH (m = {int(m)}, ef_construction = {int(ef_construction)}) "
                f"WHERE vector_dims(embedding) = {int(dim)} AND ann"
            )
        )
    return name


def index_exists(connection: Connection, name: str) -> bool:
    """Return whether an index (or any relation) of that name exists."""
    found = connection.execute(text("SELECT to_regclass(:name)"), {"name": name}).scalar()
    return found is not None


def set_ann_min_vectors(engine: Engine, threshold: int) -> None:
    """Set how many vectors a user needs before their rows go into the HNSW graph.

    Users at or below the threshold are always searched exactly, so their rows are left out
    of the graph: inserts stay cheap, and the graph serves the large users only. The rows of
    every user are re-flagged now (the index is updated accordingly).
    """
    value = int(threshold)
    with engine.begin() as connection:
        connection.execute(
            text(
                "CREATE OR REPLACE FUNCTION confidante_ann_min_vectors() RETURNS integer "
                f"LANGUAGE sql STABLE PARALLEL SAFE AS 'SELECT {value}'"
            )
        )
        connection.execute(
            text(
                "UPDATE concept_vectors v SET ann = u.vector_seq > :value FROM users u "
                "WHERE u.id = v.user_id AND v.ann IS DISTINCT FROM (u.vector_seq > :value)"
            ),
            {"value": value},
        )
