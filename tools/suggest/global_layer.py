"""The global layer: popularity and follow-ups aggregated over all users, k-anonymously.

Built from every user's activities, it serves cold start and the non-personal part of ranking,
and it never exposes one user's queries to another. The rule:

    A query, a follow-up pair (query -> next query in a session), an edit (words added to a
    query to make the next one, see :mod:`~confidante.tools.suggest.generate`) or an entity
    link enters the global layer only if at least ``k`` distinct users produced it (default
    :data:`DEFAULT_MIN_USERS`). Every count it holds is a number of distinct users, never of
    occurrences, so one user repeating a query cannot make it popular.

So anything a user sees from the global layer was typed by ``k`` or more people; a query that
only one user typed (an address, a name) stays in that user's own store.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from confidante.errors import InvalidInputError
from confidante.tools.suggest.generate import Edit, edit_between
from confidante.tools.suggest.profile import Activity, split_sessions
from confidante.tools.suggest.text import normalise_query, terms

__all__ = ["DEFAULT_MIN_USERS", "GlobalLayer"]

DEFAULT_MIN_USERS = 3
_Key = TypeVar("_Key")


@dataclass
class GlobalLayer:
    """k-anonymous aggregates over all users (build with :meth:`build`)."""

    min_users: int = DEFAULT_MIN_USERS
    users: int = 0
    queries: dict[str, int] = field(default_factory=dict)
    follows: dict[str, Counter[str]] = field(default_factory=dict)
    links: dict[str, Counter[str]] = field(default_factory=dict)
    edits: Counter[Edit] = field(default_factory=Counter)
    by_term: dict[str, list[str]] = field(default_factory=dict)
    top_users: int = 0

    @classmethod
    def build(
        cls,
        activities_by_user: Mapping[str, Sequence[Activity]]
        | Iterable[tuple[str, Sequence[Activity]]],
        *,
        min_users: int = DEFAULT_MIN_USERS,
    ) -> GlobalLayer:
        """Aggregate the activities of many users, keeping what ``min_users`` users share."""
        if min_users < 2:
            raise InvalidInputError("min_users must be at least 2 (else one user's data leaks)")
        pairs = (
            activities_by_user.items()
            if isinstance(activities_by_user, Mapping)
            else activities_by_user
        )
        tally = _Tally()
        for user_id, activities in pairs:
            tally.add_user(user_id, activities)
        layer = cls(min_users=min_users, users=tally.users)
        layer.queries = _shared(tally.queries, min_users)
        layer.edits = Counter(_shared(tally.edits, min_users))
        for (before, after), n in _shared(tally.follows, min_users).items():
            layer.follows.setdefault(before, Counter())[after] = n
        for (name, other), n in _shared(tally.links, min_users).items():
            layer.links.setdefault(name, Counter())[other] = n
            layer.links.setdefault(other, Counter())[name] = n
        index: dict[str, list[str]] = defaultdict(list)
        for query in sorted(layer.queries, key=lambda q: (-layer.queries[q], q)):
            for term in set(terms(query)):
                index[term].append(query)
        layer.by_term = dict(index)
        layer.top_users = max(layer.queries.values(), default=0)
        return layer

    def top_queries(self, n: int = 10) -> list[str]:
        """Return the ``n`` queries typed by the most users."""
        return sorted(self.queries, key=lambda q: (-self.queries[q], q))[:n]


def _shared(tally: Mapping[_Key, set[str]], min_users: int) -> dict[_Key, int]:
    """The keys that at least ``min_users`` distinct users produced, with how many did."""
    return {key: len(who) for key, who in tally.items() if len(who) >= min_users}


@dataclass
class _Tally:
    """Who produced each query, follow-up pair and entity link (before the k rule)."""

    users: int = 0
    queries: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    follows: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    links: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    edits: dict[Edit, set[str]] = field(default_factory=lambda: defaultdict(set))

    def add_user(self, user_id: str, activities: Sequence[Activity]) -> None:
        self.users += 1
        ordered = sorted(activities, key=lambda activity: activity.at)
        for session in split_sessions(ordered):
            previous: str | None = None
            for activity in session:
                entities = activity.entities()
                for index, name in enumerate(entities):
                    for other in entities[index + 1 :]:
                        self.links[(name, other)].add(user_id)
                if activity.kind != "query":
                    continue
                query = normalise_query(activity.text)
                self.queries[query].add(user_id)
                if previous is not None:
                    self.follows[(previous, query)].add(user_id)
                    edit = edit_between(previous, query)
                    if edit is not None:
                        self.edits[edit].add(user_id)
                previous = query
