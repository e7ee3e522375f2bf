"""Routing without a model call: is a message conversation, or a request for a tool?

A message is a *task* when it asks the assistant to use one of its tools (add or list
reminders, recommend, suggest searches, draw a picture, forget something); anything else is
*chat* (statements, news, feelings, thanks, questions about oneself or the world, and requests
no tool can do). Whatever the route, the statements a message makes are learned (the
``remember`` node runs on both), so a wrong route never loses a fact.

A message that only states things (no question, no request, by
:func:`~confidante.memory.ingest.statements.clauses`) needs a clear margin to be a task.

:class:`Router` is a linear classifier (scikit-learn's ``LinearSVC``) over three views of
the message:
word uni- and bigrams, character n-grams and the memory's own sentence embedding. It is
fitted on the labeled messages shipped in ``routing_data/train.jsonl`` (one label per tool,
``none`` for chat); ``routing_data/test.jsonl`` is never fitted on and measures it
(``benchmarks/routing.py``). It takes a few milliseconds per message.

The classes follow the agent's tools: examples for a tool the agent lacks count as chat, and a
tool given ``routing_examples`` in its metadata (see :func:`~confidante.graphs.builder.as_tool`)
becomes a class of its own. The embeddings of the training set are kept on disk per
embedder (``<cache_dir>/routing``), so only the first process pays for them, and a process
fits once per set of tools.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from confidante.memory.embeddings.text import Embedder
from confidante.memory.ingest.statements import clauses

logger = logging.getLogger(__name__)

#: The shipped embeddings of the training set (see :func:`shipped_vectors`).
SHIPPED = "routing_data/train.vectors.npz"
#: The label of a message that is conversation.
CHAT = "none"
#: How much the embedding counts against the word features.
EMBEDDING_WEIGHT = 2.0
#: How much more a message that only states things must score for a tool than for chat.
STATEMENT_MARGIN = 0.5
#: Inverse regularisation of the linear classifier.
STRENGTH = 1.0


@dataclass(frozen=True)
class Example:
    """A labeled message: the tool it asks for, or ``none``."""

    text: str
    label: str
    category: str = ""
    set: str = ""


def load_examples(name: str) -> list[Example]:
    """Load the shipped examples ``train`` or ``test``."""
    data = resources.files("confidante.graphs").joinpath(f"routing_data/{name}.jsonl")
    lines = data.read_text(encoding="utf-8").splitlines()
    return [Example(**json.loads(line)) for line in lines if line.strip()]


def tool_examples(tool: Any) -> list[str]:
    """The routing examples a tool carries in ``metadata["routing_examples"]``."""
    examples = (getattr(tool, "metadata", None) or {}).get("routing_examples") or []
    return [str(text) for text in examples if str(text).strip()]


#: Training-set embeddings and fitted classifiers, shared by the routers of a process.
_VECTORS: dict[str, np.ndarray[Any, Any]] = {}
_FITTED: dict[tuple[str, ...], Any] = {}
_LOCK = threading.Lock()


def texts_digest(embedder_name: str, texts: Sequence[str]) -> str:
    """The key of a set of training embeddings: the embedder and the texts."""
    return hashlib.sha256(json.dumps([embedder_name, *texts]).encode("utf-8")).hexdigest()[:24]


def shipped_vectors(digest: str) -> np.ndarray[Any, Any] | None:
    """The training set's embeddings shipped with the package, if they are these ones.

    ``routing_data/train.vectors.npz`` holds them for the default embedder (float16), with
    the digest of the texts they embed; ``benchmarks/routing.py --ship`` writes it.
    """
    data = resources.files("confidante.graphs").joinpath(SHIPPED)
    if not data.is_file():
        return None
    with data.open("rb") as handle, np.load(handle, allow_pickle=False) as stored:
        if str(stored["digest"]) != digest:
            return None
        return np.asarray(stored["vectors"], dtype=np.float32)


def ship_vectors(embedder: Embedder, path: Path) -> int:
    """Write the training set's embeddings by ``embedder`` to ``path`` (see SHIPPED)."""
    texts = [example.text for example in load_examples("train")]
    vectors = np.asarray(embedder.embed_documents(texts), dtype=np.float16)
    np.savez_compressed(path, digest=texts_digest(embedder.name, texts), vectors=vectors)
    return len(texts)


class _EmbeddingCache:
    """Training-set embeddings: in the process, and on disk (one file per embedder and texts)."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder

    def vectors(self, embedder: Embedder, texts: Sequence[str]) -> np.ndarray[Any, Any]:
        digest = texts_digest(embedder.name, texts)
        if digest not in _VECTORS:
            _VECTORS[digest] = self._load_or_embed(digest, embedder, texts)
        return _VECTORS[digest]

    def _load_or_embed(
        self, digest: str, embedder: Embedder, texts: Sequence[str]
    ) -> np.ndarray[Any, Any]:
        shipped = shipped_vectors(digest)
        if shipped is not None:
            return shipped
        path = self.folder / f"{digest}.npy" if self.folder else None
        if path is not None and path.exists():
            try:
                cached = np.asarray(np.load(path, allow_pickle=False), dtype=np.float32)
                if cached.shape[0] == len(texts):
                    return cached
            except (OSError, ValueError):
                logger.warning("ignoring an unreadable routing cache file %s", path)
        vectors = np.asarray(embedder.embed_documents(list(texts)), dtype=np.float32)
        if path is not None:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                tmp = path.with_suffix(".tmp.npy")
                np.save(tmp, vectors, allow_pickle=False)
                tmp.replace(path)
            except OSError as exc:
                logger.warning("could not cache the routing embeddings: %s", exc)
        return vectors


class Router:
    """Decides chat or task for a message; see the module docstring.

    Args:
        embedder: The memory's text embedder.
        cache_dir: Where to keep the training set's embeddings (None: no disk cache).
        examples: The training examples (default: the shipped ``train`` set).
    """

    def __init__(
        self,
        embedder: Embedder,
        cache_dir: Path | None = None,
        examples: Sequence[Example] | None = None,
    ) -> None:
        self.embedder = embedder
        self.examples = list(examples) if examples is not None else load_examples("train")
        self._cache = _EmbeddingCache(cache_dir / "routing" if cache_dir else None)
        self._by_tools: dict[tuple[str, ...], Any] = {}

    def _training(self, tools: Sequence[Any]) -> tuple[list[str], list[str], int]:
        """Texts and labels to fit on, and how many of them are the shipped examples."""
        names = {tool.name for tool in tools}
        texts = [example.text for example in self.examples]
        labels = [ex.label if ex.label in names else CHAT for ex in self.examples]
        for tool in tools:
            for text in tool_examples(tool):
                texts.append(text)
                labels.append(tool.name)
        return texts, labels, len(self.examples)

    def _model(self, tools: Sequence[Any]) -> Any:
        signature = tuple(f"{t.name}:{len(tool_examples(t))}" for t in tools)
        if signature not in self._by_tools:
            self._by_tools[signature] = self._shared_model(tools)
        return self._by_tools[signature]

    def _shared_model(self, tools: Sequence[Any]) -> Any:
        texts, labels, shipped = self._training(tools)
        digest = hashlib.sha256(
            json.dumps([self.embedder.name, texts, labels]).encode()
        ).hexdigest()
        key = (digest,)
        with _LOCK:
            if key not in _FITTED:
                _FITTED[key] = self._fit(texts, labels, shipped)
            return _FITTED[key]

    def _fit(self, texts: list[str], labels: list[str], shipped: int) -> Any:
        from scipy.sparse import csr_matrix, hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        words = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)
        # the examples' vectors are shipped or cached; only the tools' own are embedded here
        vectors = self._cache.vectors(self.embedder, texts[:shipped])
        if len(texts) > shipped:
            extra = self._cache.vectors(self.embedder, texts[shipped:])
            vectors = np.vstack([vectors, extra])

        def features(batch: Sequence[str], dense: np.ndarray[Any, Any]) -> Any:
            return hstack(
                [
                    words.transform(batch),
                    chars.transform(batch),
                    csr_matrix(dense * EMBEDDING_WEIGHT),
                ]
            ).tocsr()

        words.fit(texts)
        chars.fit(texts)
        if len(set(labels)) < 2:
            return (features, None, labels[0] if labels else CHAT)
        classifier = LinearSVC(C=STRENGTH)
        classifier.fit(features(texts, vectors), labels)
        return (features, classifier, None)

    def scores(self, text: str, tools: Sequence[Any]) -> dict[str, float]:
        """The classifier's score of each label (``none`` and the tools') for one message."""
        features, classifier, only = self._model(tools)
        if classifier is None:
            return {only: 1.0}
        vector = np.asarray(self.embedder.embed_documents([text]), dtype=np.float32)
        raw = np.atleast_1d(classifier.decision_function(features([text], vector))[0])
        classes = [str(label) for label in classifier.classes_]
        if len(classes) == 2:  # one score: positive for the second class
            return {classes[0]: float(-raw[0]), classes[1]: float(raw[0])}
        return {label: float(score) for label, score in zip(classes, raw, strict=True)}

    def label(self, text: str, tools: Sequence[Any]) -> str:
        """The tool the message asks for, or ``none``.

        A message that only states things (no question, no request: "drew a picture of my
        cat last night") asks for a tool only when the classifier is clearly sure
        (:data:`STATEMENT_MARGIN`); news told with a tool's words is conversation.
        """
        scores = self.scores(text, tools)
        best = max(scores, key=lambda label: scores[label])
        if best == CHAT or CHAT not in scores:
            return best
        asks = any(kind != "statement" for _, kind in clauses(text))
        if not asks and scores[best] - scores[CHAT] < STATEMENT_MARGIN:
            return CHAT
        return best

    def route(self, text: str, tools: Sequence[Any]) -> str:
        """``task`` when the message asks for one of ``tools``, else ``chat``."""
        return "chat" if self.label(text, tools) == CHAT else "task"

    def fit_for(self, tools: Sequence[Any]) -> None:
        """Fit now for these tools (otherwise the first message pays for it)."""
        self._model(tools)
