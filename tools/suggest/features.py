"""The features of a candidate query: what the rankers weigh.

A :class:`Context` is computed once per suggestion (the session's queries and words, what the
user's profile and the global layer say about them, and the topics of the conversation the
user is having, if any); each candidate then gets a dict of features from it:

- :func:`linear_features` (:data:`FEATURES`): what the hand-weighted ranking sums
  (:class:`~confidante.tools.suggest.ranker.Weights` documents each one);
- :func:`learned_features`: those plus what the learned ranker
  (:mod:`~confidante.tools.suggest.learned`) reads. They separate *the user's habit after
  this query* (``follow_share``: the candidate's share of what the user typed right after the
  session's latest query; ``pair_follow``: after its last two queries; ``chain``: two steps
  on) from *the user's most frequent queries* (``count_rank``, ``count_share``,
  ``sessions_ago``), and carry the user's calibration (``rate_*``: how often this user's next
  query repeated the latest one, one of the session's, re-found an older query, or followed a
  habit; see :class:`~confidante.tools.suggest.profile.Habits`) and what the session's latest
  query is to this user (``latest_*``), so one model fits users who re-find a lot and users
  who never do.

:data:`SESSION_FEATURES` are what the learned model reads for a candidate the session already
has (searching it again), :data:`NEW_FEATURES` for any other.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from confidante.tools.suggest.global_layer import GlobalLayer
from confidante.tools.suggest.profile import UserProfile
from confidante.tools.suggest.text import (
    extract_entities,
    normalise_query,
    terms,
    topic_phrases,
    topic_terms,
)

__all__ = [
    "FEATURES",
    "NEW_FEATURES",
    "SESSION_FEATURES",
    "TOPIC_WEIGHT",
    "Context",
    "learned_features",
    "linear_features",
    "make_context",
    "shares",
]

FEATURES = (
    "repeat",
    "repeat_habit",
    "repeat_streak",
    "user_follow",
    "user_cosession",
    "global_follow",
    "user_weight",
    "user_count",
    "user_recent",
    "overlap",
    "entity_affinity",
    "entity_link",
    "global_popularity",
    "session_edit",
    "global_edit",
    "user_edit",
    "entity_edit",
)

#: What the session's latest query is to the user, and the user's calibration (per suggestion).
_CONTEXT_FEATURES = (
    "session_length",
    "latest_twice",
    "latest_known",
    "latest_count",
    "latest_follows",
    "latest_again_share",
    "latest_global_follows",
    "rate_again",
    "rate_session",
    "rate_refind",
    "rate_habit",
    "user_transitions",
)
#: Read by the learned model for a candidate the session already has.
SESSION_FEATURES = (
    "is_latest",
    "session_recency",
    "session_count",
    "repeat_streak",
    "follow_share",
    "user_follow",
    "global_follow",
    *_CONTEXT_FEATURES,
)
#: Read by the learned model for any other candidate.
NEW_FEATURES = (
    *(name for name in FEATURES if not name.startswith("repeat")),
    "follow_share",
    "follow_count",
    "pair_follow",
    "chain",
    "global_follow_share",
    "known",
    "count_rank",
    "count_share",
    "sessions_ago",
    *_CONTEXT_FEATURES,
)


#: How much a conversation topic's words count in the session's words (a query's: up to 1).
TOPIC_WEIGHT = 0.5
#: Phrases of the conversation proposed as searches, at most.
TOPIC_PHRASES = 6


def shares(counts: Counter[str] | None) -> dict[str, float]:
    """Each key's share of the counts, smoothed by one (a single observation counts less)."""
    total = sum(counts.values()) if counts else 0
    return {query: n / (total + 1) for query, n in counts.items()} if counts and total else {}


@dataclass
class Context:
    """What a suggestion knows before looking at any candidate (see :func:`make_context`)."""

    queries: list[str]
    recency: list[float]
    terms: dict[str, float]
    entities: dict[str, float]
    links: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    #: Per session query: its recency weight and its next/co-session queries as shares.
    neighbours: list[tuple[float, dict[str, float], dict[str, float], dict[str, float]]] = field(
        default_factory=list
    )
    #: Generated candidates (edits of the latest query) and their edit features.
    generated: dict[str, dict[str, float]] = field(default_factory=dict)
    #: After the latest query: the user's follows, after the last two, two steps on, others'.
    follow: dict[str, float] = field(default_factory=dict)
    follow_counts: Counter[str] = field(default_factory=Counter)
    pair: dict[str, float] = field(default_factory=dict)
    chain: dict[str, float] = field(default_factory=dict)
    global_follow: dict[str, float] = field(default_factory=dict)
    #: The per-suggestion learned features (:data:`_CONTEXT_FEATURES`).
    shared: dict[str, float] = field(default_factory=dict)
    #: The conversation's topic words and entities (by the message's recency), and phrases.
    topic_terms: dict[str, float] = field(default_factory=dict)
    topic_entities: set[str] = field(default_factory=set)
    topic_phrases: list[str] = field(default_factory=list)
    _linked: dict[str, float] = field(default_factory=dict, repr=False)

    def linked(self, name: str) -> float:
        """How much an entity is linked, for this user, to the session's entities (remembered)."""
        value = self._linked.get(name)
        if value is None:
            value = self._linked[name] = sum(
                weight * neighbours.get(name, 0.0) for weight, neighbours in self.links
            )
        return value

    def fits_topics(self, query: str, entities: Sequence[str]) -> bool:
        """Whether a candidate shares a word or an entity with the conversation's topics."""
        return any(word in self.topic_terms for word in terms(query)) or any(
            name in self.topic_entities for name in entities
        )


def make_context(
    session: Sequence[str],
    decay: float,
    profile: UserProfile | None,
    layer: GlobalLayer,
    topics: Sequence[str] = (),
) -> Context:
    """Read the session, and what the profile and the global layer know about it.

    Args:
        session: The session's queries, oldest first.
        decay: Weight per step back in the session (1: the latest query).
        profile: The user's store, or None.
        layer: The global layer.
        topics: What the user just said in a conversation (chat messages, newest first):
            their topic words and entities join the session's at :data:`TOPIC_WEIGHT` (less
            for older messages), so the user's queries about them become candidates, and
            their phrases are candidates themselves.
    """
    queries = [q for q in (normalise_query(text) for text in session) if q]
    recency = [decay ** (len(queries) - 1 - i) for i in range(len(queries))]
    context = Context(queries, recency, {}, {})
    for query, weight in zip(queries, recency, strict=True):
        for term in terms(query):
            context.terms[term] = max(context.terms.get(term, 0.0), weight)
        for name in extract_entities(query):
            context.entities[name] = max(context.entities.get(name, 0.0), weight)
    _add_topics(context, topics, decay)
    if profile is not None:  # each session entity's neighbours, as shares of its links
        for name, weight in context.entities.items():
            neighbours = profile.links.get(name)
            total = sum(neighbours.values()) if neighbours else 0.0
            if neighbours and total > 0:
                context.links.append((weight / total, neighbours))
    for query, weight in zip(queries, recency, strict=True):
        user_next = profile.follows.get(query) if profile is not None else None
        together = profile.cosession.get(query) if profile is not None else None
        context.neighbours.append(
            (weight, shares(layer.follows.get(query)), shares(user_next), shares(together))
        )
    if queries and profile is not None:
        _add_latest(context, profile, layer)
    return context


def _add_topics(context: Context, topics: Sequence[str], decay: float) -> None:
    """The conversation's words, entities and phrases (the newest message weighs most)."""
    for age, text in enumerate(topics):
        weight = TOPIC_WEIGHT * decay**age
        for term in topic_terms(text):
            context.topic_terms[term] = max(context.topic_terms.get(term, 0.0), weight)
            context.terms[term] = max(context.terms.get(term, 0.0), weight)
        for phrase in topic_phrases(text):
            context.topic_entities.add(phrase)
            context.entities[phrase] = max(context.entities.get(phrase, 0.0), weight)
            if len(context.topic_phrases) < TOPIC_PHRASES and phrase not in context.topic_phrases:
                context.topic_phrases.append(phrase)


def _add_latest(context: Context, profile: UserProfile, layer: GlobalLayer) -> None:
    """What the user (and others) did after the session's latest query, and the calibration."""
    latest, queries = context.queries[-1], context.queries
    counts = profile.follows.get(latest) or Counter()
    context.follow_counts = counts
    context.follow = shares(counts)
    if len(queries) > 1:
        context.pair = shares(profile.chains.get((queries[-2], latest)))
    for middle, share in context.follow.items():
        for query, then in shares(profile.follows.get(middle)).items():
            context.chain[query] = context.chain.get(query, 0.0) + share * then
    others = layer.follows.get(latest) or Counter()
    context.global_follow = shares(others)
    stats, habits = profile.queries.get(latest), profile.habits
    context.shared = {
        "session_length": math.log1p(len(queries)),
        "latest_twice": float(len(queries) > 1 and queries[-2] == latest),
        "latest_known": float(stats is not None),
        "latest_count": math.log1p(stats.count) if stats else 0.0,
        "latest_follows": math.log1p(sum(counts.values())),
        "latest_again_share": context.follow.get(latest, 0.0),
        "latest_global_follows": math.log1p(sum(others.values())),
        "rate_again": habits.rate(habits.again),
        "rate_session": habits.rate(habits.session),
        "rate_refind": habits.rate(habits.refinds),
        "rate_habit": habits.rate(habits.follows),
        "user_transitions": math.log1p(habits.transitions),
    }


def linear_features(
    query: str, context: Context, profile: UserProfile | None, layer: GlobalLayer
) -> dict[str, float]:
    """The :data:`FEATURES` of one candidate (see :class:`~.ranker.Weights`)."""
    words = terms(query)
    features = dict.fromkeys(FEATURES, 0.0)
    queries = context.queries
    for previous, weight in zip(queries, context.recency, strict=True):
        if previous == query:
            features["repeat"] = max(features["repeat"], weight)
    if len(queries) > 1 and query == queries[-1] == queries[-2]:
        features["repeat_streak"] = 1.0
    for weight, global_next, user_next, together in context.neighbours:
        features["global_follow"] += weight * global_next.get(query, 0.0)
        features["user_follow"] += weight * user_next.get(query, 0.0)
        features["user_cosession"] += weight * together.get(query, 0.0)
    features.update(context.generated.get(query, {}))
    if words:
        features["overlap"] = sum(context.terms.get(w, 0.0) for w in words) / len(words)
    if layer.top_users:
        popularity = math.log1p(layer.queries.get(query, 0))
        features["global_popularity"] = popularity / math.log1p(layer.top_users)
    if profile is not None:
        stats = profile.queries.get(query)
        features["repeat_habit"] = features["repeat"] * profile.repeat_rate
        if stats is not None:
            features["user_weight"] = math.log1p(stats.weight)
            features["user_count"] = math.log1p(stats.count)
            if profile.as_of is not None and stats.last is not None:
                days = max(0.0, (profile.as_of - stats.last).total_seconds() / 86400.0)
                features["user_recent"] = 0.5**days
        entities = stats.entities if stats else tuple(extract_entities(query))
        features["entity_affinity"] = sum(
            math.log1p(profile.entities[e].weight) for e in entities if e in profile.entities
        ) / max(1, len(entities))
        features["entity_link"] = sum(context.linked(e) for e in entities)
    return features


def learned_features(
    query: str, context: Context, profile: UserProfile, layer: GlobalLayer
) -> dict[str, float]:
    """The linear features of one candidate, and what the learned model adds to them."""
    features = linear_features(query, context, profile, layer)
    queries = context.queries
    positions = [index for index, previous in enumerate(queries) if previous == query]
    stats = profile.queries.get(query)
    rank = profile.count_rank.get(query)
    last = profile.last_session.get(query)
    features.update(
        {
            "is_latest": float(bool(queries) and query == queries[-1]),
            "session_recency": 1.0 / (len(queries) - positions[-1]) if positions else 0.0,
            "session_count": float(len(positions)),
            "follow_share": context.follow.get(query, 0.0),
            "follow_count": math.log1p(context.follow_counts.get(query, 0)),
            "pair_follow": context.pair.get(query, 0.0),
            "chain": context.chain.get(query, 0.0),
            "global_follow_share": context.global_follow.get(query, 0.0),
            "known": float(stats is not None),
            "count_rank": 1.0 / (1 + rank) if rank is not None else 0.0,
            "count_share": stats.count / profile.total if stats and profile.total else 0.0,
            "sessions_ago": 1.0 / (profile.sessions - last) if last is not None else 0.0,
        }
    )
    features.update(context.shared or dict.fromkeys(_CONTEXT_FEATURES, 0.0))
    return features
