"""The memory contract: every test runs on every backend of the ``memory`` fixture."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from confidante import InvalidInputError, NotFoundError
from confidante.memory.embeddings.text import Embedder
from confidante.memory.storage.database import Database
from confidante.memory.storage.records import ConceptVector
from confidante.memory.store import Memory
from confidante.settings import Settings


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


def test_memory_reopens_from_the_same_database(
    memory_url: str, settings: Settings, memory: Memory
) -> None:
    memory.remember("ana", "Ana's dog is called Biscuit.")
    reopened = Memory.open(memory_url, settings=settings)
    assert reopened.retrieve("ana", "dog")[0].text == "Ana's dog is called Biscuit."
    reopened.close()


# --------------------------------------------------------------------- backend contract
# Everything below runs on every backend of the `memory` fixture (SQLite and PostgreSQL).


def test_timestamps_are_aware_utc_on_every_backend(memory: Memory) -> None:
    before = datetime.now(UTC)
    old = memory.remember("ana", "Ana lives in Lisbon.", key="home_city")
    memory.remember("ana", "Ana lives in Porto.", key="home_city")
    after = datetime.now(UTC)
    item = memory.get("ana", old)
    assert item.created_at.utcoffset() == timedelta(0)
    assert before - timedelta(seconds=1) <= item.created_at <= after + timedelta(seconds=1)
    assert item.valid_to is not None and item.valid_to.utcoffset() == timedelta(0)
    assert item.created_at <= item.valid_to <= after + timedelta(seconds=1)
    for entry in memory.history("ana", old):
        assert entry["at"].utcoffset() == timedelta(0)
        assert before - timedelta(seconds=1) <= entry["at"] <= after + timedelta(seconds=1)


def test_list_items_is_oldest_first_and_filters_kinds(memory: Memory) -> None:
    texts = [f"Ana's fact number {n}." for n in range(5)]
    for n, text in enumerate(texts):
        memory.remember("ana", text, kind="preference" if n % 2 else "fact")
    assert [item.text for item in memory.list_items("ana")] == texts
    assert [item.text for item in memory.list_items("ana", kinds=["preference"])] == texts[1::2]


def test_attributes_round_trip_as_json(memory: Memory) -> None:
    attributes = {
        "city": "São Paulo",
        "emoji": "🐶",
        "count": 3,
        "big": 2**53,
        "ratio": 0.125,
        "flag": False,
        "nothing": None,
        "nested": {"list": [1, "two", None, True], "empty": {}},
    }
    item_id = memory.remember("ana", "Ana has a dog.", attributes=attributes, breed="beagle")
    assert memory.get("ana", item_id).attributes == {**attributes, "breed": "beagle"}
    memory.update("ana", item_id, attributes={"breed": "collie", "age": 4})
    assert memory.get("ana", item_id).attributes == {**attributes, "breed": "collie", "age": 4}


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), {1, 2}, object()])
def test_attributes_that_are_not_strict_json_are_refused(memory: Memory, bad: object) -> None:
    with pytest.raises(InvalidInputError):
        memory.remember("ana", "Ana has a dog.", attributes={"x": bad})
    item_id = memory.remember("ana", "Ana has a cat.")
    with pytest.raises(InvalidInputError):
        memory.update("ana", item_id, attributes={"x": bad})
    assert [item.text for item in memory.list_items("ana", include_history=True)] == [
        "Ana has a cat."
    ]


def test_labels_longer_than_their_column_are_refused(memory: Memory) -> None:
    with pytest.raises(InvalidInputError):
        memory.remember("ana", "Ana has a dog.", kind="k" * 33)
    with pytest.raises(InvalidInputError):
        memory.record_event("ana", "r" * 33, "Hello.")
    with pytest.raises(InvalidInputError):
        memory.record_event("ana", "user", "Hello.", session_id="s" * 201)
    with pytest.raises(InvalidInputError):
        memory.record_event("ana", "user", "Hello.", session_id="a\x00b")
    event_id = memory.record_event("ana", "user", "Hello.", session_id="s" * 200)
    with pytest.raises(InvalidInputError):
        memory.mark_event("ana", event_id, "s" * 17)
    memory.mark_event("ana", event_id, "failed", error="bad byte \x00 in the model output")
    assert memory.remember("ana", "Ana has a dog.", kind="k" * 32)
    assert memory.list_items("ana", kinds=["k" * 32])[0].text == "Ana has a dog."


@pytest.mark.parametrize("odd_id", ["a\x00b", "x" * 1000, "", "ü" * 40])
def test_odd_ids_are_not_found_on_every_path(memory: Memory, odd_id: str) -> None:
    memory.remember("ana", "Ana has a dog.")
    for call in (
        lambda: memory.get("ana", odd_id),
        lambda: memory.update("ana", odd_id, text="hijacked"),
        lambda: memory.forget("ana", odd_id),
        lambda: memory.history("ana", odd_id),
        lambda: memory.mark_event("ana", odd_id, "done"),
    ):
        with pytest.raises(NotFoundError):
            call()


def test_vectors_round_trip_and_are_refreshed_for_a_new_embedder(
    memory_url: str, memory: Memory
) -> None:
    item_id = memory.remember("ana", "Ana's dog is called Biscuit.")
    stored = memory.database.run_sync(lambda session: session.get(ConceptVector, item_id))
    assert stored is not None and stored.model == memory.embedder.name
    expected = memory.embedder.embed_documents(["Ana's dog is called Biscuit."])[0]
    np.testing.assert_array_equal(np.frombuffer(stored.vector, dtype=np.float32), expected)

    renamed = RenamedEmbedder(memory.embedder)
    other = Memory(Database.open(memory_url), renamed)
    try:
        assert other.retrieve("ana", "dog")[0].id == item_id
        refreshed = other.database.run_sync(lambda session: session.get(ConceptVector, item_id))
        assert refreshed is not None and refreshed.model == renamed.name
        assert other.retrieve("ana", "dog")[0].id == item_id  # now from the refreshed row
    finally:
        other.close()


def test_forget_user_reports_exact_row_counts(memory: Memory) -> None:
    first = memory.remember("ana", "Ana lives in Lisbon.", key="home_city")
    memory.remember("ana", "Ana lives in Porto.", key="home_city")
    memory.update("ana", first, importance=0.9)
    memory.record_event("ana", "user", "I moved to Porto.")
    memory.record_event("ana", "assistant", "Noted.")
    memory.remember("bob", "Bob likes tea.")
    counts = memory.forget_user("ana")
    assert counts["concept_vectors"] == 2
    assert counts["concepts"] == 2
    assert counts["events"] == 2
    assert counts["audit_log"] == 4  # add, supersede, add, update
    assert counts["users"] == 1
    assert set(memory.forget_user("ana").values()) == {0}
    assert [h.text for h in memory.retrieve("bob", "tea")] == ["Bob likes tea."]


def test_two_instances_on_one_database_see_each_others_writes(
    memory_url: str, settings: Settings, memory: Memory
) -> None:
    other = Memory.open(memory_url, settings=settings)
    try:
        item_id = memory.remember("ana", "Ana lives in Lisbon.", key="home_city")
        assert [h.id for h in other.retrieve("ana", "Where does Ana live?")] == [item_id]
        other.update("ana", item_id, text="Ana lives in central Lisbon.")
        assert memory.get("ana", item_id).text == "Ana lives in central Lisbon."
        newer = other.remember("ana", "Ana lives in Porto.", key="home_city")
        assert [h.id for h in memory.list_items("ana")] == [newer]
        assert memory.remember("ana", "ana lives in porto", key="home_city") == newer
        memory.forget("ana", newer)
        with pytest.raises(NotFoundError):
            other.get("ana", newer)
        assert [e["action"] for e in other.history("ana", newer)][-1] == "forget"
    finally:
        other.close()


def test_forget_user_on_one_instance_leaves_other_users_intact_on_another(
    memory_url: str, settings: Settings, memory: Memory
) -> None:
    other = Memory.open(memory_url, settings=settings)
    try:
        memory.remember("ana", "Ana's dog is called Biscuit.")
        bob = other.remember("bob", "Bob's dog is called Rex.")
        other.forget_user("ana")
        assert memory.list_items("ana", include_history=True) == []
        assert memory.retrieve("ana", "dog") == []
        assert [h.id for h in memory.retrieve("bob", "dog")] == [bob]
        # the erased user can start again, from either instance
        again = memory.remember("ana", "Ana's cat is called Mochi.")
        assert [h.id for h in other.list_items("ana")] == [again]
    finally:
        other.close()


async def test_concurrent_writes_to_one_slot_leave_exactly_one_current_item(
    memory_url: str, settings: Settings, memory: Memory
) -> None:
    other = Memory.open(memory_url, settings=settings)
    try:
        stores = (memory, other)
        ids = await asyncio.gather(
            *(
                stores[n % 2].aremember("ana", f"Ana lives in city number {n}.", key="home_city")
                for n in range(8)
            )
        )
        assert len(set(ids)) == 8
        current = await memory.alist_items("ana")
        assert len(current) == 1 and current[0].id in ids
        everything = await other.alist_items("ana", include_history=True)
        assert len(everything) == 8
        assert sum(item.valid_to is None for item in everything) == 1
    finally:
        other.close()


async def test_concurrent_first_writes_of_a_new_user_all_land(
    memory_url: str, settings: Settings, memory: Memory
) -> None:
    other = Memory.open(memory_url, settings=settings)
    try:
        stores = (memory, other)
        writes = [stores[n % 2].aremember("zoe", f"Zoe's fact number {n}.") for n in range(6)]
        writes += [stores[n % 2].arecord_event("zoe", "user", f"turn {n}") for n in range(4)]
        writes += [stores[n % 2].aremember("zoe", "Zoe likes tea.") for n in range(4)]
        results = await asyncio.gather(*writes)
        assert len(set(results[-4:])) == 1  # the same text is stored once, whoever wins
        items = await memory.alist_items("zoe")
        assert len(items) == 7
        counts = await other.aforget_user("zoe")
        assert counts["users"] == 1 and counts["events"] == 4 and counts["concepts"] == 7
    finally:
        other.close()


class RenamedEmbedder:
    """The same embedder under another name, as if the user had switched models."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = f"{inner.name}+renamed"
        self.dim = inner.dim

    def embed_documents(self, texts: Sequence[str]) -> Any:
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> Any:
        return self.inner.embed_query(text)


def test_retrieval_falls_back_to_personas_then_global(memory: Memory) -> None:
    from confidante.memory.scopes import GLOBAL_OWNER, persona_owner

    memory.remember(persona_owner("cyclists"), "Cyclists like routes with few cars.")
    memory.remember(GLOBAL_OWNER, "Most people like sunny weekends.")
    memory.remember("ana", "Ana likes long bike routes along the coast.")
    memory.remember("bob", "Bob likes routes through the mountains.")
    memory.join_persona("ana", "cyclists")
    assert memory.personas("ana") == ["cyclists"]

    hits = memory.retrieve("ana", "which routes do I like?", k=3)
    assert [hit.scope for hit in hits] == ["user", "persona", "global"]
    assert hits[0].text == "Ana likes long bike routes along the coast."
    assert all("Bob" not in hit.text for hit in hits)

    own_only = memory.retrieve("ana", "which routes do I like?", k=3, fallback=False)
    assert [hit.scope for hit in own_only] == ["user"]
    # a user outside the persona falls back to global only, never to another user
    assert [hit.scope for hit in memory.retrieve("carl", "routes", k=3)] == ["global"]
    # a shared scope never reads users' items
    assert [h.scope for h in memory.retrieve(persona_owner("cyclists"), "routes", k=5)] == [
        "persona"
    ]
    memory.leave_persona("ana", "cyclists")
    assert [hit.scope for hit in memory.retrieve("ana", "routes", k=3)] == ["user", "global"]
    memory.join_persona("ana", "cyclists")
    memory.forget_user("ana")
    assert memory.personas("ana") == []
    assert memory.retrieve(persona_owner("cyclists"), "routes", k=1)  # shared data stays


def test_session_ids_are_the_users_own_most_recent_first(memory: Memory) -> None:
    memory.record_event("ana", "user", "hello", session_id="morning")
    memory.record_event("bob", "user", "hi", session_id="bob-only")
    memory.record_event("ana", "assistant", "hello ana", session_id="assistant-side")
    memory.record_event("ana", "user", "again", session_id="evening")
    assert memory.session_ids("ana") == ["evening", "morning"]
    assert memory.session_ids("ana", limit=1) == ["evening"]
    assert memory.session_ids("carol") == []
    with pytest.raises(InvalidInputError):
        memory.session_ids("ana", limit=0)
