"""The per-user entity-centric knowledge store, aggregated from the user's activity.

An :class:`Activity` is one thing the user did: a search ``query``, a ``click`` on (or the
reading of) a titled page, or a conversation ``topic``. :meth:`UserProfile.build` aggregates a
user's activities into:

- ``queries``: every distinct normalised query with its count, time-decayed weight, last time
  and entities (only queries are ever suggested back);
- ``entities``: every entity from queries, titles and topics with its count, time-decayed
  weight and last time (see :func:`~confidante.tools.suggest.text.extract_entities`);
- ``links``: entity co-occurrence within one activity and between consecutive activities of a
  session, time-decayed;
- ``follows``: the user's own query-to-next-query transitions within a session, and how often
  the next query repeated one of the session (``repeat_rate``);
- ``cosession``: for each query, the other queries the user typed in the same session (before
  or after it, in how many sessions): the user's habits beyond the next query;
- ``edits``: how the user refines a query into the next one (words added in front or behind,
  a word dropped; see :mod:`~confidante.tools.suggest.generate`), with how often;
- ``chains``: the user's queries after a pair of consecutive queries (their follow-up chains);
- :class:`Habits`: how this user's next query relates to the session, counted *before* each
  transition is added (prequentially, so a rate is what the profile would have predicted, not
  a fit of the data it describes): searched the latest query again, one of the session's, a
  query of an earlier session (re-finding), or one that followed the previous query before
  (a habit). The learned ranker reads them as the user's calibration.

Time decay: an occurrence ``d`` days before the profile's ``as_of`` time weighs
``0.5 ** (d / half_life_days)``. Sessions end after :data:`SESSION_GAP` of inactivity.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from confidante.errors import InvalidInputError
from confidante.tools.suggest.generate import Edit, edit_between
from confidante.tools.suggest.text import extract_entities, normalise_query, terms

__all__ = [
    "ACTIVITY_KINDS",
    "DEFAULT_HALF_LIFE_DAYS",
    "SESSION_GAP",
    "Activity",
    "EntityStats",
    "Habits",
    "QueryStats",
    "UserProfile",
    "split_sessions",
]

ActivityKind = Literal["query", "click", "topic"]
ACTIVITY_KINDS: tuple[str, ...] = ("query", "click", "topic")
SESSION_GAP = timedelta(minutes=30)
#: Chosen on the ``tune`` half of the AOL dev users (7 beat 2, 4, 30 and 120 days there).
DEFAULT_HALF_LIFE_DAYS = 7.0


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True)
class Activity:
    """One activity of a user.

    Attributes:
        text: The query, the page title or the topic.
        at: When it happened (a naive time is taken as UTC).
        kind: ``query``, ``click`` (a clicked or read title) or ``topic``.
        extra_entities: Entities found by other means (e.g. the chat model, see
            :func:`~confidante.tools.suggest.model_entities.aextract_entities`), added to the
            rule-based ones.
    """

    text: str
    at: datetime
    kind: ActivityKind = "query"
    extra_entities: tuple[str, ...] = ()

    def entities(self) -> list[str]:
        """Return the activity's entities: the rule-based ones, then the extra ones."""
        found = extract_entities(self.text)
        return found + [e for e in self.extra_entities if e not in found]

    def __post_init__(self) -> None:
        if self.kind not in ACTIVITY_KINDS:
            raise InvalidInputError(f"activity kind must be one of {', '.join(ACTIVITY_KINDS)}")
        if not normalise_query(self.text):
            raise InvalidInputError("an activity needs a non-empty text")
        object.__setattr__(self, "at", _utc(self.at))


def split_sessions(
    activities: Sequence[Activity], gap: timedelta = SESSION_GAP
) -> list[list[Activity]]:
    """Split time-ordered activities into sessions at gaps longer than ``gap``."""
    sessions: list[list[Activity]] = []
    last: datetime | None = None
    for activity in activities:
        if last is None or activity.at - last > gap:
            sessions.append([])
        sessions[-1].append(activity)
        last = activity.at
    return sessions


@dataclass
class QueryStats:
    """Aggregate of one distinct query of a user."""

    count: int = 0
    weight: float = 0.0
    last: datetime | None = None
    entities: tuple[str, ...] = ()


@dataclass
class Habits:
    """How a user's next queries related to their sessions (counted before each was added).

    Attributes:
        transitions: Queries that followed another one in a session.
        again: Of those, how many repeated the previous query.
        session: How many repeated any query of the session so far.
        refinds: How many, not in the session, re-found a query of an earlier session.
        follows: How many, not in the session, had followed the previous query before.
    """

    transitions: int = 0
    again: int = 0
    session: int = 0
    refinds: int = 0
    follows: int = 0

    def rate(self, count: int) -> float:
        """A count's share of the transitions, smoothed (one in two before any is seen)."""
        return (count + 1) / (self.transitions + 2)


@dataclass
class EntityStats:
    """Aggregate of one entity of a user."""

    count: int = 0
    weight: float = 0.0
    last: datetime | None = None


@dataclass
class UserProfile:
    """A user's entity-centric knowledge store (built by :meth:`build`, read by the ranker)."""

    as_of: datetime | None = None
    queries: dict[str, QueryStats] = field(default_factory=dict)
    entities: dict[str, EntityStats] = field(default_factory=dict)
    links: dict[str, dict[str, float]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(float))
    )
    follows: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    cosession: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    by_term: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    by_entity: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    edits: Counter[Edit] = field(default_factory=Counter)
    chains: dict[tuple[str, str], Counter[str]] = field(
        default_factory=lambda: defaultdict(Counter)
    )
    habits: Habits = field(default_factory=Habits)
    #: Index (0 = oldest) of the latest session in which each query was typed, and how many.
    last_session: dict[str, int] = field(default_factory=dict)
    sessions: int = 0
    #: Queries typed in all, and each query's rank by count (0: the most typed).
    total: int = 0
    count_rank: dict[str, int] = field(default_factory=dict)
    _ranked: list[str] = field(default_factory=list, repr=False)
    _ranked_entities: list[tuple[str, float]] = field(default_factory=list, repr=False)

    @property
    def transitions(self) -> int:
        """Queries that followed another one in a session."""
        return self.habits.transitions

    @property
    def repeat_rate(self) -> float:
        """How often (smoothed) the user searched again for a query of the same session."""
        return self.habits.rate(self.habits.session)

    @classmethod
    def build(
        cls,
        activities: Iterable[Activity],
        *,
        half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
        as_of: datetime | None = None,
    ) -> UserProfile:
        """Aggregate activities (any order) into a profile.

        Args:
            activities: The user's activities.
            half_life_days: Days after which an occurrence weighs half as much.
            as_of: The time decay is measured from (default: the latest activity).
        """
        if half_life_days <= 0:
            raise InvalidInputError("half_life_days must be positive")
        ordered = sorted(activities, key=lambda activity: activity.at)
        profile = cls()
        if not ordered:
            return profile
        profile.as_of = _utc(as_of) if as_of else ordered[-1].at
        for session in split_sessions(ordered):
            profile._add_session(session, half_life_days)
        profile._ranked = sorted(profile.queries, key=lambda q: (-profile.queries[q].weight, q))
        by_count = sorted(profile.queries, key=lambda q: (-profile.queries[q].count, q))
        profile.count_rank = {query: rank for rank, query in enumerate(by_count)}
        profile.total = sum(stats.count for stats in profile.queries.values())
        profile._ranked_entities = [
            (name, stats.weight)
            for name, stats in sorted(
                profile.entities.items(), key=lambda item: (-item[1].weight, item[0])
            )
        ]
        return profile

    def _decay(self, at: datetime, half_life_days: float) -> float:
        assert self.as_of is not None
        days = max(0.0, (self.as_of - at).total_seconds() / 86400.0)
        return float(0.5 ** (days / half_life_days))

    def _add_session(self, session: list[Activity], half_life_days: float) -> None:
        typed: list[str] = []  # the session's queries so far
        previous_entities: list[str] = []
        for activity in session:
            decay = self._decay(activity.at, half_life_days)
            entities = activity.entities()
            for name in entities:
                stats = self.entities.setdefault(name, EntityStats())
                stats.count += 1
                stats.weight += decay
                stats.last = activity.at
            neighbours = [name for name in previous_entities if name not in entities]
            for index, name in enumerate(entities):
                for other in [*entities[index + 1 :], *neighbours]:
                    self.links[name][other] += decay
                    self.links[other][name] += decay
            previous_entities = entities
            if activity.kind == "query":
                typed.append(self._add_query(activity, entities, decay, typed))
        seen = list(dict.fromkeys(typed))  # in order: the counters' ties are reproducible
        for query in seen:
            self.cosession[query].update(other for other in seen if other != query)
        self.sessions += 1 if seen else 0

    def _add_query(
        self, activity: Activity, entities: list[str], decay: float, typed: list[str]
    ) -> str:
        """Add one query after the session's ``typed`` ones; return it normalised."""
        query = normalise_query(activity.text)
        previous = typed[-1] if typed else None
        if previous is not None:
            self._count_habits(previous, query, set(typed))
            if len(typed) > 1:
                self.chains[(typed[-2], previous)][query] += 1
        stats = self.queries.get(query)
        if stats is None:
            stats = self.queries[query] = QueryStats(entities=tuple(entities))
            for term in terms(query):
                self.by_term[term].add(query)
            for name in entities:
                self.by_entity[name].add(query)
        stats.count += 1
        stats.weight += decay
        stats.last = activity.at
        self.last_session[query] = self.sessions  # this session's index (0: the oldest)
        if previous is not None:
            self.follows[previous][query] += 1
            edit = edit_between(previous, query)
            if edit is not None:
                self.edits[edit] += 1
        return query

    def _count_habits(self, previous: str, query: str, seen: set[str]) -> None:
        """Count how ``query`` relates to its session, before it is added (see :class:`Habits`)."""
        habits = self.habits
        habits.transitions += 1
        habits.again += query == previous
        if query in seen:
            habits.session += 1
        else:
            habits.refinds += query in self.queries
            habits.follows += query in self.follows.get(previous, ())

    def top_entities(self, n: int = 10) -> list[tuple[str, float]]:
        """Return the user's ``n`` heaviest entities with their decayed weights."""
        return [(name, round(weight, 4)) for name, weight in self._ranked_entities[:n]]

    def ranked_entities(self) -> list[tuple[str, float]]:
        """Return all the user's entities with their decayed weights, heaviest first."""
        return self._ranked_entities

    def top_queries(self, n: int = 10) -> list[str]:
        """Return the user's ``n`` heaviest queries."""
        return self._ranked[:n]
