"""Full-text side of retrieval: common words are left out for large users, rare ones kept."""

from __future__ import annotations

from confidante.memory.retrieval.full_text import TermCounts, lexical_candidates, query_terms
from confidante.memory.store import Memory


def test_query_terms_drop_stop_words_and_repeats() -> None:
    assert query_terms("What does Ana think about jazz, jazz and Lisbon?") == [
        "ana",
        "think",
        "about",
        "jazz",
        "lisbon",
    ]


def test_common_words_are_left_out_for_a_large_user(memory: Memory) -> None:
    memory.near_duplicate_threshold = None
    texts = [f"Coffee note number {i} about the morning." for i in range(40)]
    memory.remember_many("ana", [*texts, "Coffee with Zebedee on Tuesday."])
    memory.remember_many("bob", [f"Zebedee fact {i}" for i in range(60)])
    counts = TermCounts(common_matches=10)

    def lexical(query: str) -> dict[str, float]:
        return memory.database.run_sync(
            lambda session: lexical_candidates(session, "ana", query, 50, counts), write=False
        )

    found = lexical("coffee zebedee")
    assert len(found) == 1  # "coffee" matches 41 items: too common; "zebedee" one of ana's
    only_common = lexical("coffee morning")
    assert only_common == {}
    everything = memory.database.run_sync(
        lambda session: lexical_candidates(session, "ana", "coffee", 100), write=False
    )
    assert len(everything) == 41  # without counts every matching item is ranked
    hits = memory.retrieve("ana", "coffee with zebedee", k=3)
    assert hits[0].text == "Coffee with Zebedee on Tuesday."


def test_counts_are_per_user_and_forgotten_with_the_user(memory: Memory) -> None:
    memory.near_duplicate_threshold = None
    memory.remember_many("ana", [f"Tea fact {i}" for i in range(30)])
    memory.remember_many("bob", [f"Tea fact {i}" for i in range(3)] + ["x"] * 0)
    counts = TermCounts(common_matches=10)

    def kept(user: str) -> list[str]:
        return memory.database.run_sync(
            lambda session: counts.selective(session, user, ["tea"]), write=False
        )

    assert kept("ana") == []  # 30 matches > 10
    assert kept("bob") == ["tea"]  # bob has 3 writes: below the cap, nothing counted
    counts.forget_user("ana")
    assert not any(user == "ana" for user, _ in counts._counts)
