"""Reaching the turns around the best hits: an answer is often said just before or after.

A question whose answer is put together from several turns (multi-hop) or inferred from what a
person said about themselves (open-domain) often finds one turn of the exchange and ranks the
turns said next to it lower: they answer with "we went camping last month" without the words
of the question. :func:`lift_neighbours` lets a hit said within ``reach`` turns of one of the
``seeds`` best hits, in the same conversation session, score at least ``weight`` times its
seed's score, so the ranking's top ``k`` can take it. It only reorders the hits the user's own
ranking already holds (read with the user filter, see
:mod:`confidante.memory.retrieval.candidates`): nothing of another user can come in.

Measured with ``benchmarks/locomo.py`` (``--diversity``): see :data:`DEFAULT_EXPANSION`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar


@dataclass(frozen=True)
class Expansion:
    """How the turns around the best hits are lifted.

    Attributes:
        seeds: The best hits whose neighbouring turns are lifted (0: none).
        reach: At most this many turns between a seed and a neighbour.
        weight: A neighbour scores at least this share of its seed's score.
    """

    seeds: int = 3
    reach: int = 3
    weight: float = 0.8

    @property
    def active(self) -> bool:
        """Whether this expansion can change a ranking."""
        return self.seeds > 0 and self.weight > 0


#: The default (chosen on the LoCoMo dev file).
DEFAULT_EXPANSION = Expansion()

#: Nothing lifted.
NO_EXPANSION = Expansion(seeds=0)


class _Hit(Protocol):
    attributes: dict[str, Any]


H = TypeVar("H", bound=_Hit)


def span_of(hit: _Hit) -> tuple[object, int, int] | None:
    """``(session, first position, last position)`` of a conversation hit, else None.

    Episodes carry ``positions`` (first and last turn); a single turn carries ``position``.
    """
    attributes = hit.attributes or {}
    session = attributes.get("session_id")
    positions = attributes.get("positions")
    if isinstance(positions, list) and len(positions) == 2:
        first, last = positions
    elif isinstance(attributes.get("position"), int):
        first = last = attributes["position"]
    else:
        return None
    if session is None or not isinstance(first, int) or not isinstance(last, int):
        return None
    return session, first, last


def lift_neighbours(ranked: Sequence[tuple[H, float]], policy: Expansion) -> list[tuple[H, float]]:
    """Return ``ranked`` (``(hit, score)`` best first) with the seeds' neighbours lifted.

    A hit of the same session as one of the ``policy.seeds`` best hits, at most
    ``policy.reach`` turns from it, scores at least ``policy.weight`` times the seed's score.
    Hits outside any conversation session never move; the result is best first.
    """
    if not policy.active:
        return list(ranked)
    seeds = [(span, score) for hit, score in ranked[: policy.seeds] if (span := span_of(hit))]
    lifted = []
    for hit, score in ranked:
        span = span_of(hit)
        if span is not None:
            for (session, first, last), seed_score in seeds:
                near = span[1] - last <= policy.reach and first - span[2] <= policy.reach
                if span[0] == session and near:
                    score = max(score, policy.weight * seed_score)
        lifted.append((hit, score))
    return sorted(lifted, key=lambda pair: pair[1], reverse=True)
