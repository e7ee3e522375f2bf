"""Candidate generation for retrieval: the dense index and the store's full text, per user.

A query gathers a pool of candidates from two sides — the user's nearest vectors
(:class:`~confidante.memory.index.base.VectorIndex`) and the user's best full-text matches
(FTS5 on SQLite, ``tsvector`` on PostgreSQL) — then reads the columns ranking needs of those rows
from the database, with the user, validity, expiry and kind filters applied. Reading the rows is
what enforces isolation and drops superseded, expired or forgotten items, whatever the index
returned; only the items that rank are then read whole (:func:`read_rows`, with the same
filters). When a filter is selective (kinds, time range), the pool is instead every matching
item of the user, scored exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlmodel import Session, col, select

from confidante.errors import InvalidInputError
from confidante.memory.index.base import Vector, VectorIndex
from confidante.memory.items import UNRECALLED_KINDS, readable
from confidante.memory.retrieval.full_text import TermCounts, lexical_candidates
from confidante.memory.storage.expiry import has_expired, live
from confidante.memory.storage.records import Concept, ConceptVector, utcnow

FILTERED_SCAN_LIMIT = 50_000


@dataclass(frozen=True)
class Filters:
    """What a retrieval keeps: the kinds, superseded items or not, and a time range.

    It is checked when made: ``kinds`` as one string would silently match by substring in
    Python and by letter in SQL, so it is refused.

    Attributes:
        kinds: Only items of these kinds (None or empty: every kind); a tuple once made.
        include_history: Also superseded items.
        since: Only items valid from this time on.
        until: Only items valid from before this time.
    """

    kinds: Sequence[str] | None = None
    include_history: bool = False
    since: datetime | None = None
    until: datetime | None = None

    def __post_init__(self) -> None:
        """Check and normalise the filters (``kinds`` becomes a tuple)."""
        kinds: object = self.kinds
        if isinstance(kinds, str) or not all(
            isinstance(k, str) for k in cast(Sequence[object], kinds or ())
        ):
            raise InvalidInputError(f"kinds must be a list of kind names, not {kinds!r}")
        for name, moment in (("since", self.since), ("until", self.until)):
            if moment is not None and not isinstance(moment, datetime):
                raise InvalidInputError(f"{name} must be a datetime, not {moment!r}")
        if kinds is not None:
            object.__setattr__(self, "kinds", tuple(cast(Sequence[str], kinds)))
        object.__setattr__(self, "include_history", bool(self.include_history))


#: No filter: every kind, current items only, any time.
NO_FILTERS = Filters()


@dataclass
class Candidate:
    """What ranking needs of one stored item, with its dense and lexical scores for a query.

    Only the items that rank are read in full (:func:`read_rows`), so a query pays for a
    hundred small tuples and a handful of whole rows, not a hundred whole rows.
    """

    id: str
    importance: float
    created_at: datetime
    dense: float
    lexical: float


#: The columns a candidate is filtered and ranked on.
_RANKING_COLUMNS = (
    Concept.id,
    Concept.user_id,
    Concept.kind,
    Concept.valid_from,
    Concept.valid_to,
    Concept.importance,
    Concept.created_at,
    Concept.expires_at,
)


def _passes(row: Any, user_id: str, filters: Filters, now: datetime) -> bool:
    kinds, include_history = filters.kinds, filters.include_history
    since, until = filters.since, filters.until
    return bool(
        row.user_id == user_id
        and not has_expired(row.expires_at, now)
        and (include_history or row.valid_to is None)
        and (not kinds or row.kind in kinds)
        and (since is None or row.valid_from >= since)
        and (until is None or row.valid_from <= until)
    )


def _select_rows(
    session: Session,
    columns: Any,
    user_id: str,
    ids: Sequence[str] | None,
    filters: Filters,
    limit: int | None,
) -> list[Any]:
    """Rows (``columns``) of the user among ``ids`` (all when None) that pass the filters.

    Listed ids are read by primary key alone and filtered here: a query planner without
    statistics (SQLite) would otherwise walk the user's whole index, which costs seconds
    for a user with a hundred thousand items.
    """
    now = utcnow()
    if ids is not None:
        if not ids:
            return []
        rows = session.exec(select(*columns).where(col(Concept.id).in_(list(ids)))).all()
        return [r for r in rows if _passes(r, user_id, filters, now)]
    kinds, include_history = filters.kinds, filters.include_history
    since, until = filters.since, filters.until
    query = select(*columns).where(Concept.user_id == user_id, live(now))
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


def read_rows(
    session: Session,
    user_id: str,
    ids: Sequence[str] | None,
    filters: Filters = NO_FILTERS,
    limit: int | None = None,
) -> list[Concept]:
    """Read the user's whole rows among ``ids`` (all when None) that pass the filters.

    A row whose values cannot be written out is left out (see :func:`readable`).
    """
    rows = _select_rows(session, (Concept,), user_id, ids, filters, limit)
    return readable(row if isinstance(row, Concept) else row[0] for row in rows)


def gather_candidates_many(
    session: Session,
    index: VectorIndex,
    user_id: str,
    queries: Sequence[tuple[str, Vector]],
    *,
    pool: int,
    filters: Filters = NO_FILTERS,
    counts: TermCounts | None = None,
) -> list[list[Candidate]]:
    """Return the candidates of each ``(query, vector)``, reading their rows once for all.

    Several queries of one turn mostly find the same items: the ranking columns of the union
    of their pools are read in one statement (or, under a selective filter, the user's
    matching items once), then each query scores its own pool.
    """
    kinds, since, until = filters.kinds, filters.since, filters.until
    filtered = bool(kinds) or since is not None or until is not None
    lexical = [lexical_candidates(session, user_id, text, pool, counts) for text, _ in queries]
    if filtered:
        rows = _select_rows(session, _RANKING_COLUMNS, user_id, None, filters, FILTERED_SCAN_LIMIT)
        every = [r.id for r in rows]
        pools = [every] * len(queries)
        dense = [index.similarities(session, user_id, vector, every) for _, vector in queries]
    else:
        dense = [dict(index.search(session, user_id, vector, pool)) for _, vector in queries]
        pools = [list({*near, *words}) for near, words in zip(dense, lexical, strict=True)]
        union = list(dict.fromkeys(item for ids in pools for item in ids))
        rows = _select_rows(session, _RANKING_COLUMNS, user_id, union, filters, None)
    if not kinds:  # tool outcomes and the like only when asked for by kind
        rows = [r for r in rows if r.kind not in UNRECALLED_KINDS]
    found: list[list[Candidate]] = []
    for (_, vector), ids, near, words in zip(queries, pools, dense, lexical, strict=True):
        if filtered:  # every query's pool is all the rows read, each already scored
            mine = rows
        else:  # its own pool, in the database's order, as for one query alone
            wanted = set(ids)
            mine = [r for r in rows if r.id in wanted]
            missing = [r.id for r in mine if r.id not in near]
            if missing:
                near = {**near, **index.similarities(session, user_id, vector, missing)}
        found.append(
            [
                Candidate(
                    r.id, r.importance, r.created_at, near.get(r.id, -1.0), words.get(r.id, 0.0)
                )
                for r in mine
            ]
        )
    return found


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
