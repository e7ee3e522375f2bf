"""A LangGraph app gets a personal memory through LangGraph's own store API.

python examples/langgraph_store.py [DATABASE_PATH]

The namespace's first label is the user: ("ana", "memories") lives in Ana's memory, which
the confidante assistant, `confidante memory list` and exports all see.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import TypedDict

from langgraph.config import get_store
from langgraph.graph import END, START, StateGraph
from langgraph.store.base import BaseStore

from confidante import Memory
from confidante.integrations.langgraph_store import ConfidanteStore


class State(TypedDict):
    user: str
    message: str
    recalled: list[str]


def remember(state: State) -> dict[str, object]:
    """Store what the user said (a real app would extract facts with a model first)."""
    store = get_store()
    namespace = (state["user"], "memories")
    key = f"fact-{len(store.search(namespace, limit=1000))}"
    store.put(namespace, key, {"text": state["message"]})
    return {}


def recall(state: State, *, store: BaseStore) -> dict[str, object]:
    """Find what is relevant to the message in this user's namespace only."""
    hits = store.search((state["user"], "memories"), query=state["message"], limit=2)
    return {"recalled": [f"{hit.score:.2f} {hit.value['text']}" for hit in hits]}


path = sys.argv[1] if len(sys.argv) > 1 else str(Path(tempfile.mkdtemp()) / "memory.db")
memory = Memory.open(path)
store = ConfidanteStore(memory, ttl={"refresh_on_read": True})

builder = StateGraph(State)
builder.add_node("remember", remember)
builder.add_node("recall", recall)
builder.add_edge(START, "recall")  # recall what was known before this message, then store it
builder.add_edge("recall", "remember")
builder.add_edge("remember", END)
graph = builder.compile(store=store)

for user, message in [
    ("ana", "I live in Lisbon and I love the sea."),
    ("ana", "My dog Biscuit is a beagle."),
    ("bob", "I live in Oslo and I hate the cold."),
    ("ana", "Where could I take my dog to the sea?"),
]:
    result = graph.invoke({"user": user, "message": message, "recalled": []})
    print(f"{user}: {message}\n  recalled: {result['recalled']}")

# A short-lived note: it expires 30 minutes after its last read or write.
store.put(("ana", "session"), "mood", {"text": "Ana is tired today."}, ttl=30)
print("namespaces:", store.list_namespaces())
print("ana's memory:", [hit.text for hit in memory.list_items("ana")])
print("bob's memory:", [hit.text for hit in memory.list_items("bob")])
memory.close()
