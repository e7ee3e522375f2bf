"""Diversified top k: near-repeats and crowded sessions give way to other hits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from confidante.memory.retrieval.diversity import (
    NO_DIVERSITY,
    Diversity,
    diversify,
    favour_speakers,
    speaker_of,
)


@dataclass
class Hit:
    name: str
    provenance: list[str]
    attributes: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    score: float = 1.0


def episode(name: str, session: int, *turns: int) -> Hit:
    return Hit(name, [f"D{session}:{t}" for t in turns], {"session_id": f"session_{session}"})


RANKED = [
    episode("a", 1, 1, 2, 3),
    episode("b", 1, 2, 3, 4),  # two thirds already covered by a
    episode("c", 1, 5, 6, 7),
    episode("d", 2, 1, 2, 3),
    Hit("e", []),  # no provenance: never a repeat
]


def test_plain_is_the_ranking_cut_at_k() -> None:
    assert [h.name for h in diversify(RANKED, 3, NO_DIVERSITY)] == ["a", "b", "c"]


def test_near_repeats_are_skipped_and_fill_in_last() -> None:
    policy = Diversity(overlap=0.6)
    assert [h.name for h in diversify(RANKED, 3, policy)] == ["a", "c", "d"]
    assert [h.name for h in diversify(RANKED, 5, policy)] == ["a", "c", "d", "e", "b"]


def test_a_session_cap_spreads_hits_over_sessions() -> None:
    policy = Diversity(overlap=2.0, per_session=1)
    assert [h.name for h in diversify(RANKED, 3, policy)] == ["a", "d", "e"]
    assert not NO_DIVERSITY.active and policy.active


def test_a_named_speaker_lifts_what_they_said() -> None:
    said = {"session_id": "s1"}
    ranked = [
        Hit("ben", ["D1:2"], said, "[8 May 2023] Tim: hi\nBen: I read Dune.", 1.0),
        Hit("tim", ["D1:3"], said, "Ben: and you?\nTim: The Hobbit, twice.", 0.9),
        Hit("turn", ["D1:4"], {"speaker": "Tim"}, "whatever", 0.5),
        Hit("fact", [], {}, "Tim: not a turn", 0.8),
    ]
    assert [speaker_of(h) for h in ranked] == ["Ben", "Tim", "Tim", None]
    order = [(h.name, round(s, 2)) for h, s in favour_speakers(ranked, "What has tim read?", 0.4)]
    assert order == [("tim", 1.26), ("ben", 1.0), ("fact", 0.8), ("turn", 0.7)]
    assert [h.name for h, _ in favour_speakers(ranked, "What has Tim read?", 0.0)] == [
        "ben",
        "tim",
        "turn",
        "fact",
    ]
