"""The router: chat or task without a model call, on the real default embedder."""

from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from confidante.graphs.router import (
    CHAT,
    Router,
    load_examples,
    shipped_vectors,
    texts_digest,
    tool_examples,
)
from confidante.memory.embeddings.text import Embedder, build_embedder
from confidante.settings import Settings

DEFAULT_TOOLS = (
    "add_reminder",
    "list_reminders",
    "recommend",
    "suggest_searches",
    "generate_image",
    "forget_memory",
    "search_memory",
)
MEMORY_TOOLS = ("add_reminder", "list_reminders", "search_memory", "forget_memory")
BOOKING_EXAMPLES = [
    "book a table for two tonight",
    "reserve a table at an italian place for 7pm",
    "can you get us a table for four on friday",
    "make a dinner reservation for 6 people",
    "book me a table at the sushi place",
    "reserve dinner for two at 8",
    "I need a restaurant booking for saturday lunch",
    "get me a reservation at Luigi's for tomorrow",
]


def tool(name: str, examples: Sequence[str] = ()) -> Any:
    """Any object with ``name`` and ``metadata`` is a tool to the router."""
    return SimpleNamespace(name=name, metadata={"routing_examples": list(examples)})


class BatchedEmbedder:
    """The real embedder, with texts embedded ahead in one batch (same name: same vectors).

    The training texts take their shipped vectors, so a router with extra examples (a tool's
    ``routing_examples``) embeds only those instead of the whole training set again.
    """

    def __init__(self, inner: Embedder, texts: Sequence[str] = ()) -> None:
        self.inner, self.name, self.dim = inner, inner.name, inner.dim
        train = [example.text for example in load_examples("train")]
        shipped = shipped_vectors(texts_digest(inner.name, train))
        assert shipped is not None, "the shipped training vectors are the default embedder's"
        self.known = dict(zip(train, shipped, strict=True))
        if texts:
            vectors = np.asarray(inner.embed_documents(list(texts)), dtype=np.float32)
            self.known.update(zip(texts, vectors, strict=True))

    def embed_documents(self, texts: Sequence[str]) -> Any:
        missing = [text for text in dict.fromkeys(texts) if text not in self.known]
        if missing:
            vectors = np.asarray(self.inner.embed_documents(missing), dtype=np.float32)
            self.known.update(zip(missing, vectors, strict=True))
        return np.stack([self.known[text] for text in texts])

    def embed_query(self, text: str) -> Any:
        return self.inner.embed_query(text)


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return build_embedder(Settings(_env_file=None, database_url=None))  # type: ignore[call-arg]


@pytest.fixture(scope="module")
def router(embedder: Embedder) -> Router:
    return Router(BatchedEmbedder(embedder))


def test_route_accuracy_on_the_shipped_test_set(embedder: Embedder) -> None:
    trained = {example.text.strip().lower() for example in load_examples("train")}
    tests = [e for e in load_examples("test") if e.text.strip().lower() not in trained]
    assert len(tests) > 700 and {e.label for e in tests} >= {CHAT, *DEFAULT_TOOLS[:6]}
    router = Router(BatchedEmbedder(embedder, [e.text for e in tests]))
    tools = [tool(name) for name in DEFAULT_TOOLS]
    right = [(router.route(e.text, tools) == "chat") == (e.label == CHAT) for e in tests]
    accuracy = sum(right) / len(right)
    assert accuracy >= 0.96, f"route accuracy {accuracy:.4f} on {len(tests)} messages"


def test_examples_of_a_missing_tool_count_as_chat(router: Router) -> None:
    everything = [tool(name) for name in DEFAULT_TOOLS]
    memory_only = [tool(name) for name in MEMORY_TOOLS]
    assert router.route("recommend me a thriller", everything) == "task"
    assert router.label("recommend me a thriller", everything) == "recommend"
    assert router.route("recommend me a thriller", memory_only) == "chat"
    assert router.label("remind me to buy milk tomorrow", memory_only) == "add_reminder"
    assert router.route("what are my reminders?", memory_only) == "task"


def test_a_tool_with_routing_examples_becomes_a_class(router: Router) -> None:
    booking = tool("book_table", BOOKING_EXAMPLES)
    assert tool_examples(booking) == BOOKING_EXAMPLES
    tools = [*(tool(name) for name in MEMORY_TOOLS), booking]
    assert router.route("book us a table for four at 8", tools) == "task"
    assert router.label("book us a table for four at 8", tools) == "book_table"
    assert router.route("I booked a table last week", tools) == "chat"
    without = [tool(name) for name in MEMORY_TOOLS]
    assert router.route("book us a table for four at 8", without) == "chat"
    scores = router.scores("book us a table for four at 8", tools)
    assert set(scores) == {CHAT, "book_table", *MEMORY_TOOLS} - {"search_memory"}
    assert max(scores, key=scores.__getitem__) == "book_table"


def test_tools_without_any_examples_leave_only_chat(router: Router) -> None:
    only = [tool("search_memory"), SimpleNamespace(name="weather", metadata=None)]
    assert router.scores("remind me to call mom", only) == {CHAT: 1.0}
    assert router.route("remind me to call mom", only) == "chat"
