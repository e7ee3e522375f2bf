"""Personal memory: remember, retrieve and edit a user's concepts, text and images.

The public face of the memory::

    from confidante.memory import Memory, MemoryItem

Everything else lives in sub-packages grouped by job: ``storage`` (database, tables, writes),
``index`` (vector indexes), ``retrieval`` (candidates and ranking), ``ingest`` (turns, episodes,
documents, learned facts), ``subjects``, ``summaries``, ``portability`` (export and import) and
``embeddings``. Names are imported on first use, so importing this package stays cheap.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from confidante._lazy import lazy_getattr

if TYPE_CHECKING:
    from confidante.memory.embeddings.text import Embedder, build_embedder
    from confidante.memory.index.base import VectorIndex
    from confidante.memory.index.embedded import EmbeddedVectorIndex
    from confidante.memory.index.pgvector import PgVectorIndex
    from confidante.memory.index.pgvector_hnsw import set_ann_min_vectors
    from confidante.memory.items import MemoryHit, MemoryItem
    from confidante.memory.portability.format import JSON_SCHEMA
    from confidante.memory.scopes import GLOBAL_OWNER, persona_owner
    from confidante.memory.storage.database import Database
    from confidante.memory.store import Memory

_LAZY = {
    "Database": "confidante.memory.storage.database",
    "EmbeddedVectorIndex": "confidante.memory.index.embedded",
    "Embedder": "confidante.memory.embeddings.text",
    "GLOBAL_OWNER": "confidante.memory.scopes",
    "JSON_SCHEMA": "confidante.memory.portability.format",
    "Memory": "confidante.memory.store",
    "MemoryHit": "confidante.memory.items",
    "MemoryItem": "confidante.memory.items",
    "PgVectorIndex": "confidante.memory.index.pgvector",
    "VectorIndex": "confidante.memory.index.base",
    "build_embedder": "confidante.memory.embeddings.text",
    "persona_owner": "confidante.memory.scopes",
    "set_ann_min_vectors": "confidante.memory.index.pgvector_hnsw",
}

__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = [
    "GLOBAL_OWNER",
    "JSON_SCHEMA",
    "Database",
    "EmbeddedVectorIndex",
    "Embedder",
    "Memory",
    "MemoryHit",
    "MemoryItem",
    "PgVectorIndex",
    "VectorIndex",
    "build_embedder",
    "persona_owner",
    "set_ann_min_vectors",
]
