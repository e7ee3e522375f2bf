"""Choosing the ``k`` hits that say the most: the named speaker first, no near-repeats.

Derived items overlap: the episode ending at a turn and the one ending at the next share all
but one turn, so a plain top ``k`` often spends half its places (and its tokens) on turns it
already has, all from one exchange. A question whose answer is spread over several sessions
("What activities does Melanie partake in?") then misses most of it. :func:`diversify` walks
a wider ranking best first and skips a hit whose provenance is mostly covered by the hits
already taken, and a hit from a session that already has ``per_session`` hits, while other
hits remain. The skipped hits fill the list at the end if too few were taken.

Measured with ``benchmarks/locomo.py`` (``--diversity``): see :data:`DEFAULT_DIVERSITY`.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar


class _Hit(Protocol):
    provenance: list[str]
    attributes: dict[str, Any]
    text: str
    score: float


@dataclass(frozen=True)
class Diversity:
    """How a ranking is thinned before its top ``k`` are taken.

    Attributes:
        overlap: Skip a hit when at least this share of its provenance is already covered
            (1.0: only exact repeats; above 1: never).
        per_session: At most this many hits from one conversation session (0: no limit).
        widen: The ranking considered is ``widen`` times ``k`` long.
        speaker_boost: A hit whose speaker the query names scores ``1 + speaker_boost`` times
            as much (0: no boost).
    """

    overlap: float = 0.6
    per_session: int = 0
    widen: int = 3
    speaker_boost: float = 0.4

    @property
    def active(self) -> bool:
        """Whether this policy can change a ranking."""
        return self.overlap <= 1.0 or self.per_session > 0 or self.speaker_boost > 0


#: The default: near-repeat hits skipped (chosen on the LoCoMo dev file).
DEFAULT_DIVERSITY = Diversity()

#: The plain top ``k``.
NO_DIVERSITY = Diversity(overlap=2.0, per_session=0, widen=1, speaker_boost=0.0)

_LINE_SPEAKER = re.compile(r"^(?:\[[^\]\n]*\] )?([^:\n\[]{1,60}): ")


H = TypeVar("H", bound=_Hit)


def speaker_of(hit: _Hit) -> str | None:
    """Who said the hit's own turn: the ``speaker`` attribute, else its last line's speaker."""
    speaker = (hit.attributes or {}).get("speaker")
    if isinstance(speaker, str) and speaker:
        return speaker
    if not (hit.attributes or {}).get("session_id"):  # not derived from a conversation
        return None
    last = hit.text.rsplit("\n", 1)[-1]
    match = _LINE_SPEAKER.match(last)
    return match[1].strip() if match else None


def favour_speakers(ranked: Sequence[H], query: str, boost: float) -> list[tuple[H, float]]:
    """Return ``(hit, score)`` best first, a hit whose speaker ``query`` names boosted."""
    if boost <= 0:
        return [(hit, hit.score) for hit in ranked]
    named: dict[str, bool] = {}
    scored = []
    for hit in ranked:
        speaker = speaker_of(hit)
        if speaker is not None and speaker not in named:
            named[speaker] = bool(re.search(rf"\b{re.escape(speaker)}\b", query, re.IGNORECASE))
        factor = 1.0 + boost if speaker is not None and named[speaker] else 1.0
        scored.append((hit, hit.score * factor))
    return sorted(scored, key=lambda pair: pair[1], reverse=True)


def _session(hit: _Hit) -> object:
    attributes = hit.attributes or {}
    return attributes.get("session_id")


def diversify(ranked: Sequence[H], k: int, policy: Diversity) -> list[H]:
    """Return up to ``k`` of ``ranked`` (best first) under ``policy``, in ranking order.

    Hits without provenance are never skipped for overlap; hits without a session are never
    skipped for their session.
    """
    if not policy.active:
        return list(ranked[:k])
    taken: list[H] = []
    skipped: list[H] = []
    covered: set[str] = set()
    sessions: Counter[object] = Counter()
    for hit in ranked:
        if len(taken) >= k:
            break
        sources = set(hit.provenance)
        session = _session(hit)
        repeat = bool(sources) and len(sources & covered) / len(sources) >= policy.overlap
        crowded = (
            policy.per_session > 0
            and session is not None
            and sessions[session] >= policy.per_session
        )
        if repeat or crowded:
            skipped.append(hit)
            continue
        taken.append(hit)
        covered |= sources
        sessions[session] += 1
    return taken + skipped[: k - len(taken)]
