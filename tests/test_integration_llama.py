"""llama-index: a PGVectorStore as the memory's vector index, the memory as a retriever.

Runs against the bundled PostgreSQL 16 + pgvector server (``pgvector_url``): the llama-index
vector store is real, in its own database, next to a SQLite memory.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.vector_stores.types import MetadataFilter, MetadataFilters
from sqlalchemy.engine import make_url

from confidante.integrations.llama_vector_index import LlamaIndexVectorIndex
from confidante.memory.embeddings.text import build_embedder
from confidante.memory.index.embedded import EmbeddedVectorIndex
from confidante.memory.llama import MemoryRetriever
from confidante.memory.storage.database import Database
from confidante.memory.store import Memory
from confidante.settings import Settings

PGVectorStore = pytest.importorskip(
    "llama_index.vector_stores.postgres", reason="pip install -e '.[integrations]'"
).PGVectorStore

ALICE = [
    "Alice lives in Lisbon, near the river.",
    "Alice is allergic to peanuts.",
    "Alice plays the cello in an amateur orchestra.",
    "Alice's daughter is called Marta.",
    "Alice prefers trains to planes.",
]
BOB = ["Bob lives in Oslo.", "Bob is allergic to cats.", "Bob plays the drums."]


@pytest.fixture
def pg_store(pgvector_database_url: str, settings: Settings) -> Iterator[object]:
    url = make_url(pgvector_database_url).set(drivername="postgresql+psycopg")
    store = PGVectorStore.from_params(
        connection_string=url,
        async_connection_string=url,
        table_name="confidante_vectors",
        embed_dim=build_embedder(settings).dim,
    )
    yield store
    store._engine.dispose()  # type: ignore[attr-defined]


def _memories(settings: Settings, pg_store: object) -> tuple[Memory, Memory, LlamaIndexVectorIndex]:
    embedder = build_embedder(settings)
    index = LlamaIndexVectorIndex(pg_store, embedder.name)  # type: ignore[arg-type]
    path = settings.resolved_database_url
    on_llama = Memory(Database.open(path), embedder, index=index)
    embedded = Memory(Database.open(path), embedder, index=EmbeddedVectorIndex(embedder.name))
    return on_llama, embedded, index


def test_pgvector_store_as_the_memory_index(settings: Settings, pg_store: object) -> None:
    memory, reference, index = _memories(settings, pg_store)
    try:
        ids = {text: memory.remember("alice", text) for text in ALICE}
        for text in BOB:
            memory.remember("bob", text)
        queries = ["where does she live?", "food allergy", "music instrument", "her child"]
        embedder = memory.embedder
        for query in queries:
            vector = embedder.embed_query(query)
            got = memory.database.run_sync(lambda s, v=vector: index.search(s, "alice", v, 3))
            want = reference.database.run_sync(
                lambda s, v=vector: reference.index.search(s, "alice", v, 3)
            )
            assert [i for i, _ in got] == [i for i, _ in want]
            assert [score for _, score in got] == pytest.approx([s for _, s in want], abs=1e-4)
            assert [h.id for h in memory.retrieve("alice", query, k=3)] == [
                h.id for h in reference.retrieve("alice", query, k=3)
            ]
        # the vectors really are in PostgreSQL, one node per item, tagged with their user
        stored = pg_store.get_nodes(  # type: ignore[attr-defined]
            filters=MetadataFilters(filters=[MetadataFilter(key="user_id", value="alice")])
        )
        assert {node.node_id for node in stored} == set(ids.values())

        # an edit replaces the node; a forgotten item leaves the store
        memory.update("alice", ids[ALICE[0]], text="Alice moved to Porto last spring.")
        assert (
            memory.retrieve("alice", "which city is she in now? Porto", k=1)[0].id == ids[ALICE[0]]
        )
        memory.forget("alice", ids[ALICE[1]])
        assert ids[ALICE[1]] not in {h.id for h in memory.retrieve("alice", "peanut allergy", k=5)}
        stored = pg_store.get_nodes(  # type: ignore[attr-defined]
            filters=MetadataFilters(filters=[MetadataFilter(key="user_id", value="alice")])
        )
        assert ids[ALICE[1]] not in {node.node_id for node in stored}
        assert len(stored) == len(ALICE) - 1

        # a new process (a fresh index) rebuilds from the database without duplicates
        fresh = LlamaIndexVectorIndex(pg_store, embedder.name)  # type: ignore[arg-type]
        vector = embedder.embed_query("trains")
        hits = memory.database.run_sync(lambda s: fresh.search(s, "alice", vector, 10))
        assert len(hits) == len({i for i, _ in hits}) == len(ALICE) - 1
    finally:
        memory.close()
        reference.close()


def test_index_and_retriever_never_mix_users(settings: Settings, pg_store: object) -> None:
    memory, reference, index = _memories(settings, pg_store)
    reference.close()
    try:
        alice_ids = {memory.remember("alice", text) for text in ALICE}
        for text in BOB:
            memory.remember("bob", text)
        vector = memory.embedder.embed_query("Alice cello Lisbon peanuts")
        bob_hits = memory.database.run_sync(lambda s: index.search(s, "bob", vector, 50))
        assert len(bob_hits) == len(BOB) and not alice_ids & {i for i, _ in bob_hits}
        # llama-index's own API: a retriever and a query engine over Bob's memory
        retriever = MemoryRetriever(memory, "bob", k=10)
        nodes = retriever.retrieve("Where does Alice live and what does she play?")
        assert nodes and all(node.node.node_id not in alice_ids for node in nodes)
        engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM())
        response = engine.query("Which instrument does Bob play?")
        texts = [n.node.get_content() for n in response.source_nodes]
        assert "Bob plays the drums." in texts
        assert not any(t in ALICE for t in texts)
        # erasing Bob removes his nodes from the store (at his next search), not Alice's
        memory.forget_user("bob")
        assert memory.database.run_sync(lambda s: index.search(s, "bob", vector, 50)) == []
        bob_filter = MetadataFilters(filters=[MetadataFilter(key="user_id", value="bob")])
        assert pg_store.get_nodes(filters=bob_filter) == []  # type: ignore[attr-defined]
        assert len(memory.retrieve("alice", "cello", k=10)) == len(ALICE)
    finally:
        memory.close()


async def test_retriever_async_api_on_llama_index(settings: Settings, pg_store: object) -> None:
    memory, reference, _ = _memories(settings, pg_store)
    reference.close()
    try:
        for text in ALICE:
            await memory.aremember("alice", text)
        retriever = MemoryRetriever(memory, "alice", k=2)
        nodes = await retriever.aretrieve("Who is her daughter?")
        assert nodes[0].node.get_content() == "Alice's daughter is called Marta."
        assert nodes[0].node.metadata["kind"] == "fact"
        engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM())
        response = await engine.aquery("Does she like planes?")
        assert "Alice prefers trains to planes." in [
            n.node.get_content() for n in response.source_nodes
        ]
    finally:
        memory.close()


def test_simple_vector_store_as_the_memory_index(settings: Settings) -> None:
    from llama_index.core.vector_stores import SimpleVectorStore

    embedder = build_embedder(settings)
    vectors = SimpleVectorStore()
    path = settings.resolved_database_url
    memory = Memory(
        Database.open(path), embedder, index=LlamaIndexVectorIndex(vectors, embedder.name)
    )
    reference = Memory(Database.open(path), embedder, index=EmbeddedVectorIndex(embedder.name))
    try:
        for text in ALICE:
            memory.remember("alice", text)
        for text in BOB:
            memory.remember("bob", text)
        for query in ["where does she live?", "allergy", "instrument"]:
            assert [h.id for h in memory.retrieve("alice", query, k=3)] == [
                h.id for h in reference.retrieve("alice", query, k=3)
            ]
            assert {h.text for h in memory.retrieve("bob", query, k=10)} <= set(BOB)
        assert len(vectors.data.embedding_dict) == len(ALICE) + len(BOB)
    finally:
        memory.close()
        reference.close()
