"""Change the agent graph without forking it: add a state field, add and replace nodes.

- ``mood`` (a new state field) is written by a node inserted after ``recall``;
- ``route`` is replaced by a keyword router (no model call for routing);
- ``audit`` is inserted after ``respond``, with a list field whose updates are appended.

The rest of the graph (memory recall, the reply, fact extraction) keeps working.

    CONFIDANTE_MODEL=scripted python examples/custom_node.py

Its data (memory, checkpoints) goes to a new temporary directory, never to your own data
directory; name a folder to keep it there: ``python examples/custom_node.py DATA_DIR``.
"""

from __future__ import annotations

import operator
import sys
import tempfile
from pathlib import Path
from typing import Any

from confidante import Agent, Settings
from confidante.graphs.builder import GraphBuilder
from confidante.graphs.nodes import last_user_text

HAPPY, SAD = {"great", "happy", "love", "glad"}, {"sad", "tired", "awful", "bad"}


def detect_mood(state: dict[str, Any]) -> dict[str, Any]:
    """Tag the turn with the user's mood, from its words."""
    words = set(last_user_text(state).lower().replace(".", " ").replace("!", " ").split())
    mood = "happy" if words & HAPPY else "down" if words & SAD else "neutral"
    return {"mood": mood}


def keyword_route(state: dict[str, Any]) -> dict[str, Any]:
    """Route to a task only when the user asks to be reminded."""
    return {"route": "task" if "remind" in last_user_text(state).lower() else "chat"}


def audit(state: dict[str, Any]) -> dict[str, Any]:
    """Keep a one-line log of each turn in the checkpointed state."""
    return {"audit": [f"{state['mood']}: {state['reply'][:40]}"]}


builder = (
    GraphBuilder()
    .add_state_field("mood", str)
    .add_state_field("audit", list[str], reducer=operator.add)
    .add_node("mood", detect_mood, after="recall")
    .replace_node("route", keyword_route)
    .add_node("audit", audit, after="respond")
)
#: The example's data directory: the first argument, else a new temporary one.
DATA_DIR = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="confidante-"))
agent = Agent(
    user_id="node-user", settings=Settings(data_dir=DATA_DIR, database_url=None), graph=builder
)
for message in [
    "I love my new job at the bakery!",
    "My cat is called Tom.",
    "What is my cat called?",
]:
    result = agent.turn(message)
    print(f"{message!r} -> {result.reply!r}")

state = agent.state()
print("mood:", state["mood"])
print("audit:", state["audit"])
print("remembered:", [item.text for item in agent.memory.list_items("node-user")])
agent.forget_user()
agent.close()
