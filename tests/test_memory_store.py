from __future__ import annotations

import pytest

from confidante import InvalidInputError, NotFoundError
from confidante.memory.store import Memory


def test_remember_and_retrieve_ranks_the_matching_fact_first(memory: Memory) -> None:
    memory.remember("ana", "Ana's dog is called Biscuit.", key="dog_name")
    memory.remember("ana", "Ana lives in Lisbon.", key="home_city")
    memory.remember("ana", "Ana is vegetarian.", key="diet")
    hits = memory.retrieve("ana", "What is the name of my dog?", k=3)
    assert hits[0].text == "Ana's dog is called Biscuit."
    assert hits[0].score >= hits[-1].score
    assert {hit.text for hit in hits} == {
        "Ana's dog is called Biscuit.",
        "Ana lives in Lisbon.",
        "Ana is vegetarian.",
    }


def test_slot_supersedes_and_keeps_history(memory: Memory) -> None:
    old = memory.remember("ana", "Ana lives in Lisbon.", key="Home City")
    new = memory.remember("ana", "Ana lives in Porto.", key="home_city")
    assert old != new
    current = memory.list_items("ana")
    assert [item.text for item in current] == ["Ana lives in Porto."]
    everything = memory.list_items("ana", include_history=True)
    assert {item.text for item in everything} == {"Ana lives in Lisbon.", "Ana lives in Porto."}
    trail = memory.history("ana", old)
    assert [entry["action"] for entry in trail] == ["add", "supersede"]
    assert trail[1]["before"]["text"] == "Ana lives in Lisbon."
    assert trail[1]["after"]["valid_to"] is not None
    assert all(hit.text != "Ana lives in Lisbon." for hit in memory.retrieve("ana", "Lisbon"))
    with_history = memory.retrieve("ana", "Lisbon", include_history=True)
    assert with_history[0].text == "Ana lives in Lisbon."


def test_same_text_is_not_duplicated(memory: Memory) -> None:
    first = memory.remember("ana", "Ana likes jazz.", provenance=["e1"])
    second = memory.remember("ana", "ana likes jazz", provenance=["e2"])
    assert first == second
    (item,) = memory.list_items("ana")
    assert item.provenance == ["e1", "e2"]


def test_update_is_visible_immediately_and_audited(memory: Memory) -> None:
    item_id = memory.remember("ana", "Ana's dog is called Biscuit.")
    memory.update("ana", item_id, text="Ana's dog is a beagle called Biscuit.", importance=0.9)
    hit = memory.retrieve("ana", "beagle", k=1)[0]
    assert hit.id == item_id
    assert hit.text == "Ana's dog is a beagle called Biscuit."
    assert hit.importance == 0.9
    trail = memory.history("ana", item_id)
    assert trail[-1]["action"] == "update"
    assert trail[-1]["before"]["text"] == "Ana's dog is called Biscuit."


def test_forget_removes_the_item_and_redacts_its_trail(memory: Memory) -> None:
    item_id = memory.remember("ana", "Ana's secret code is 4711.")
    memory.forget("ana", item_id)
    assert memory.list_items("ana", include_history=True) == []
    assert memory.retrieve("ana", "secret code") == []
    trail = memory.history("ana", item_id)
    assert trail[-1]["action"] == "forget"
    assert "4711" not in repr(trail)
    with pytest.raises(NotFoundError):
        memory.get("ana", item_id)


def test_users_are_isolated_on_every_path(memory: Memory) -> None:
    ana = memory.remember("ana", "Ana's dog is called Biscuit.", key="dog_name")
    memory.remember("bob", "Bob's dog is called Rex.", key="dog_name")
    assert [h.text for h in memory.retrieve("bob", "Biscuit dog")] == ["Bob's dog is called Rex."]
    assert [h.text for h in memory.list_items("bob")] == ["Bob's dog is called Rex."]
    for call in (
        lambda: memory.get("bob", ana),
        lambda: memory.update("bob", ana, text="hijacked"),
        lambda: memory.forget("bob", ana),
        lambda: memory.history("bob", ana),
    ):
        with pytest.raises(NotFoundError):
            call()
    assert memory.get("ana", ana).text == "Ana's dog is called Biscuit."
    # a slot of one user never supersedes another user's slot
    assert len(memory.list_items("ana")) == 1


def test_forget_user_erases_only_that_user(memory: Memory) -> None:
    memory.remember("ana", "Ana's dog is called Biscuit.")
    memory.record_event("ana", "user", "My dog is called Biscuit.")
    memory.remember("bob", "Bob likes tea.")
    counts = memory.forget_user("ana")
    assert counts["concepts"] == 1 and counts["events"] == 1 and counts["users"] == 1
    assert memory.list_items("ana", include_history=True) == []
    assert [h.text for h in memory.list_items("bob")] == ["Bob likes tea."]


@pytest.mark.parametrize(
    ("user_id", "text"),
    [("", "x"), ("  ", "x"), ("ana", ""), ("ana", "   "), ("ana", "a\x00b"), ("ana", "x" * 20_001)],
)
def test_bad_input_is_refused_and_nothing_stored(memory: Memory, user_id: str, text: str) -> None:
    with pytest.raises(InvalidInputError):
        memory.remember(user_id, text)
    assert memory.list_items("ana", include_history=True) == []


def test_retrieve_rejects_bad_k_and_empty_query(memory: Memory) -> None:
    with pytest.raises(InvalidInputError):
        memory.retrieve("ana", "dog", k=0)
    with pytest.raises(InvalidInputError):
        memory.retrieve("ana", " ")


async def test_async_core_matches_sync_twin(memory: Memory) -> None:
    item_id = await memory.aremember("ana", "Ana plays the cello.")
    hits = await memory.aretrieve("ana", "cello")
    assert hits[0].id == item_id
    assert memory.get("ana", item_id).text == "Ana plays the cello."


def test_memory_reopens_from_the_same_file(settings, memory: Memory) -> None:
    memory.remember("ana", "Ana's dog is called Biscuit.")
    reopened = Memory.open(settings=settings)
    assert reopened.retrieve("ana", "dog")[0].text == "Ana's dog is called Biscuit."
    reopened.close()
