"""Mount a LangGraph subgraph in the agent graph.

The subgraph ``calendar`` runs before ``respond``: it fetches the user's events for the day
(from a stand-in calendar keyed by the user of the run) and adds them to the memories the
reply is written from. It shares the keys ``user_id``, ``recalled`` and ``calendar`` with the
agent's state; everything else in the graph is unchanged.

    CONFIDANTE_MODEL=scripted python examples/custom_subgraph.py

Its data (memory, checkpoints) goes to a new temporary directory, never to your own data
directory; name a folder to keep it there: ``python examples/custom_subgraph.py DATA_DIR``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any, TypedDict

from langgraph.graph import END, START, StateGraph

from confidante import Agent, Settings
from confidante.graphs.builder import GraphBuilder

CALENDARS = {"subgraph-user": ["Dentist at 9:00.", "Lunch with Marta at 13:00."]}


class CalendarState(TypedDict, total=False):
    """The keys the subgraph reads and writes (shared with the agent's state)."""

    user_id: str
    recalled: list[dict[str, Any]]
    calendar: list[str]


def fetch(state: CalendarState) -> dict[str, Any]:
    """Read today's events of the user of this run."""
    return {"calendar": CALENDARS.get(state["user_id"], [])}


def add_to_context(state: CalendarState) -> dict[str, Any]:
    """Put the events in front of the recalled memories, so the reply can use them."""
    events = [
        {"id": f"calendar-{index}", "text": f"Today's calendar: {text}", "score": 1.0}
        for index, text in enumerate(state.get("calendar", []))
    ]
    return {"recalled": [*events, *state.get("recalled", [])]}


calendar = StateGraph(CalendarState)
calendar.add_node("fetch", fetch)
calendar.add_node("add_to_context", add_to_context)
calendar.add_edge(START, "fetch")
calendar.add_edge("fetch", "add_to_context")
calendar.add_edge("add_to_context", END)

builder = (
    GraphBuilder()
    .add_state_field("calendar", list[str])
    .mount("calendar", calendar, before="respond")
)
#: The example's data directory: the first argument, else a new temporary one.
DATA_DIR = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="confidante-"))
agent = Agent(
    user_id="subgraph-user", settings=Settings(data_dir=DATA_DIR, database_url=None), graph=builder
)
result = agent.turn("When is lunch with Marta today?")
print("calendar:", agent.state()["calendar"])
print("used:", [item["text"] for item in result.used])
print("reply:", result.reply)
agent.forget_user()
agent.close()
