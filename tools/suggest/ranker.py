"""Candidate generation and a fast linear ranker for the next query.

Candidates come from three places: the session (its previous queries and words), the user's
store (:class:`~confidante.tools.suggest.profile.UserProfile`: queries that share words or
entities with the session, that followed the session's queries before, that the user typed in
past sessions along with them, or that the user types most) and the global layer (k-anonymous
follow-ups and popular queries sharing words with the session). The only new queries are
the session's latest query without one of its words (:mod:`~confidante.tools.suggest.generate`);
an addition to it (words that ``k`` users add, words this user tends to add, one of the user's
heaviest entities) is a candidate only when the result is a real query, the user's own or one
of the global layer's, so no suggestion is made of memory words glued onto the session (issue
25: "ericeira biscuit and i"); the addition then gives the query a feature. Each candidate gets
a few features, and its score is their weighted sum (:class:`Weights`). Without a profile the same
machinery runs on the session and the global layer alone: that is the non-personalised ranking
the benchmark compares against.
"""

from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Literal

from confidante.tools.suggest.features import (
    FEATURES,
    Context,
    learned_features,
    linear_features,
    make_context,
)
from confidante.tools.suggest.generate import (
    added_word_edits,
    drop_word_edits,
    entity_additions,
)
from confidante.tools.suggest.global_layer import GlobalLayer
from confidante.tools.suggest.learned import LearnedScorer, shipped_scorer
from confidante.tools.suggest.profile import UserProfile
from confidante.tools.suggest.text import extract_entities

__all__ = ["FEATURES", "MIN_TRANSITIONS", "Ranker", "Suggestion", "Weights"]

#: The learned ranker scores a user's suggestions from this much history on (queries that
#: followed another in a session): it was fitted on users with long histories, and on a short
#: one it would extrapolate (one observed habit counts for little there).
MIN_TRANSITIONS = 20


@dataclass(frozen=True)
class Weights:
    """Weights of the ranking features (defaults tuned on half of the AOL dev users).

    Chosen by ``benchmarks/tune_query_suggestion.py`` (coordinate ascent on MRR@10 of the
    ``tune`` half); where a weight is 0 (``user_recent``, ``entity_affinity`` and the edits
    other than ``session_edit``), the feature did not help there.

    Attributes:
        repeat: The candidate is one of the session's queries (more for the latest).
        repeat_habit: ``repeat`` times how often this user searches a session's query again.
        repeat_streak: It is the latest query, which already repeated the one before (people
            who searched a query twice in a row, paging through results, often do it again).
        user_follow: The user typed it right after one of the session's queries before.
        user_cosession: The user typed it in past sessions that also had one of the session's
            queries (share of that query's session neighbours).
        global_follow: Other users (k-anonymously) typed it after a session query.
        user_weight: How much (time-decayed) the user typed it before.
        user_count: How often the user typed it before (no decay).
        user_recent: How recently the user last typed it (halves per day before the store's
            latest activity).
        overlap: Share of its words that the session used (more for recent queries).
        entity_affinity: How much the user cares about its entities.
        entity_link: Its entities co-occurred, for this user, with the session's entities.
        global_popularity: How many users typed it.
        session_edit: It is the latest query without one of its words (a generated candidate).
        global_edit: It is the latest query with words that ``k`` users added to their queries
            (share of such edits).
        user_edit: It is the latest query with words this user tends to add (share of the
            user's edits, see :mod:`~confidante.tools.suggest.generate`).
        entity_edit: It is the latest query followed by one of the user's heaviest entities
            (log of the entity's weight).
        recency: Decay per step back in the session (1: the latest query).
    """

    repeat: float = 0.75
    repeat_habit: float = 2.0
    repeat_streak: float = 2.0
    user_follow: float = 5.0
    user_cosession: float = 0.35
    global_follow: float = 0.5
    user_weight: float = 0.2
    user_count: float = 0.05
    user_recent: float = 0.0
    overlap: float = 0.2
    entity_affinity: float = 0.0
    entity_link: float = 0.05
    global_popularity: float = 0.1
    session_edit: float = 0.1
    global_edit: float = 0.0
    user_edit: float = 0.0
    entity_edit: float = 0.0
    recency: float = 0.25


@dataclass
class Suggestion:
    """One suggested query, with what justified it."""

    query: str
    score: float
    entities: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    features: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict."""
        return asdict(self)


class Ranker:
    """Suggest the next queries from a session, a user's profile and the global layer."""

    def __init__(
        self,
        global_layer: GlobalLayer | None = None,
        weights: Weights | None = None,
        *,
        scorer: LearnedScorer | Literal["shipped"] | None = "shipped",
        min_transitions: int = MIN_TRANSITIONS,
        pool: int = 30,
        edits: int = 10,
    ) -> None:
        """Create a ranker.

        Args:
            global_layer: The k-anonymous global layer (default: an empty one).
            weights: The feature weights of the linear ranking (and its ``recency``, which
                the learned ranker's features use too).
            scorer: The learned ranker, used given a session and a profile with at least
                ``min_transitions`` (``"shipped"``: the model shipped with the package); None
                always ranks by the weights.
            min_transitions: See :data:`MIN_TRANSITIONS`.
            pool: How many candidates each source gives at most.
            edits: How many edits of the latest query each edit source generates at most.
        """
        self.global_layer = global_layer or GlobalLayer()
        self.weights = weights or Weights()
        self.scorer = shipped_scorer() if scorer == "shipped" else scorer
        self.min_transitions = min_transitions
        self.pool = pool
        self.edits = edits

    def suggest(
        self,
        session: Sequence[str],
        profile: UserProfile | None = None,
        k: int = 10,
        *,
        include_session: bool = True,
        topics: Sequence[str] = (),
    ) -> list[Suggestion]:
        """Return up to ``k`` suggestions, best first.

        Args:
            session: The session's queries so far, oldest first.
            profile: The user's store; None ranks on the session and the global layer only.
            k: How many suggestions.
            include_session: Also suggest the session's own queries again (people often do
                search one again; a user interface that shows them elsewhere may leave them
                out).
            topics: What the user just said in a conversation (their chat messages, newest
                first): the user's queries that share its words or entities and the phrases
                it names become candidates (source ``conversation``), and the suggestions
                that fit it come first, in the ranking's order.
        """
        context = self._prepare(session, profile, topics)
        sources = self._candidates(context, profile)
        if not include_session:
            for query in context.queries:
                sources.pop(query, None)
        found = self._featurized(sources, context, profile)
        scores = self._scores(found, context, profile)
        fits = dict.fromkeys(found, True)
        if context.topic_terms or context.topic_entities:
            fits = {query: self._fits(query, context, profile) for query in found}
        best = heapq.nsmallest(k, found, key=lambda query: (not fits[query], -scores[query], query))
        return [
            self._suggestion(query, scores[query], found[query], sources[query], context, profile)
            for query in best
        ]

    def featurize(
        self,
        session: Sequence[str],
        profile: UserProfile | None = None,
        *,
        learned: bool | None = None,
    ) -> dict[str, dict[str, float]]:
        """Return every candidate with its features.

        Args:
            session: The session's queries so far, oldest first.
            profile: The user's store, or None.
            learned: True: the learned features (given a profile and a session), whatever
                the scorer; False: the linear ones; None: those :meth:`suggest` scores by.

        The features depend on the weights only through ``recency``: this is what tuning or
        fitting needs (``benchmarks/tune_query_suggestion.py``,
        ``benchmarks/train_query_suggestion.py``).
        """
        context = self._prepare(session, profile)
        sources = self._candidates(context, profile)
        if learned is None:
            return self._featurized(sources, context, profile)
        layer = self.global_layer
        if learned and profile is not None and context.queries:
            return {query: learned_features(query, context, profile, layer) for query in sources}
        return {query: linear_features(query, context, profile, layer) for query in sources}

    def learned_applies(self, session: Sequence[str], profile: UserProfile | None) -> bool:
        """Whether the learned ranker scores this suggestion (see ``scorer``)."""
        return (
            self.scorer is not None
            and profile is not None
            and profile.transitions >= self.min_transitions
            and any(text.strip() for text in session)
        )

    def _learned(self, context: Context, profile: UserProfile | None) -> bool:
        return self.learned_applies(context.queries, profile)

    def _featurized(
        self, sources: dict[str, set[str]], context: Context, profile: UserProfile | None
    ) -> dict[str, dict[str, float]]:
        layer = self.global_layer
        if profile is not None and self._learned(context, profile):
            return {query: learned_features(query, context, profile, layer) for query in sources}
        return {query: linear_features(query, context, profile, layer) for query in sources}

    def _scores(
        self,
        found: dict[str, dict[str, float]],
        context: Context,
        profile: UserProfile | None,
    ) -> dict[str, float]:
        if self.scorer is not None and self._learned(context, profile):
            return self.scorer.score(found, set(context.queries))
        weights = asdict(self.weights)
        return {
            query: sum(weights[name] * features[name] for name in FEATURES)
            for query, features in found.items()
        }

    def _prepare(
        self, session: Sequence[str], profile: UserProfile | None, topics: Sequence[str] = ()
    ) -> Context:
        return make_context(session, self.weights.recency, profile, self.global_layer, topics)

    @staticmethod
    def _fits(query: str, context: Context, profile: UserProfile | None) -> bool:
        stats = profile.queries.get(query) if profile is not None else None
        return context.fits_topics(query, stats.entities if stats else extract_entities(query))

    # ------------------------------------------------------------ candidates
    def _candidates(self, context: Context, profile: UserProfile | None) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for query in context.queries:
            found.setdefault(query, set()).add("session")
        for query, source in self._global_candidates(context):
            found.setdefault(query, set()).add(source)
        if profile is not None:
            for query, source in self._user_candidates(context, profile):
                found.setdefault(query, set()).add(source)
        for query, source, value in self._edit_candidates(context, profile):
            if query not in context.queries:
                found.setdefault(query, set()).add(source)
                edits = context.generated.setdefault(query, {})
                edits[source] = max(edits.get(source, 0.0), value)
        for phrase in context.topic_phrases:
            if phrase not in context.queries:
                found.setdefault(phrase, set()).add("conversation")
        if not found:
            for query in self.global_layer.top_queries(self.pool):
                found[query] = {"global_top"}
        return found

    def _global_candidates(self, context: Context) -> Iterator[tuple[str, str]]:
        layer = self.global_layer
        for query in context.queries:
            for nxt, _ in layer.follows.get(query, Counter()).most_common(self.pool):
                yield nxt, "global_follow"
        for term in context.terms:
            for query in layer.by_term.get(term, [])[: self.pool]:
                yield query, "global_words"

    def _user_candidates(self, context: Context, profile: UserProfile) -> Iterator[tuple[str, str]]:
        for query in context.queries:
            for nxt, _ in profile.follows.get(query, Counter()).most_common(self.pool):
                yield nxt, "user_follow"
            for other, _ in profile.cosession.get(query, Counter()).most_common(self.pool):
                yield other, "user_session"
        for term in context.terms:
            for query in profile.by_term.get(term, ()):
                yield query, "user_words"
        for name in context.entities:
            neighbours = profile.links.get(name, {})
            for linked in heapq.nlargest(5, neighbours, key=neighbours.__getitem__):
                for query in profile.by_entity.get(linked, ()):
                    yield query, "user_entities"
        for query in profile.top_queries(self.pool):
            yield query, "user_top"

    def _edit_candidates(
        self, context: Context, profile: UserProfile | None
    ) -> Iterator[tuple[str, str, float]]:
        """Edits of the latest query; the source names the feature the value goes to."""
        context.generated.clear()
        if not context.queries:
            return
        latest = context.queries[-1]
        for query in drop_word_edits(latest):
            yield query, "session_edit", 1.0
        known = self.global_layer.queries
        mine = profile.queries if profile is not None else {}
        # An addition is a candidate only when its result is a real query (the user's, or
        # one that k users typed): words glued onto the session are no suggestion of their own.
        for query, share in added_word_edits(latest, self.global_layer.edits, self.edits):
            if query in known or query in mine:
                yield query, "global_edit", share
        if profile is not None:
            for query, share in added_word_edits(latest, profile.edits, self.edits):
                if query in known or query in mine:
                    yield query, "user_edit", share
            for query, value in entity_additions(profile.ranked_entities(), latest, self.edits):
                if query in mine:
                    yield query, "entity_edit", value

    # ----------------------------------------------------------- suggestions
    @staticmethod
    def _suggestion(
        query: str,
        score: float,
        features: dict[str, float],
        sources: set[str],
        context: Context,
        profile: UserProfile | None,
    ) -> Suggestion:
        stats = profile.queries.get(query) if profile is not None else None
        entities = list(stats.entities) if stats else extract_entities(query)
        justified = _justifying(entities, context, profile)
        return Suggestion(
            query=query,
            score=round(score, 6),
            entities=justified,
            sources=sorted(sources),
            features={name: round(value, 4) for name, value in features.items() if value},
        )


def _justifying(
    entities: Sequence[str], context: Context, profile: UserProfile | None, limit: int = 4
) -> list[str]:
    """Return the entities that justify a suggestion, the user's heaviest first.

    They are those in the session, those the user came back to, and those linked (for this
    user) to an entity of the session.
    """
    links = [profile.links.get(name, {}) for name in context.entities] if profile else []
    chosen = []
    for name in entities:
        stats = profile.entities.get(name) if profile is not None else None
        linked = any(name in neighbours for neighbours in links)
        if name in context.entities or linked or (stats is not None and stats.count > 1):
            chosen.append((-(stats.weight if stats else 0.0), name))
    return [name for _, name in sorted(chosen)[:limit]]
