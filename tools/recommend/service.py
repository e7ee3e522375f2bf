"""The recommender over a memory: candidates, constraints, explanations and feedback.

:class:`Recommender` ranks a catalog for one user with the fitted
:class:`~confidante.tools.recommend.core.RankingCore` (collaborative, sequential and
multi-interest signals over everyone's interactions), adds content similarity between the
catalog and the user's stated preferences (memory items that say what they like, the
``recommendation`` summary, an optional query), and removes what the memory forbids (disliked
or owned things, rejected items). Cold start falls back to the user's personas (memories of
the persona scope, popularity among the persona's members), then to global popularity.

Each recommendation carries a one-line reason: by default from the signal that ranked it
(the history item it resembles, the remembered taste it shares words with, or none: see
:mod:`confidante.tools.recommend.reasons`); with ``rerank=True`` the chat model reorders the
list by the candidates' numbers (:mod:`confidante.tools.recommend.rerank`) and, when its answer
is unusable, the list keeps its order with ``reranked`` False. Feedback
(:meth:`Recommender.afeedback`) is an interaction like any other, so the next list changes: an
accepted item joins the history, a rejected one is excluded and pulls its neighbours down.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
from langchain_core.language_models import BaseChatModel
from pydantic import BaseModel

from confidante._sync import sync_twin
from confidante.errors import InvalidInputError, NotFoundError, StructuredOutputError
from confidante.memory.bulk_reads import BulkReads
from confidante.memory.store import Memory
from confidante.tools.recommend import interactions as log
from confidante.tools.recommend.catalog import Catalog, CatalogItem
from confidante.tools.recommend.constraints import Constraints, read_constraints
from confidante.tools.recommend.core import CoreParams, RankingCore, top_k_rows
from confidante.tools.recommend.data import InteractionLog
from confidante.tools.recommend.reasons import fact_reason
from confidante.tools.recommend.rerank import arerank

logger = logging.getLogger(__name__)

PREFERENCE_QUERY = "what the user likes, loves, enjoys, dislikes and already owns"


class Recommendation(BaseModel):
    """One recommended item, its score, the signal that ranked it and a one-line reason.

    Attributes:
        item: The catalog item.
        score: The ranking core's score.
        source: The signal that ranked it (``cf``, ``seq``, ``interest``, ``content``...).
        reason: Why, in one line; empty when nothing true can be said.
        reranked: Whether the chat model ordered the list it is in (``rerank=True`` and a
            usable answer).
    """

    item: CatalogItem
    score: float
    source: str
    reason: str = ""
    reranked: bool = False


@dataclass
class _Fitted:
    version: tuple[int, str, int]
    items: list[CatalogItem]
    index: dict[str, int]
    core: RankingCore | None


def _dedupe(sequence: Sequence[int]) -> list[int]:
    """Keep each item once, at its latest position."""
    last = {item: position for position, item in enumerate(sequence)}
    return [item for position, item in enumerate(sequence) if last[item] == position]


def _scaled(values: np.ndarray) -> np.ndarray:
    peak = float(np.abs(values).max()) if values.size else 0.0
    return values / peak if peak > 0 else values


class Recommender:
    """Recommend catalog items to the users of one memory.

    Args:
        memory: The memory (its database also holds the catalog and the interactions).
        catalog: The catalog; by default one over the memory's database and embedder.
        model: The chat model used when ``rerank`` is on.
        params: Ranking core hyperparameters (defaults chosen by ``benchmarks/recommend.py``).
        rerank: Let the model reorder the list and write the reasons.
        content_weight: Weight of content similarity to stated preferences.
    """

    def __init__(
        self,
        memory: Memory,
        catalog: Catalog | None = None,
        *,
        model: BaseChatModel | None = None,
        params: CoreParams | None = None,
        rerank: bool = False,
        content_weight: float = 0.5,
    ) -> None:
        self.memory = memory
        self.catalog = catalog or Catalog(memory.database, memory.embedder)
        self.model = model
        self.params = params or CoreParams()
        self.rerank = rerank
        self.content_weight = content_weight
        self._fitted: _Fitted | None = None

    # ------------------------------------------------------------ interactions
    async def ainteract(
        self,
        user_id: str,
        item_id: str,
        action: str = "viewed",
        *,
        rating: float | None = None,
        at: datetime | None = None,
    ) -> None:
        """Record that the user viewed, rated, accepted, rejected or owns a catalog item.

        Raises:
            NotFoundError: The item is not in the catalog.
        """
        if not await self.catalog.aitems([item_id]):
            raise NotFoundError(f"no catalog item {item_id!r}")
        await log.arecord(self.memory, user_id, [(action, item_id, rating, at)])

    async def aimport_log(
        self,
        data: InteractionLog,
        *,
        prefix: str = "",
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Record a whole interaction log (e.g. MovieLens ratings) as users' interactions.

        Items missing from the catalog are skipped. Returns how many interactions were stored.

        Args:
            data: The log; users become ``prefix + user id``.
            prefix: Prepended to the log's user ids (keeps imported users apart).
            progress: Called after each user with the number of the log's interactions
                handled (stored or skipped).
        """
        known = {item.id for item in await self.catalog.aitems()}
        stored = 0
        for row, user in enumerate(data.users):
            rows: list[tuple[str, str, float | None, datetime | None]] = []
            ratings, times = data.ratings[row], data.times[row]
            for position, index in enumerate(data.sequences[row]):
                item = data.items[index]
                if item not in known:
                    continue
                rating = ratings[position] if ratings else None
                when = datetime.fromtimestamp(times[position], UTC) if times else None
                rows.append(("rated" if rating is not None else "viewed", item, rating, when))
            if rows:
                stored += await log.arecord(self.memory, prefix + user, rows)
            if progress is not None:
                progress(len(data.sequences[row]))
        return stored

    async def afeedback(self, user_id: str, item_id: str, accepted: bool) -> None:
        """Remember that the user accepted or rejected a recommendation (changes the next list)."""
        await self.ainteract(user_id, item_id, "accepted" if accepted else "rejected")

    # --------------------------------------------------------------- ranking
    async def afit(self) -> _Fitted:
        """Fit the ranking core on every user's interactions, unless nothing changed."""
        count, latest = await log.aversion(self.memory)
        version = (count, latest, await self.catalog.acount())
        if self._fitted is not None and self._fitted.version == version:
            return self._fitted
        items = await self.catalog.aitems()
        index = {item.id: position for position, item in enumerate(items)}
        everyone = await log.aload_all(self.memory)
        sequences = [
            _dedupe([index[i.item] for i in rows if i.positive and i.item in index])
            for rows in everyone.values()
        ]
        sequences = [s for s in sequences if s]
        core = None
        if sequences:
            core = await asyncio.to_thread(RankingCore.fit, sequences, len(items), self.params)
        self._fitted = _Fitted(version, items, index, core)
        return self._fitted

    async def arecommend(
        self, user_id: str, k: int = 10, *, query: str | None = None
    ) -> list[Recommendation]:
        """Return up to ``k`` recommendations for the user, best first.

        Args:
            user_id: Whose recommendations; only this user's memory and interactions are read
                (other users contribute only through the fitted aggregate model).
            k: How many items.
            query: What the user asked for now ("something funny"), matched by content.

        Raises:
            InvalidInputError: ``k`` is not positive.
            NotFoundError: The catalog is empty.
        """
        if k <= 0:
            raise InvalidInputError("k must be positive")
        fitted = await self.afit()
        if not fitted.items:
            raise NotFoundError("the catalog is empty: load one first (recommend load-catalog)")
        mine = await log.aload(self.memory, user_id)
        history = _dedupe(
            [fitted.index[i.item] for i in mine if i.positive and i.item in fitted.index]
        )
        rejected = [fitted.index[i.item] for i in mine if not i.positive and i.item in fitted.index]
        memories = [hit.text for hit in await self.memory.alist_items(user_id)]
        constraints = read_constraints(memories)
        facts = await self._preferences(user_id, constraints, bool(history))
        preferences = [query, *facts] if query else facts
        scores, parts = await self._score(fitted, user_id, history, rejected, preferences)
        for position in {*constraints.excluded(fitted.items), *rejected}:
            scores[position] = -np.inf
        core = fitted.core
        if core is not None and core.params.quota and history:
            ranked = core.quota_top_k(history, scores, k)  # one slot share per interest
        else:
            ranked = top_k_rows(scores[None, :], k)[0]
        top = [int(i) for i in ranked if i >= 0]
        chosen = [
            self._explain(fitted, i, float(scores[i]), parts, history, facts, query) for i in top
        ]
        if self.rerank and self.model is not None and chosen:
            liked = [f"The user liked {fitted.items[i].title}." for i in history[-10:]]
            chosen = await self._rerank(chosen, [*facts, *liked], query)
        return chosen

    async def _preferences(
        self, user_id: str, constraints: Constraints, has_history: bool
    ) -> list[str]:
        """Return what the memory says the user likes (stated likes, the summary)."""
        preferences = list(constraints.likes)
        summary = await self.memory.asummary(user_id, "recommendation")
        if summary is not None and summary.usable:
            preferences.append(summary.text)
        if not preferences and not has_history:  # cold start: persona, then global memories
            hits = await self.memory.aretrieve(user_id, PREFERENCE_QUERY, k=5)
            preferences = read_constraints(hit.text for hit in hits).likes
        return preferences

    async def _score(
        self,
        fitted: _Fitted,
        user_id: str,
        history: list[int],
        rejected: list[int],
        preferences: list[str],
    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
        n_items = len(fitted.items)
        parts: dict[str, np.ndarray] = {}
        if fitted.core is not None:
            core = fitted.core
            signals = core.signals([history]) if history else {}
            scores = core.combine([history], signals)[0]
            parts = {
                name: weight * signals[name][0]
                for name, weight in (
                    ("cf", core.params.w_cf),
                    ("seq", core.params.w_seq),
                    ("interest", core.params.w_interest),
                )
                if name in signals
            }
            parts["popular"] = (1.0 if not history else core.params.w_pop) * _scaled(
                core.popularity
            )
            if not history and preferences:  # stated tastes lead; popularity only breaks ties
                scores -= (1.0 - core.params.w_pop) * parts["popular"]
                parts["popular"] *= core.params.w_pop
            if rejected:
                penalty = core.signals([rejected], core.params.with_(w_seq=0.0, w_interest=0.0))
                scores -= 0.5 * penalty["cf"][0]
        else:
            scores = np.zeros(n_items, dtype=np.float32)
            scores[history] = -np.inf
        if preferences:
            content = await self._content(fitted, preferences)
            if content is not None:
                parts["content"] = self.content_weight * content
                scores += parts["content"]
        if not history:
            persona = await self._persona_popularity(fitted, user_id)
            if persona is not None:
                parts["persona"] = persona
                scores += persona
        return scores, parts

    async def _content(self, fitted: _Fitted, preferences: list[str]) -> np.ndarray | None:
        vectors = await self.catalog.avectors([item.id for item in fitted.items])
        embedder = self.catalog.embedder
        if vectors is None or embedder is None:
            return None
        wanted = np.stack([await asyncio.to_thread(embedder.embed_query, p) for p in preferences])
        similarity = (vectors @ wanted.T).max(axis=1)
        low = float(np.median(similarity))  # E5 scores are bunched: keep what stands out
        return np.asarray(_scaled(np.maximum(similarity - low, 0.0)), dtype=np.float32)

    async def _persona_popularity(self, fitted: _Fitted, user_id: str) -> np.ndarray | None:
        personas = await self.memory.apersonas(user_id)
        if not personas:
            return None
        members = await BulkReads(self.memory.database).apersona_members(
            personas, excluding=user_id
        )
        counts = np.zeros(len(fitted.items), dtype=np.float32)
        for interactions in (await log.aload_users(self.memory, members)).values():
            for interaction in interactions:
                if interaction.positive and interaction.item in fitted.index:
                    counts[fitted.index[interaction.item]] += 1.0
        return np.asarray(_scaled(np.log1p(counts)), dtype=np.float32) if counts.any() else None

    def _explain(
        self,
        fitted: _Fitted,
        position: int,
        score: float,
        parts: dict[str, np.ndarray],
        history: list[int],
        facts: list[str],
        query: str | None,
    ) -> Recommendation:
        item = fitted.items[position]
        source = max(parts, key=lambda name: float(parts[name][position])) if parts else "popular"
        reason = "Popular with everyone."
        if source in ("cf", "seq", "interest") and history and fitted.core is not None:
            column = fitted.core.cf_weights[history][:, position].toarray().ravel()
            anchor = fitted.items[history[int(np.argmax(column))] if column.any() else history[-1]]
            reason = f"Because you liked {anchor.title}."
        elif source == "content":
            reason = fact_reason(item, facts, query)  # true or absent
        elif source == "persona":
            reason = "Popular with people like you."
        return Recommendation(item=item, score=score, source=source, reason=reason)

    async def _rerank(
        self, chosen: list[Recommendation], memories: list[str], query: str | None
    ) -> list[Recommendation]:
        """Let the model reorder ``chosen``; keep the order (not reranked) when it cannot.

        The reasons stay the recommender's own, true or absent (the model writes none).
        """
        unique = list(dict.fromkeys(memories))[:20]
        try:
            order = await arerank(
                self.model,  # type: ignore[arg-type]
                unique,
                [r.item.document() for r in chosen],
                query,
            )
        except StructuredOutputError as exc:
            logger.warning("rerank failed, keeping the ranking core's order: %s", exc)
            return chosen
        return [chosen[position].model_copy(update={"reranked": True}) for position in order]

    recommend = sync_twin(arecommend)
    feedback = sync_twin(afeedback)
    interact = sync_twin(ainteract)
    import_log = sync_twin(aimport_log)
