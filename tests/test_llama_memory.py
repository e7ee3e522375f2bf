"""llama-index on the memory: document ingestion, the retriever, a query engine over it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from llama_index.core import Settings as LlamaSettings
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import Document, MetadataMode, QueryBundle

from confidante.errors import InvalidInputError
from confidante.memory.ingest.documents import use_bundled_tiktoken_cache
from confidante.memory.llama import MemoryRetriever, aingest_documents, ingest_documents
from confidante.memory.store import Memory

NOTES = """# Trip notes

We flew to Lisbon in May and stayed in a small hotel near Alfama. The tram 28 was always full.

Next year we want to see Porto and the Douro valley. Book the train from Lisbon early, it sells out.

The best pastel de nata was at a bakery in Belém, next to the monastery.
"""
MAIL = {
    "from": "ana@example.org",
    "subject": "Sourdough",
    "body": "Feed the sourdough starter every morning with rye flour and keep it warm.",
}


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    folder = tmp_path / "docs"
    (folder / "mail").mkdir(parents=True)
    (folder / "notes.md").write_text(NOTES, encoding="utf-8")
    (folder / "todo.txt").write_text("Renew the passport before the trip to Japan.\n")
    (folder / "mail" / "ana.json").write_text(json.dumps(MAIL), encoding="utf-8")
    (folder / ".hidden.txt").write_text("secret scratch notes")
    (folder / "photo.xyz").write_bytes(b"\x00\x01 not text")
    return folder


def test_ingest_files_with_provenance(memory: Memory, docs: Path) -> None:
    ids = ingest_documents(memory, "alice", [docs], chunk_size=64)
    items = memory.list_items("alice", kinds=["document"])
    assert len(items) == len(set(ids)) >= 4  # notes.md splits into several chunks
    by_file: dict[str, list[str]] = {}
    for item in items:
        source, node = item.provenance
        assert source.startswith("file:") and node.startswith("node:")
        path = Path(item.attributes["file_path"])
        start, end = item.attributes["start_char"], item.attributes["end_char"]
        assert source == f"file:{path}#chars={start}-{end}"
        original = path.read_text(encoding="utf-8")
        assert original[start:end].strip() == item.text  # offsets point into the file
        assert item.attributes["file_name"] == path.name
        by_file.setdefault(path.name, []).append(item.text)
    assert set(by_file) == {"notes.md", "todo.txt", "ana.json"}  # hidden and binary skipped
    assert len(by_file["notes.md"]) >= 2
    notes = [item for item in items if item.attributes["file_name"] == "notes.md"]
    assert {item.attributes["title"] for item in notes} == {"Trip notes"}
    assert "rye flour" in by_file["ana.json"][0]
    # ingesting the same files again stores nothing new
    assert ingest_documents(memory, "alice", [docs], chunk_size=64) == ids
    assert len(memory.list_items("alice")) == len(items)
    assert memory.list_items("bob") == []


async def test_ingest_llama_documents_in_batches_with_progress(memory: Memory) -> None:
    documents = [
        Document(text=f"Meeting note {n}: the budget for project {n} is {n * 100} euros.")
        for n in range(5)
    ]
    documents.append(Document(text="Ana likes jazz.", metadata={"title": "Mail", "n": 3}))
    ids = await aingest_documents(memory, "alice", documents, batch_size=2, progress=True)
    assert len(ids) == 6
    last = await memory.aget("alice", ids[-1])
    assert last.kind == "document"
    assert last.attributes["title"] == "Mail" and last.attributes["n"] == 3
    assert last.provenance[0] == f"document:{documents[-1].id_}#chars=0-15"


async def test_ingest_refuses_missing_and_unreadable_files(memory: Memory, docs: Path) -> None:
    with pytest.raises(InvalidInputError, match="no such file"):
        await aingest_documents(memory, "alice", [docs / "todo.txt", docs / "absent.txt"])
    with pytest.raises(InvalidInputError, match=r"no reader for \.xyz"):
        await aingest_documents(memory, "alice", docs / "photo.xyz")
    with pytest.raises(InvalidInputError, match="chunk_overlap"):
        await aingest_documents(memory, "alice", docs, chunk_size=64, chunk_overlap=64)
    assert await memory.alist_items("alice") == []


def test_tiktoken_cache_is_set_only_when_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TIKTOKEN_CACHE_DIR", raising=False)
    use_bundled_tiktoken_cache()
    bundled = Path(os.environ["TIKTOKEN_CACHE_DIR"])
    assert bundled.name == "tiktoken_cache" and any(bundled.iterdir())
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "/somewhere/else")
    use_bundled_tiktoken_cache()
    assert os.environ["TIKTOKEN_CACHE_DIR"] == "/somewhere/else"


async def test_retriever_returns_only_that_users_items(memory: Memory, docs: Path) -> None:
    await aingest_documents(memory, "alice", docs, chunk_size=64)
    bob_id = await memory.aremember("bob", "Bob books the train to Porto.", key="trip")
    retriever = MemoryRetriever(memory, "alice", k=3, kinds=["document"])
    results = await retriever.aretrieve("train to Porto")
    assert 0 < len(results) <= 3
    assert "Porto" in results[0].node.get_content()
    alice_ids = {item.id for item in await memory.alist_items("alice")}
    for result in results:
        node = result.node
        assert node.node_id in alice_ids and node.metadata["memory_id"] == node.node_id
        assert node.metadata["kind"] == "document"
        assert node.metadata["provenance"][0].startswith("file:")
        assert result.score is not None
    # the sync, llama-index way (a string or a QueryBundle)
    sync = retriever.retrieve(QueryBundle("train to Porto"))
    assert [r.node.node_id for r in sync] == [r.node.node_id for r in results]
    bob = MemoryRetriever(memory, "bob", k=10).retrieve("Lisbon train Porto sourdough")
    assert [r.node.node_id for r in bob] == [bob_id]
    with pytest.raises(InvalidInputError):
        MemoryRetriever(memory, "bob", k=0)


async def test_query_engine_over_the_memory(
    memory: Memory, docs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    await aingest_documents(memory, "alice", docs, chunk_size=64)
    await memory.aremember("bob", "Bob's pastel de nata came from Lisbon airport.")
    engine = RetrieverQueryEngine.from_args(MemoryRetriever(memory, "alice", k=2), llm=MockLLM())
    response = await engine.aquery("Where was the best pastel de nata?")
    texts = [node.node.get_content() for node in response.source_nodes]
    assert any("Belém" in text for text in texts)
    assert "Belém" in str(response)  # MockLLM echoes its prompt, which holds the context
    assert "airport" not in str(response)
    sync = engine.query("Where was the best pastel de nata?")
    assert [n.node.node_id for n in sync.source_nodes] == [
        n.node.node_id for n in response.source_nodes
    ]
    prompt_context = response.source_nodes[0].node.get_content(MetadataMode.LLM)
    assert "memory_id" not in prompt_context and "provenance" not in prompt_context
    # llama-index's OpenAI defaults were never resolved
    assert LlamaSettings._llm is None and LlamaSettings._embed_model is None


CLI = [sys.executable, "-m", "confidante.cli"]


def test_cli_ingest(cli_env: dict[str, str], docs: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], env=cli_env, capture_output=True, text=True, timeout=300
        )

    done = run("memory", "ingest", "--user", "u1", str(docs / "notes.md"), str(docs / "mail"))
    assert done.returncode == 0, done.stderr
    assert "remembered" in done.stdout
    again = run("memory", "ingest", "--user", "u1", str(docs / "notes.md"), "--json")
    assert again.returncode == 0, again.stderr
    result = json.loads(again.stdout)
    assert result["user"] == "u1" and result["chunks"] == len(result["ids"]) >= 1
    found = json.loads(
        run("memory", "search", "--user", "u1", "sourdough starter", "--json").stdout
    )
    assert found[0]["kind"] == "document" and "rye flour" in found[0]["text"]
    refused = run("memory", "ingest", "--user", "u1", str(docs / "photo.xyz"))
    assert refused.returncode == 1 and "no reader" in refused.stderr
    assert "Traceback" not in refused.stderr
