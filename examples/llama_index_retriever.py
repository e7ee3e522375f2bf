"""llama-index on a personal memory: any vector store as its index, the memory as a retriever.

python examples/llama_index_retriever.py [DATABASE_PATH]

The vector index here is llama-index's in-process SimpleVectorStore; swap in any other store,
e.g. PostgreSQL with pgvector (pip install 'confidante[integrations]')::

    from llama_index.vector_stores.postgres import PGVectorStore
    vectors = PGVectorStore.from_params(connection_string="postgresql+psycopg://...",
                                        async_connection_string="postgresql+psycopg://...",
                                        table_name="confidante", embed_dim=embedder.dim)
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.vector_stores import SimpleVectorStore

from confidante import Memory
from confidante.integrations.llama_vector_index import LlamaIndexVectorIndex
from confidante.memory.embeddings.text import build_embedder
from confidante.memory.llama import MemoryRetriever
from confidante.memory.storage.database import Database
from confidante.settings import Settings

path = sys.argv[1] if len(sys.argv) > 1 else str(Path(tempfile.mkdtemp()) / "memory.db")
embedder = build_embedder(Settings())
vectors = SimpleVectorStore()
memory = Memory(Database.open(path), embedder, index=LlamaIndexVectorIndex(vectors, embedder.name))

for fact in [
    "Ana runs a small bakery in Porto.",
    "Ana's sourdough starter is called Bubbles.",
    "Ana wants to visit Kyoto in the spring.",
    "Ana is learning Japanese on weekday evenings.",
]:
    memory.remember("ana", fact)
memory.remember("bob", "Bob is planning a trip to Kyoto in autumn.")

# The memory is a llama-index retriever: use it as-is or inside any query engine.
retriever = MemoryRetriever(memory, "ana", k=2)
for node in retriever.retrieve("What is she preparing for her trip to Japan?"):
    print(f"{node.score:.2f}  {node.node.get_content()}")

engine = RetrieverQueryEngine.from_args(retriever, llm=MockLLM(max_tokens=8))
response = engine.query("What is the starter called?")
print("sources:", [node.node.get_content() for node in response.source_nodes])
print("vectors in the llama-index store:", len(vectors.data.embedding_dict))
memory.close()
