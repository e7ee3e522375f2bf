"""ConfidanteStore driven through LangGraph's own BaseStore API and from compiled graphs."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TypedDict

import pytest
from langgraph.config import get_store
from langgraph.graph import END, START, StateGraph
from langgraph.store.base import (
    BaseStore,
    GetOp,
    InvalidNamespaceError,
    Item,
    ListNamespacesOp,
    MatchCondition,
    PutOp,
    SearchItem,
    SearchOp,
)

from confidante.integrations.langgraph_store import ConfidanteStore, user_at
from confidante.memory.store import Memory
from confidante.settings import Settings


@pytest.fixture
def sqlite_memory(settings: Settings) -> Iterator[Memory]:
    memory = Memory.open(settings=settings)
    yield memory
    memory.close()


def test_base_store_api(sqlite_memory: Memory) -> None:
    store: BaseStore = ConfidanteStore(sqlite_memory)
    ns = ("alice", "memories")
    store.put(ns, "diet", {"text": "Alice is vegetarian.", "stars": 3, "tags": {"kind": "food"}})
    store.put(ns, "city", {"text": "Alice lives in Lisbon near the river.", "stars": 5})
    store.put(("alice", "projects"), "p1", {"text": "Alice is writing a novel.", "stars": 4})

    item = store.get(ns, "diet")
    assert isinstance(item, Item)
    assert item.value == {"text": "Alice is vegetarian.", "stars": 3, "tags": {"kind": "food"}}
    assert item.namespace == ns and item.key == "diet"
    assert store.get(ns, "missing") is None

    hits = store.search(("alice",), query="which city does she live in?", limit=2)
    assert hits[0].key == "city"
    assert all(hit.score is not None for hit in hits)
    assert len(hits) == 2
    assert [h.key for h in store.search(ns, filter={"stars": {"$gte": 4}})] == ["city"]
    assert [h.key for h in store.search(ns, filter={"tags": {"kind": "food"}})] == ["diet"]
    assert [h.key for h in store.search(ns, filter={"stars": {"$ne": 3}})] == ["city"]
    everything = store.search(("alice",), limit=10)
    assert {h.key for h in everything} == {"diet", "city", "p1"}
    assert all(h.score is None for h in everything)
    page = store.search(("alice",), limit=1, offset=1)
    assert len(page) == 1 and page[0].key == everything[1].key

    created = item.created_at
    store.put(ns, "diet", {"text": "Alice is vegan now.", "stars": 3, "tags": {"kind": "food"}})
    updated = store.get(ns, "diet")
    assert updated is not None and updated.value["text"] == "Alice is vegan now."
    assert updated.created_at == created and updated.updated_at > created
    # same text, another field changed: the value is still replaced
    store.put(ns, "diet", {"text": "Alice is vegan now.", "stars": 1})
    again = store.get(ns, "diet")
    assert again is not None and again.value == {"text": "Alice is vegan now.", "stars": 1}

    assert store.list_namespaces() == [("alice", "memories"), ("alice", "projects")]
    assert store.list_namespaces(prefix=("alice",), max_depth=1) == [("alice",)]
    assert store.list_namespaces(suffix=("projects",)) == [("alice", "projects")]
    assert store.list_namespaces(prefix=("alice", "*")) == [
        ("alice", "memories"),
        ("alice", "projects"),
    ]

    store.delete(ns, "diet")
    assert store.get(ns, "diet") is None
    assert "diet" not in {h.key for h in store.search(ns, query="vegan food")}
    assert all(
        "vegan" not in h.text for h in sqlite_memory.list_items("alice", include_history=True)
    )

    with pytest.raises(InvalidNamespaceError):
        store.put((), "k", {"text": "no namespace"})


def test_batch_and_abatch(sqlite_memory: Memory) -> None:
    store = ConfidanteStore(sqlite_memory)
    ns = ("carol", "notes")
    results = store.batch(
        [
            PutOp(ns, "a", {"text": "Carol plays the cello."}),
            PutOp(ns, "b", {"text": "Carol's sister is Dana."}),
            GetOp(ns, "a"),
            SearchOp(("carol",), query="which instrument does she play, the cello?", limit=1),
            ListNamespacesOp(match_conditions=(MatchCondition("prefix", ("carol",)),)),
        ]
    )
    assert results[0] is None and results[1] is None
    assert isinstance(results[2], Item) and results[2].value["text"] == "Carol plays the cello."
    assert [h.key for h in results[3]] == ["a"]  # type: ignore[union-attr]
    assert results[4] == [ns]


async def test_async_api(sqlite_memory: Memory) -> None:
    store = ConfidanteStore(sqlite_memory)
    ns = ("dave", "memories")
    await store.aput(ns, "pet", {"text": "Dave's cat is called Miso."})
    item = await store.aget(ns, "pet")
    assert item is not None and item.value["text"] == "Dave's cat is called Miso."
    hits = await store.asearch(("dave",), query="what is the cat's name")
    assert hits and hits[0].key == "pet"
    assert await store.alist_namespaces(prefix=("dave",)) == [ns]
    await store.adelete(ns, "pet")
    assert await store.aget(ns, "pet") is None


class State(TypedDict):
    user: str
    fact: str
    recalled: list[str]


def _remember_node(state: State) -> dict[str, object]:
    store = get_store()  # LangGraph's own accessor, inside a node
    store.put((state["user"], "memories"), "fact-1", {"text": state["fact"]})
    return {}


async def _recall_node(state: State, *, store: BaseStore) -> dict[str, object]:
    hits = await store.asearch((state["user"], "memories"), query="where do I live?", limit=3)
    return {"recalled": [hit.value["text"] for hit in hits]}


def _sync_recall_node(state: State, *, store: BaseStore) -> dict[str, object]:
    hits = store.search((state["user"], "memories"), query="where do I live?", limit=3)
    return {"recalled": [hit.value["text"] for hit in hits]}


def _graph(store: BaseStore, recall: object = _recall_node):  # type: ignore[no-untyped-def]
    builder = StateGraph(State)
    builder.add_node("remember", _remember_node)
    builder.add_node("recall", recall)  # type: ignore[call-overload]
    builder.add_edge(START, "remember")
    builder.add_edge("remember", "recall")
    builder.add_edge("recall", END)
    return builder.compile(store=store)


async def test_store_inside_a_compiled_graph(sqlite_memory: Memory) -> None:
    graph = _graph(ConfidanteStore(sqlite_memory))
    state = {"user": "erin", "fact": "Erin lives in Porto.", "recalled": []}
    result = await graph.ainvoke(state)
    assert result["recalled"] == ["Erin lives in Porto."]
    # the graph wrote into Erin's own memory: the assistant's retrieval finds it
    assert sqlite_memory.retrieve("erin", "Porto")[0].text == "Erin lives in Porto."
    # and a sync invoke, with a sync node calling store.put through get_store()
    sync_state = {"user": "frank", "fact": "Frank lives in Oslo.", "recalled": []}
    assert _graph(ConfidanteStore(sqlite_memory), _sync_recall_node).invoke(sync_state)[
        "recalled"
    ] == ["Frank lives in Oslo."]


def test_namespaces_never_leak_between_users(memory: Memory) -> None:
    store = ConfidanteStore(memory)
    store.put(("alice", "memories"), "secret", {"text": "Alice's bank PIN hint is tulip."})
    store.put(("bob", "memories"), "pet", {"text": "Bob has a parrot."})
    bob_hits = store.search(("bob",), query="bank PIN hint tulip", limit=10)
    assert [h.key for h in bob_hits] == ["pet"]
    assert store.get(("bob", "memories"), "secret") is None
    assert store.list_namespaces(prefix=("bob",)) == [("bob", "memories")]
    # memory side: Bob's memory holds only Bob's item
    assert [h.text for h in memory.list_items("bob")] == ["Bob has a parrot."]
    assert all("tulip" not in h.text for h in memory.retrieve("bob", "tulip PIN", k=10))
    # a store pinned to Bob sees Bob's items under any namespace, never Alice's
    pinned = ConfidanteStore(memory, user_id="bob")
    assert pinned.search(("alice",), query="PIN tulip") == []
    assert pinned.get(("alice", "memories"), "secret") is None
    # another mapping: the user is the second label
    second = ConfidanteStore(memory, user_of=user_at(1))
    second.put(("memories", "bob"), "car", {"text": "Bob drives a red van."})
    assert [h.text for h in memory.retrieve("bob", "red van", k=1)] == ["Bob drives a red van."]
    assert all("van" not in h.text for h in memory.list_items("alice"))
    with pytest.raises(InvalidNamespaceError):
        second.put(("memories",), "x", {"text": "no user label"})


def test_ttl_expiry_refresh_and_sweep(sqlite_memory: Memory) -> None:
    store = ConfidanteStore(sqlite_memory)
    ns = ("gina", "session")
    store.put(ns, "short", {"text": "Gina is in a meeting."}, ttl=0.002)  # 0.12 s
    store.put(ns, "long", {"text": "Gina likes jazz."}, ttl=60)
    store.put(ns, "forever", {"text": "Gina was born in Rome."})

    def expiry(key: str) -> str:
        (hit,) = [
            h for h in sqlite_memory.list_items("gina") if h.attributes["langgraph"]["key"] == key
        ]
        return str(hit.attributes["langgraph"]["expires_at"])

    before = expiry("long")
    time.sleep(0.01)
    assert store.get(ns, "long", refresh_ttl=False) is not None
    assert expiry("long") == before
    assert store.get(ns, "long") is not None  # refresh_ttl defaults to True
    assert expiry("long") > before
    time.sleep(0.25)
    assert store.get(ns, "short") is None
    assert {h.key for h in store.search(ns)} == {"long", "forever"}
    assert {h.key for h in store.search(ns, query="meeting")} <= {"long", "forever"}
    assert store.sweep_ttl() == 1
    assert {h.text for h in sqlite_memory.list_items("gina", include_history=True)} == {
        "Gina likes jazz.",
        "Gina was born in Rome.",
    }
    # a store-wide default TTL
    timed = ConfidanteStore(sqlite_memory, ttl={"default_ttl": 0.002})
    timed.put(ns, "brief", {"text": "Gina is on the phone."})
    time.sleep(0.25)
    assert timed.get(ns, "brief") is None


def _script(store: BaseStore) -> list[object]:
    """The same operations on any BaseStore; returns what a caller observes (no times)."""

    def view(items: list[Item] | list[SearchItem]) -> list[tuple[object, ...]]:  # type: ignore[type-arg]
        return sorted((item.namespace, item.key, repr(item.value)) for item in items)

    seen: list[object] = []
    store.put(("hana", "a"), "k1", {"text": "one", "n": 1, "tag": "x"})
    store.put(("hana", "a"), "k2", {"text": "two", "n": 2, "tag": "y"})
    store.put(("hana", "b", "deep"), "k3", {"text": "three", "n": 3, "tag": "x"})
    store.put(("ivan", "a"), "k1", {"text": "ivan's", "n": 4})
    seen.append(store.get(("hana", "a"), "k1").value)  # type: ignore[union-attr]
    seen.append(store.get(("hana", "a"), "nope"))
    seen.append(view(store.search(("hana",))))
    seen.append(view(store.search(("hana",), filter={"tag": "x"})))
    seen.append(view(store.search(("hana",), filter={"n": {"$gt": 1}, "tag": {"$ne": "y"}})))
    seen.append(view(store.search(("hana", "a"), filter={"n": {"$lte": 2}})))
    seen.append(len(store.search(("hana",), limit=2)))
    seen.append(store.list_namespaces())
    seen.append(store.list_namespaces(prefix=("hana",)))
    seen.append(store.list_namespaces(prefix=("hana",), max_depth=2))
    seen.append(store.list_namespaces(suffix=("a",)))
    seen.append(store.list_namespaces(prefix=("*", "a")))
    seen.append(store.list_namespaces(limit=1, offset=1))
    store.put(("hana", "a"), "k1", {"text": "one again", "n": 10})
    seen.append(store.get(("hana", "a"), "k1").value)  # type: ignore[union-attr]
    store.delete(("hana", "a"), "k2")
    store.delete(("hana", "a"), "never-existed")
    seen.append(view(store.search(("hana", "a"))))
    for bad in [("hana", "x.y"), ("hana", ""), ()]:
        with pytest.raises(InvalidNamespaceError):
            store.put(bad, "k", {"text": "bad"})
    return seen


def test_behaves_like_langgraphs_in_memory_store(memory: Memory) -> None:
    """On every backend (SQLite, PostgreSQL, PostgreSQL + pgvector)."""
    from langgraph.store.memory import InMemoryStore

    ours = ConfidanteStore(memory)
    assert _script(ours) == _script(InMemoryStore())
    # like LangGraph's PostgreSQL store (and unlike the in-memory one), a namespace whose last
    # item is deleted is no longer listed
    ours.delete(("hana", "b", "deep"), "k3")
    assert ours.list_namespaces(prefix=("hana",)) == [("hana", "a")]


def test_ttl_sweeper_thread(sqlite_memory: Memory) -> None:
    store = ConfidanteStore(sqlite_memory, ttl={"sweep_interval_minutes": 1})
    store.put(("ivy", "tmp"), "note", {"text": "Ivy is on a train."}, ttl=0.001)
    store.put(("ivy", "kept"), "note", {"text": "Ivy is a nurse."})
    store.start_ttl_sweeper(sweep_interval_minutes=0.002)  # every 0.12 s
    try:
        deadline = time.monotonic() + 20
        while len(sqlite_memory.list_items("ivy")) > 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        assert store.stop_ttl_sweeper(timeout=10)
    assert [h.text for h in sqlite_memory.list_items("ivy")] == ["Ivy is a nurse."]


def _expire_now(memory: Memory, item_id: str) -> None:
    """Make a memory item's own expiry pass (its LangGraph record still says later)."""
    from datetime import UTC, datetime, timedelta

    from sqlmodel import col, update

    from confidante.memory.storage.records import Concept

    past = datetime.now(UTC) - timedelta(minutes=1)
    memory.database.run_sync(
        lambda session: session.exec(
            update(Concept).where(col(Concept.id) == item_id).values(expires_at=past)  # type: ignore[call-overload]
        )
    )


def test_a_ttl_is_the_memory_items_own_expiry(memory: Memory) -> None:
    """On every backend: the memory's reads and sweep honour a store item's TTL."""
    from datetime import UTC, datetime, timedelta

    store = ConfidanteStore(memory)
    ns = ("kim", "notes")
    store.put(ns, "trip", {"text": "Kim is in Oslo this week."}, ttl=60)
    (hit,) = memory.list_items("kim")
    record = hit.attributes["langgraph"]
    assert hit.expires_at is not None
    assert hit.expires_at == datetime.fromisoformat(record["expires_at"])
    assert timedelta(minutes=59) < hit.expires_at - datetime.now(UTC) <= timedelta(minutes=60)
    # refresh on read moves the memory's expiry too; refresh_ttl=False does not
    time.sleep(0.01)
    assert store.get(ns, "trip", refresh_ttl=False) is not None
    assert memory.get("kim", hit.id).expires_at == hit.expires_at
    assert store.get(ns, "trip") is not None
    refreshed = memory.get("kim", hit.id)
    assert refreshed.expires_at is not None and refreshed.expires_at > hit.expires_at
    assert refreshed.expires_at == datetime.fromisoformat(
        refreshed.attributes["langgraph"]["expires_at"]
    )
    store.search(ns, query="Oslo")  # a search refreshes what it returns
    assert memory.get("kim", hit.id).expires_at > refreshed.expires_at  # type: ignore[operator]
    # a put without a TTL makes it last (the same text: the same memory item)
    store.put(ns, "trip", {"text": "Kim is in Oslo this week."})
    assert memory.get("kim", hit.id).expires_at is None
    store.put(ns, "trip", {"text": "Kim is in Bergen this week."}, ttl=60)  # a new value
    (current,) = memory.list_items("kim")
    assert current.id != hit.id and current.expires_at is not None
    # once the memory item expires: gone from the store and from the memory's own reads
    store.put(ns, "pin", {"text": "Kim's locker code is 4471."}, ttl=60)
    pin = next(h for h in memory.list_items("kim") if "locker" in h.text)
    _expire_now(memory, current.id)
    _expire_now(memory, pin.id)
    assert store.get(ns, "trip") is None
    assert store.search(ns) == [] and store.search(ns, query="Bergen locker") == []
    assert store.list_namespaces(prefix=("kim",)) == []
    assert memory.list_items("kim") == []
    assert memory.retrieve("kim", "Bergen locker code", k=5, fallback=False) == []
    exported = memory.export("kim")["items"]
    assert [item["text"] for item in exported] == ["Kim is in Oslo this week."]  # history

    # the memory's sweep erases the expired version; the store's every version of its key
    assert memory.sweep(users=["kim"]).expired == 2
    assert store.sweep_ttl() == 0
    store.put(ns, "pin", {"text": "Kim's locker code is 5582."}, ttl=60)
    (again,) = memory.list_items("kim")
    assert store.get(ns, "pin").value == {"text": "Kim's locker code is 5582."}  # type: ignore[union-attr]
    _expire_now(memory, again.id)
    assert store.sweep_ttl() == 1
    assert all("locker" not in h.text for h in memory.list_items("kim", include_history=True))
