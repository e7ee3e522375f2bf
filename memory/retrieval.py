"""Candidate generation for retrieval: the dense index and the store's full text, per user.

A query gathers a pool of candidates from two sides — the user's nearest vectors
(:class:`~confidante.memory.index.VectorIndex`) and the user's best full-text matches (FTS5 on
SQLite, ``tsvector`` on PostgreSQL) — then reads those rows from the database with the user,
validity and kind filters applied. Reading the rows is what enforces isolation and drops
superseded or forgotten items, whatever the index returned. When a filter is selective (kinds,
time range), the pool is instead every matching item of the user, scored exactly.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlmodel import Session, col, select

from confidante.memory.index import Vector, VectorIndex
from confidante.memory.records import Concept, ConceptVector

_TERM = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    _TERM.findall(
        "a an and are as at be but by do does did for from had has have he her his how i if in "
        "into is it its me my no not of on or our she so that the their them then there these "
        "they this to was we were what when where which who whom why will with you your"
    )
)
FILTERED_SCAN_LIMIT = 50_000


@dataclass
class Candidate:
    """A stored item with its dense and lexical scores for one query."""

    concept: Concept
    dense: float
    lexical: float


def query_terms(query: str, limit: int = 32) -> list[str]:
    """Return the distinct lowercase content words of a query (at most ``limit``)."""
    seen: dict[str, None] = {}
    for term in _TERM.findall(query.lower()):
        if term not in _STOP and term not in seen:
            seen[term] = None
    return list(seen)[:limit]


def lexical_candidates(session: Session, user_id: str, query: str, n: int) -> dict[str, float]:
    """Return up to ``n`` of the user's items matching the query's words, with a score > 0."""
    terms = query_terms(query)
    if not terms or n <= 0:
        return {}
    backend = session.get_bind().dialect.name
    if backend == "sqlite":
        owner = "o" + user_id.encode().hex().upper()
        words = " OR ".join('"' + term + '"' for term in terms)
        match = f"owner : {owner} AND text : ({words})"
        rows = session.execute(
            text(
                "SELECT c.id, -bm25(concepts_fts) AS score FROM concepts_fts "
                "JOIN concepts c ON c.rowid = concepts_fts.rowid "
                "WHERE concepts_fts MATCH :match AND c.user_id = :user "
                "ORDER BY rank LIMIT :n"
            ),
            {"match": match, "user": user_id, "n": n},
        ).all()
    elif backend == "postgresql":
        rows = session.execute(
            text(
                "SELECT id, ts_rank_cd(tsv, q) AS score FROM concepts, "
                "to_tsquery('english', :query) AS q "
                "WHERE user_id = :user AND tsv @@ q ORDER BY score DESC LIMIT :n"
            ),
            {"query": " | ".join(terms), "user": user_id, "n": n},
        ).all()
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        return {}
    return {str(row[0]): max(float(row[1]), 1e-9) for row in rows}


def read_rows(
    session: Session,
    user_id: str,
    ids: Sequence[str] | None,
    kinds: Sequence[str] | None,
    include_history: bool,
    since: datetime | None,
    until: datetime | None,
    limit: int | None = None,
) -> list[Concept]:
    """Read the user's rows among ``ids`` (all when None) that pass the filters."""
    query = select(Concept).where(Concept.user_id == user_id)
    if ids is not None:
        query = query.where(col(Concept.id).in_(list(ids)))
    if not include_history:
        query = query.where(col(Concept.valid_to).is_(None))
    if kinds:
        query = query.where(col(Concept.kind).in_(list(kinds)))
    if since is not None:
        query = query.where(col(Concept.valid_from) >= since)
    if until is not None:
        query = query.where(col(Concept.valid_from) <= until)
    if limit is not None:
        query = query.order_by(col(Concept.created_at).desc()).limit(limit)
    return list(session.exec(query).all())


def gather_candidates(
    session: Session,
    index: VectorIndex,
    user_id: str,
    query: str,
    query_vector: Vector,
    *,
    pool: int,
    kinds: Sequence[str] | None = None,
    include_history: bool = False,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[Candidate]:
    """Return the candidates for one query, each a row of this user that passes the filters."""
    filtered = bool(kinds) or since is not None or until is not None
    lexical = lexical_candidates(session, user_id, query, pool)
    if filtered:
        concepts = read_rows(
            session, user_id, None, kinds, include_history, since, until, FILTERED_SCAN_LIMIT
        )
        dense = index.similarities(session, user_id, query_vector, [c.id for c in concepts])
    else:
        dense = dict(index.search(session, user_id, query_vector, pool))
        ids = list({*dense, *lexical})
        if not ids:
            return []
        concepts = read_rows(session, user_id, ids, kinds, include_history, since, until)
        missing = [c.id for c in concepts if c.id not in dense]
        if missing:
            dense.update(index.similarities(session, user_id, query_vector, missing))
    return [
        Candidate(concept, dense.get(concept.id, -1.0), lexical.get(concept.id, 0.0))
        for concept in concepts
    ]


def concepts_without_vectors(session: Session, user_id: str, model: str) -> list[tuple[str, str]]:
    """Return ``(id, text)`` of the user's items that have no vector from ``model``."""
    rows: Any = session.exec(
        select(Concept.id, Concept.text)
        .join(
            ConceptVector,
            (col(ConceptVector.concept_id) == Concept.id) & (ConceptVector.model == model),
            isouter=True,
        )
        .where(Concept.user_id == user_id, col(ConceptVector.concept_id).is_(None))
    ).all()
    return [(str(row[0]), str(row[1])) for row in rows]
