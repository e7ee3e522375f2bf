"""Lexical retrieval: the store's own full-text search, limited to words that select.

SQLite uses FTS5 (BM25), PostgreSQL a ``tsvector`` column (``ts_rank_cd``); on both, the
index holds an owner token with the words, and a query matches it together with the words (the
SQL is the backend's: :mod:`confidante.memory.storage.backends`).
Ranking by full text costs time in proportion to the number of matching rows, and a word that
a large share of a user's items contain ("coffee" for a coffee lover) ranks poorly anyway —
dense similarity covers it. So for a user with many items, each query word's match count is
looked up (capped, cached per process and refreshed as the user's items grow) and words
matching more than :data:`COMMON_TERM_MATCHES` items are left out of the full-text query. Rare
words — names, places, codes — are where full text beats embeddings, and they always stay.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

from sqlmodel import Session, select

from confidante.memory.storage.backends import operations_for
from confidante.memory.storage.records import UserRecord

_TERM = re.compile(r"\w+", re.UNICODE)
_STOP = frozenset(
    _TERM.findall(
        "a an and are as at be but by do does did for from had has have he her his how i if in "
        "into is it its me my no not of on or our she so that the their them then there these "
        "they this to was we were what when where which who whom why will with you your"
    )
)
#: A word matching more of one user's items than this is left out of full-text ranking.
COMMON_TERM_MATCHES = 2_000


class TermCounts:
    """Per-process cache of how many of a user's items match a word (capped counts).

    A count is reused until the user's write sequence number has grown by a tenth (plus a
    hundred) since it was taken: it only decides whether a word is too common to rank, so an
    approximate, slightly stale value is enough.
    """

    def __init__(
        self, common_matches: int = COMMON_TERM_MATCHES, max_entries: int = 200_000
    ) -> None:
        self.common_matches = common_matches
        self.max_entries = max_entries
        self._counts: OrderedDict[tuple[str, str], tuple[int, int]] = OrderedDict()
        self._lock = threading.Lock()

    def selective(self, session: Session, user_id: str, terms: list[str]) -> list[str]:
        """Return the ``terms`` that match at most ``common_matches`` of the user's items."""
        seq = session.exec(select(UserRecord.vector_seq).where(UserRecord.id == user_id)).first()
        seq = int(seq or 0)
        if seq <= self.common_matches:  # fewer writes than the cap: no word can exceed it
            return terms
        kept = []
        for term in terms:
            with self._lock:
                cached = self._counts.get((user_id, term))
            if cached is None or seq > cached[1] * 1.1 + 100:
                cached = (_match_count(session, user_id, term, self.common_matches + 1), seq)
                with self._lock:
                    self._counts[(user_id, term)] = cached
                    while len(self._counts) > self.max_entries:
                        self._counts.popitem(last=False)
            if cached[0] <= self.common_matches:
                kept.append(term)
        return kept

    def forget_user(self, user_id: str) -> None:
        """Drop the cached counts of a user."""
        with self._lock:
            for key in [key for key in self._counts if key[0] == user_id]:
                del self._counts[key]


def _match_count(session: Session, user_id: str, term: str, cap: int) -> int:
    """Count the user's items matching one word, stopping at ``cap``."""
    return operations_for(session.get_bind()).full_text_match_count(session, user_id, term, cap)


def query_terms(query: str, limit: int = 32) -> list[str]:
    """Return the distinct lowercase content words of a query (at most ``limit``)."""
    seen: dict[str, None] = {}
    for term in _TERM.findall(query.lower()):
        if term not in _STOP and term not in seen:
            seen[term] = None
    return list(seen)[:limit]


def lexical_candidates(
    session: Session, user_id: str, query: str, n: int, counts: TermCounts | None = None
) -> dict[str, float]:
    """Return up to ``n`` of the user's items matching the query's words, with a score > 0.

    With ``counts``, words too common among the user's items are left out (module docstring).
    """
    terms = query_terms(query)
    if terms and counts is not None:
        terms = counts.selective(session, user_id, terms)
    if not terms or n <= 0:
        return {}
    ops = operations_for(session.get_bind())
    rows = ops.full_text_candidates(session, user_id, terms, n)
    return {item_id: max(score, 1e-9) for item_id, score in rows}
