"""The embedded vector index grows without rebuilding, and batched retrieval equals one by one."""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from confidante.errors import NotFoundError
from confidante.memory.index.base import exact_top
from confidante.memory.index.embedded import EmbeddedVectorIndex
from confidante.memory.items import MemoryItem
from confidante.memory.scopes import GLOBAL_OWNER
from confidante.memory.storage.database import Database
from confidante.memory.store import Memory

DIM = 32
pytest.importorskip("usearch")


class HashEmbedder:
    """A random unit vector per word, summed over a text's words (seeded by each word's CRC)."""

    name = "test/words-32"
    dim = DIM

    def embed_documents(self, texts: Sequence[str]) -> Any:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().replace(".", " ").split():
                out[row] += np.random.default_rng(zlib.crc32(word.encode())).standard_normal(DIM)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)

    def embed_query(self, text: str) -> Any:
        return self.embed_documents([text])[0]


@pytest.fixture
def memory(tmp_path: Path) -> Iterator[Memory]:
    embedder = HashEmbedder()
    index = EmbeddedVectorIndex(embedder.name, ann_threshold=50, ann="hnsw")
    store = Memory(Database.open(tmp_path / "memory.db"), embedder, index=index)  # type: ignore[arg-type]
    yield store
    store.close()


def texts(prefix: str, count: int) -> list[str]:
    return [f"{prefix} note number {i} about topic{i % 7} and thing{i}" for i in range(count)]


def test_new_vectors_join_a_ready_hnsw_graph_without_a_rebuild(memory: Memory) -> None:
    index = memory.index
    assert isinstance(index, EmbeddedVectorIndex)
    memory.remember_many("ana", texts("old", 120))
    memory.database.run_sync(lambda session: index.warm(session, "ana"), write=False)
    cache = index._users["ana"]
    graph = cache.ann
    assert graph is not None and cache.ann_size == 120

    fresh = texts("fresh", 5)
    for text in fresh:  # one write at a time, as turns do
        memory.remember("ana", text)
        assert memory.retrieve("ana", text, k=1, fallback=False)[0].text == text
    assert cache.ann is graph, "the graph grew in place, it was not rebuilt"
    assert cache.ann_size == len(cache.ids) == 125 and len(graph) == 125
    assert len(cache.buffer) > len(cache.matrix), "the matrix grew into spare rows"
    # the grown matrix holds exactly the stored vectors, in the order of ``ids``
    stored = HashEmbedder().embed_documents([*texts("old", 120), *fresh])
    assert np.allclose(cache.matrix, stored, atol=1e-6)
    query = HashEmbedder().embed_query("fresh note number 3")
    exact = [cache.ids[row] for row, _ in exact_top(cache.matrix, query, 1)]
    with memory.database.session() as session:
        assert [item for item, _ in index.search(session, "ana", query, 1)] == exact


def test_the_sign_sketch_finds_the_exact_top_10_and_grows_by_appending(tmp_path: Path) -> None:
    embedder = HashEmbedder()
    index = EmbeddedVectorIndex(embedder.name, ann_threshold=50, sketch_pool=40)
    memory = Memory(Database.open(tmp_path / "m.db"), embedder, index=index)  # type: ignore[arg-type]
    try:
        memory.remember_many("ana", texts("old", 400))
        memory.database.run_sync(lambda session: index.warm(session, "ana"), write=False)
        cache = index._users["ana"]
        assert cache.sketch is not None and cache.sketch.size == 400
        memory.remember("ana", "fresh note about topic3")
        found = memory.retrieve("ana", "fresh note about topic3", k=1, fallback=False)
        assert found[0].text == "fresh note about topic3"
        assert cache.sketch.size == 401, "the new row was packed, the sketch not rebuilt"
        shares = []
        for i in range(20):
            query = embedder.embed_query(f"note about topic{i % 7} and thing{i * 13}")
            exact = {cache.ids[row] for row, _ in exact_top(cache.matrix, query, 10)}
            with memory.database.session() as session:
                near = {item for item, _ in index.search(session, "ana", query, 10)}
            shares.append(len(exact & near) / 10)
        assert np.mean(shares) >= 0.9
    finally:
        memory.close()


def test_a_reader_keeps_a_valid_view_while_the_matrix_grows(memory: Memory) -> None:
    index = memory.index
    assert isinstance(index, EmbeddedVectorIndex)
    memory.remember_many("ana", texts("old", 10))
    memory.retrieve("ana", "old note", k=1)
    before = index._users["ana"].matrix
    snapshot = before.copy()
    memory.remember_many("ana", texts("more", 300))  # beyond the spare rows: a new buffer
    memory.retrieve("ana", "more note", k=1)
    assert np.array_equal(before, snapshot)
    assert len(index._users["ana"].matrix) == 310


def test_retrieve_many_equals_retrieve_for_each_query(memory: Memory) -> None:
    memory.remember_many("ana", texts("ana", 40))
    memory.remember_many("bob", texts("bob", 40))
    memory.remember_many(GLOBAL_OWNER, ["A global fact about topic3 and the weather."])
    queries = ["note number 7 about topic0", "thing12", "weather topic3", "nothing matches zzz"]
    for k, options in [(5, {}), (3, {"fallback": False}), (60, {}), (4, {"kinds": ["fact"]})]:
        many = memory.retrieve_many("ana", queries, k=k, **options)
        one = [memory.retrieve("ana", query, k=k, **options) for query in queries]
        assert [[(h.id, round(h.score, 6)) for h in hits] for hits in many] == [
            [(h.id, round(h.score, 6)) for h in hits] for hits in one
        ]
        assert all(hit.id for hits in many for hit in hits)
    assert memory.retrieve_many("ana", [], k=3) == []
    # k=60 > ana's 40 items: the global fact fills in, exactly as ``retrieve`` does
    assert any("global fact" in hit.text for hit in memory.retrieve_many("ana", queries, 60)[2])
    assert all(hit.text.startswith("ana") or "global" in hit.text for hit in many[0])


def test_remember_learned_writes_the_items_and_marks_the_turn_done(memory: Memory) -> None:
    event = memory.record_event("ana", "user", "My dog is Rex and I live in Oslo.")
    items = [
        MemoryItem(text="The user's dog is called Rex.", key="dog_name", provenance=[event]),
        MemoryItem(text="The user lives in Oslo.", key="home_city", provenance=[event]),
    ]
    ids = memory.remember_learned("ana", event, items)
    assert [memory.get("ana", item_id).text for item_id in ids] == [i.text for i in items]
    assert [e.extraction for e in memory.events("ana")] == ["done"]

    question = memory.record_event("ana", "user", "What is my dog called?")
    assert memory.remember_learned("ana", question, []) == []
    assert {e.id: e.extraction for e in memory.events("ana")}[question] == "done"

    other = memory.record_event("bob", "user", "I live in Rome.")
    before = len(memory.list_items("ana"))
    with pytest.raises(NotFoundError):  # bob's turn is not ana's: nothing is written
        memory.remember_learned("ana", other, [MemoryItem(text="The user lives in Rome.")])
    assert len(memory.list_items("ana")) == before
    assert [e.extraction for e in memory.events("bob")] == ["pending"]


def test_retrieve_many_runs_on_any_event_loop(memory: Memory) -> None:
    memory.remember_many("ana", texts("ana", 5))

    async def both() -> list[list[str]]:
        found = await memory.aretrieve_many("ana", ["topic1", "thing2"], k=2)
        return [[hit.text for hit in hits] for hits in found]

    assert asyncio.run(both()) == [
        [hit.text for hit in memory.retrieve("ana", q, k=2)] for q in ["topic1", "thing2"]
    ]
