"""New candidate queries made by editing the session's latest query.

Most next queries were never typed before by anyone (on the AOL dev file, over half of them),
so ranking known queries cannot reach them; some are small edits of the latest query. An
:class:`Edit` is how a query turned into the next one of its session, when the words were
only added in front or behind (``hotels`` -> ``hotels boston``: ``Edit("after", "boston")``),
or one word was dropped (``Edit("drop", "")``). Generators:

- :func:`drop_word_edits`: the latest query without one of its words (non-personal: the
  session-only ranking uses it too);
- :func:`added_word_edits`: the latest query with words added, each with a feature value.
  Personal sources are the user's own edits (:attr:`UserProfile.edits`: how this user tends to
  refine, e.g. adding their city or ``reviews``) and the user's heaviest entities (their
  places, brands, people: the entity-centric store); the non-personal source is the global
  layer's edits, kept only when ``k`` distinct users made them (:attr:`GlobalLayer.edits`).

The ranker (:class:`~confidante.tools.suggest.ranker.Ranker`) offers an addition only when the
result is a real query, the user's own or one that ``k`` users typed: the user's memory words
glued onto the session ("ericeira biscuit and i") are no suggestion. A drop is grounded in the
session itself. Nothing generated comes from another user's raw queries.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from typing import Literal, NamedTuple

from confidante.tools.suggest.text import terms

__all__ = [
    "Edit",
    "added_word_edits",
    "apply_edit",
    "drop_word_edits",
    "edit_between",
    "entity_additions",
]

#: At most this many words are added by one edit.
MAX_ADDED_WORDS = 3


class Edit(NamedTuple):
    """How a query became the next one: words added ``before`` or ``after`` it, or a ``drop``."""

    where: Literal["before", "after", "drop"]
    words: str


def edit_between(before: str, after: str) -> Edit | None:
    """Return the edit that turns ``before`` into ``after`` (normalised queries), if simple.

    Example:
        >>> edit_between("hotels", "hotels boston")
        Edit(where='after', words='boston')
        >>> edit_between("cheap hotels boston", "hotels boston")
        Edit(where='drop', words='')
    """
    old, new = before.split(), after.split()
    added = len(new) - len(old)
    if 0 < added <= MAX_ADDED_WORDS:
        if new[: len(old)] == old:
            return Edit("after", " ".join(new[len(old) :]))
        if new[added:] == old:
            return Edit("before", " ".join(new[:added]))
    if added == -1 and any(old[:i] + old[i + 1 :] == new for i in range(len(old))):
        return Edit("drop", "")
    return None


def apply_edit(query: str, edit: Edit) -> str:
    """Return ``query`` with the words of an ``after`` or ``before`` edit added."""
    return f"{query} {edit.words}" if edit.where == "after" else f"{edit.words} {query}"


def drop_word_edits(query: str) -> Iterator[str]:
    """Yield the query without one of its words (for queries of two words or more)."""
    words = query.split()
    if len(words) > 1:
        for index in range(len(words)):
            yield " ".join(words[:index] + words[index + 1 :])


def added_word_edits(
    query: str, edits: Mapping[Edit, float], limit: int
) -> Iterator[tuple[str, float]]:
    """Yield the query with each of the ``limit`` heaviest additions, and the addition's share.

    Additions whose words the query already has are skipped; the share is the edit's weight
    over the total weight of ``edits`` plus one (a single observation counts for less).
    """
    total = sum(edits.values())
    if total <= 0:
        return
    present = set(terms(query))
    chosen = 0
    for edit in sorted(edits, key=lambda e: (-edits[e], e)):
        if chosen >= limit:
            break
        if edit.where == "drop" or present.intersection(edit.words.split()):
            continue
        chosen += 1
        yield apply_edit(query, edit), edits[edit] / (total + 1)


def entity_additions(
    ranked: Sequence[tuple[str, float]], query: str, limit: int
) -> Iterator[tuple[str, float]]:
    """Yield the query followed by each of the first ``limit`` entities it lacks.

    ``ranked`` are the user's entities with their (time-decayed) weights, heaviest first; the
    value yielded is ``log1p(weight)``. Entities sharing a word with the query are skipped.
    """
    present = set(terms(query))
    chosen = 0
    for name, weight in ranked:
        if chosen >= limit:
            break
        if present.intersection(name.split()):
            continue
        chosen += 1
        yield f"{query} {name}", math.log1p(weight)
