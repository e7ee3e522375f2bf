"""Ranking a user's items by a text query, one query or several in one pass.

:class:`TextSearch` is a part of :class:`~confidante.memory.store.Memory`. A query is ranked
over the user's own items first; only when they give fewer than ``k`` hits (and fallback is
on) are the user's personas, then the global scope, searched for the rest (see
:func:`~confidante.memory.scopes.persona_owner`). Several queries of one turn share one worker
thread hop: their embeddings and their candidates over the user's items come from a single
pass (one read transaction), which reads the rows of all their candidates, then of all their
hits, in one statement each.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlmodel import Session

from confidante.memory.items import MemoryHit
from confidante.memory.retrieval.candidates import (
    Candidate,
    Filters,
    gather_candidates_many,
    read_rows,
)
from confidante.memory.retrieval.diversity import (
    DEFAULT_DIVERSITY,
    Diversity,
    diversify,
    favour_speakers,
)
from confidante.memory.retrieval.expansion import DEFAULT_EXPANSION, Expansion, lift_neighbours
from confidante.memory.retrieval.personas import PersonaDirectory
from confidante.memory.retrieval.ranking import RankWeights, fuse, top_k
from confidante.memory.scopes import GLOBAL_OWNER, persona_owner, scope_of

QueryVector = np.ndarray[Any, np.dtype[np.float32]]


def pool_size(k: int) -> int:
    """How many candidates each side (dense, full text) gathers for ``k`` hits."""
    return max(4 * k, 50)


def rank_candidates(
    candidates: Sequence[Candidate], k: int, weights: RankWeights
) -> list[tuple[str, float]]:
    """Fuse the candidates' dense and full-text scores, nudged by importance and recency.

    Returns the best ``k`` ``(id, score)`` pairs, best first.
    """
    if not candidates:
        return []
    dense = np.asarray([c.dense for c in candidates], dtype=np.float32)
    lexical = np.asarray([c.lexical for c in candidates], dtype=np.float32)
    importance = np.asarray([c.importance for c in candidates], dtype=np.float32)
    order = np.argsort(np.asarray([c.created_at.timestamp() for c in candidates]))
    age_rank = np.zeros(len(candidates), dtype=np.float32)
    age_rank[order] = np.linspace(0.0, 1.0, len(candidates), dtype=np.float32)
    scores = fuse(dense, lexical, importance, age_rank, weights)
    return [(candidates[i].id, float(scores[i])) for i in top_k(scores, k)]


def load_hits(
    session: Session,
    owner: str,
    rankings: Sequence[Sequence[tuple[str, float]]],
    filters: Filters,
) -> list[list[MemoryHit]]:
    """Return each ranking as hits, in order, reading its items whole.

    The items of all rankings are read in one statement, with the filters applied again.
    """
    ids = list(dict.fromkeys(item for ranked in rankings for item, _ in ranked))
    if not ids:
        return [[] for _ in rankings]
    rows = {c.id: c for c in read_rows(session, owner, ids, filters)}
    return [
        [MemoryHit.of(rows[item], score) for item, score in ranked if item in rows]
        for ranked in rankings
    ]


class TextSearch(PersonaDirectory):
    """Text ranking of a user's items, with persona and global fallback (part of ``Memory``).

    Attributes:
        diversity: How the ranking is thinned of near-repeats before its top ``k`` are taken
            (see :mod:`confidante.memory.retrieval.diversity`; ``NO_DIVERSITY`` for the plain
            top ``k``).
        expansion: How the turns said next to the best hits are lifted before that (see
            :mod:`confidante.memory.retrieval.expansion`; ``NO_EXPANSION`` for none).
    """

    diversity: Diversity = DEFAULT_DIVERSITY
    expansion: Expansion = DEFAULT_EXPANSION

    def _ranked(
        self,
        session: Session,
        owner: str,
        queries: Sequence[tuple[str, QueryVector]],
        k: int,
        filters: Filters,
    ) -> list[list[MemoryHit]]:
        """The owner's best ``k`` hits for each ``(query, vector)``, in one read transaction."""
        candidates = gather_candidates_many(
            session,
            self.index,
            owner,
            queries,
            pool=pool_size(k),
            filters=filters,
            counts=self.term_counts,
        )
        policy, expansion = self.diversity, self.expansion
        wide = k * max(1, policy.widen) if policy.active else k
        pool = pool_size(k) if expansion.active else wide  # neighbours may rank below ``wide``
        rankings = [rank_candidates(found, pool, self.weights) for found in candidates]
        found = load_hits(session, owner, rankings, filters)
        if not policy.active and not expansion.active:
            return found
        chosen = []
        for (text, _), ranked in zip(queries, found, strict=True):
            scored = favour_speakers(ranked, text, policy.speaker_boost)
            scored = lift_neighbours(scored, expansion)[:wide]
            hits = [hit.model_copy(update={"score": score}) for hit, score in scored]
            chosen.append(diversify(hits, k, policy))
        return chosen

    async def _search_owner(
        self, owner: str, query: str, vector: QueryVector, k: int, filters: Filters
    ) -> list[MemoryHit]:
        """Rank one owner's items (a user, a persona or the global scope)."""
        await self._ensure_vectors(owner)
        return await self.database.run(
            lambda session: self._ranked(session, owner, [(query, vector)], k, filters)[0],
            write=False,
        )

    async def _with_fallback(
        self,
        user_id: str,
        query: str,
        vector: QueryVector,
        k: int,
        filters: Filters,
        hits: list[MemoryHit],
        fallback: bool,
    ) -> list[MemoryHit]:
        """Complete the user's own ``hits`` from their personas, then the global scope."""
        if len(hits) >= k or not fallback or scope_of(user_id) != "user":
            return hits
        owners = [persona_owner(name) for name in await self.apersonas(user_id)]
        for owner in [*owners, GLOBAL_OWNER]:
            hits = hits + await self._search_owner(owner, query, vector, k - len(hits), filters)
            if len(hits) >= k:
                break
        return hits

    async def _text_hits(
        self,
        user_id: str,
        query: str,
        k: int,
        filters: Filters,
        vector: QueryVector | None,
        fallback: bool,
    ) -> list[MemoryHit]:
        """Rank by the text: the user's items, then personas and the global scope."""
        if vector is None:
            vector = await self._embed_query(query)
        own = await self._search_owner(user_id, query, vector, k, filters)
        return await self._with_fallback(user_id, query, vector, k, filters, own, fallback)

    async def _text_hits_many(
        self, user_id: str, queries: Sequence[str], k: int, filters: Filters, fallback: bool
    ) -> list[list[MemoryHit]]:
        """Rank by several texts: one worker hop embeds them all and gathers their candidates."""
        await self._ensure_vectors(user_id)

        def embed_and_rank() -> tuple[list[QueryVector], list[list[MemoryHit]]]:
            vectors = [self.embedder.embed_query(query) for query in queries]
            pairs = list(zip(queries, vectors, strict=True))
            found = self.database.run_sync(
                lambda session: self._ranked(session, user_id, pairs, k, filters), write=False
            )
            return vectors, found

        vectors, found = await asyncio.to_thread(embed_and_rank)
        if all(len(hits) >= k for hits in found) or not fallback:
            return found
        return list(
            await asyncio.gather(
                *(
                    self._with_fallback(user_id, query, vector, k, filters, hits, fallback)
                    for query, vector, hits in zip(queries, vectors, found, strict=True)
                )
            )
        )
