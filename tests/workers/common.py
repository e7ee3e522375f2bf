"""Shared pieces of the reliability worker scripts (run as subprocesses, not collected).

The workers test the database layer under concurrency and crashes, not the embedder, so by
default they embed with :class:`HashEmbedder` (deterministic, no model load); ``--embedder
settings`` uses the embedder the ``CONFIDANTE_*`` settings name instead.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

import numpy as np

from confidante.memory.embeddings.text import Embedder, build_embedder
from confidante.memory.store import Memory
from confidante.settings import Settings


class HashEmbedder:
    """A deterministic embedder: a unit vector seeded by each text's SHA-256."""

    name = "test/hash-64"
    dim = 64

    def _one(self, text: str) -> Any:
        seed = int.from_bytes(hashlib.sha256(text.encode("utf-8", "replace")).digest()[:8], "big")
        vector = np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        return vector / np.linalg.norm(vector)

    def embed_documents(self, texts: Sequence[str]) -> Any:
        """Embed stored texts."""
        return np.asarray([self._one(t) for t in texts], dtype=np.float32).reshape(-1, self.dim)

    def embed_query(self, text: str) -> Any:
        """Embed a query."""
        return self._one(text)


def owner_tag(user_id: str) -> str:
    """Return the marker every worker text starts with: the user the text belongs to."""
    return f"owner:{user_id} "


def open_memory(url: str, embedder: str) -> Memory:
    """Open the memory at ``url`` with the hash embedder or the settings' one."""
    chosen: Embedder = HashEmbedder() if embedder == "hash" else build_embedder(Settings())
    memory = Memory.open(url, embedder=chosen)
    memory.near_duplicate_threshold = None  # every distinct text is its own item
    return memory
