"""Where the personalized lift of query suggestion can come from: a breakdown of the targets.

Used by ``benchmarks/query_suggestion.py`` (aggregates only: the data is personal). Each target
falls in one :data:`CATEGORIES`:

- ``in_session``: the target is one of the session's previous queries (searched again);
- ``refinding``: the user typed it before, in the training part, and not in this session (only
  the user store can know it);
- ``edit``: a simple edit of the session's latest query (words added in front or behind, or one
  word dropped; :func:`~confidante.tools.suggest.generate.edit_between`);
- ``shares_word``: a new query sharing a content word with the session;
- ``unrelated``: a new query sharing no content word with the session.

For each category and system the breakdown gives its share of the targets, its contribution to
MRR@10 (the contributions add up to the system's MRR@10) and its candidate recall (the
contribution a perfect ranking of the candidates would reach), and the MRR@10 each system would
reach if every covered ``refinding`` target were ranked first (or second: behind the session's
latest query, which is the answer to the ``in_session`` targets), all else unchanged: how much
lift ranking the user's history better can give. :func:`user_bootstrap` gives a
95% interval of the ratio of two systems' MRR@10 by resampling users (targets of one user are
not independent, and a half has few users).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from confidante.tools.suggest import UserProfile
from confidante.tools.suggest.generate import edit_between
from confidante.tools.suggest.text import terms

__all__ = ["CATEGORIES", "Outcome", "breakdown", "category", "user_bootstrap"]

CATEGORIES = ("in_session", "refinding", "edit", "shares_word", "unrelated")


@dataclass(frozen=True)
class Outcome:
    """One target's category and how each system did on it."""

    user: str
    half: str
    category: str
    #: Reciprocal rank per system name.
    rr: Mapping[str, float]
    #: Whether the target was among the system's candidates, per system name.
    covered: Mapping[str, bool]


def category(session: Sequence[str], query: str, profile: UserProfile | None) -> str:
    """Return the category of a target (normalised queries; see the module docstring)."""
    if query in session:
        return "in_session"
    if profile is not None and query in profile.queries:
        return "refinding"
    if session and edit_between(session[-1], query) is not None:
        return "edit"
    seen = {word for previous in session for word in terms(previous)}
    return "shares_word" if seen.intersection(terms(query)) else "unrelated"


def breakdown(outcomes: Sequence[Outcome], systems: Sequence[str]) -> dict[str, Any]:
    """Return, for all targets and per half, each category's share and per-system figures.

    ``bounds`` holds, per part, the MRR@10 of each system with its covered ``refinding``
    targets ranked first or second (see the module docstring).

    Args:
        outcomes: One per target.
        systems: The system names to report (keys of :attr:`Outcome.rr`).
    """
    result: dict[str, Any] = {}
    for part in ("all", "tune", "held_out"):
        chosen = [o for o in outcomes if part == "all" or o.half == part]
        total = max(1, len(chosen))
        table: dict[str, Any] = {}
        for name in CATEGORIES:
            mine = [o for o in chosen if o.category == name]
            table[name] = {
                "share": round(len(mine) / total, 4),
                **{
                    system: {
                        "mrr_part": round(sum(o.rr[system] for o in mine) / total, 4),
                        "recall_part": round(sum(o.covered[system] for o in mine) / total, 4),
                    }
                    for system in systems
                },
            }
        result[part] = table
        bounds: dict[str, float] = {}
        for system in systems:  # the lift left in re-finding: its covered targets moved up
            for rank, label in ((1, "first"), (2, "second")):
                moved = sum(
                    max(o.rr[system], 1.0 / rank)
                    if o.category == "refinding" and o.covered[system]
                    else o.rr[system]
                    for o in chosen
                )
                bounds[f"{system}_mrr_if_refound_{label}"] = round(moved / total, 4)
        result.setdefault("bounds", {})[part] = bounds
    return result


def user_bootstrap(
    outcomes: Sequence[Outcome],
    mine: str,
    theirs: str,
    *,
    rounds: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Return the 95% interval of MRR(mine) / MRR(theirs), resampling users, per half.

    Args:
        outcomes: One per target.
        mine: The system in the numerator.
        theirs: The system in the denominator.
        rounds: Bootstrap resamples.
        seed: Seed of the resampling (the interval is reproducible).
    """
    result: dict[str, Any] = {}
    for part in ("all", "tune", "held_out"):
        sums: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
        for o in outcomes:
            if part == "all" or o.half == part:
                sums[o.user][0] += o.rr[mine]
                sums[o.user][1] += o.rr[theirs]
        users = sorted(sums)
        if not users:
            result[part] = None
            continue
        rng = random.Random(seed)
        ratios = []
        for _ in range(rounds):
            drawn = [sums[rng.choice(users)] for _ in users]
            below = sum(pair[1] for pair in drawn)
            ratios.append(sum(pair[0] for pair in drawn) / below if below else float("inf"))
        ratios.sort()
        low, high = ratios[int(0.025 * rounds)], ratios[min(rounds - 1, int(0.975 * rounds))]
        result[part] = {"users": len(users), "low": round(low, 3), "high": round(high, 3)}
    return result
