"""The state that flows through the agent graph, and the contract of each field.

| field        | written by          | meaning                                                   |
|--------------|---------------------|-----------------------------------------------------------|
| messages     | caller, respond     | the conversation of this session (checkpointed)           |
| user_id      | caller              | whose memory every node reads and writes                  |
| event_id     | recall              | id of the stored raw turn (provenance of what is learned) |
| queries      | recall              | the retrieval queries phi_q made from the turn            |
| recalled     | recall              | memories retrieved for this turn (phi_q + A)              |
| summary      | recall              | the offline summary of the message's task ("" if none)    |
| summary_task | recall              | which task's summary it is (``recommendation``...)        |
| safety       | recall              | the user's safety facts (allergies, diet, medications...) |
| route        | route               | ``chat`` or ``task``                                      |
| route_tool   | route               | the tool the router expects a task to need ("" for chat)  |
| plan         | plan                | ordered tool steps of a task                              |
| step         | plan, act           | index of the next plan step to run                        |
| results      | plan, act           | outcome of each executed step of the current plan         |
| completed    | recall, act         | side-effecting calls already done this turn, by signature |
| attempts     | plan                | how many plans were made for this turn                    |
| reply        | respond             | the assistant's answer                                    |
| used         | respond             | ids of the recalled memories the reply's prompt carried   |
| remembered   | remember            | memory items written this turn                            |

``completed`` is what makes a task safe to resume after a crash: ``act`` runs one
side-effecting call per graph step, and the step's checkpoint records the call's outcome
under its signature (tool name and arguments), so a resumed or replanned turn reuses the
outcome instead of calling the tool again.

``recalled``, ``results`` and ``completed`` hold typed values
(:class:`~confidante.graphs.values.RecalledItem`, :class:`~confidante.graphs.values.ToolResult`);
read them with :func:`~confidante.graphs.values.recalled_of` and its siblings, which also
accept the dicts an extension node or an older checkpoint holds.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages

from confidante.graphs.values import RecalledItem, ToolResult


class AgentState(TypedDict, total=False):
    """State of one turn of the agent graph (see the module docstring for the contract)."""

    messages: Annotated[list[AnyMessage], add_messages]
    user_id: str
    event_id: str
    queries: list[str]
    recalled: list[RecalledItem]
    summary: str
    summary_task: str
    safety: list[dict[str, Any]]
    route: str
    route_tool: str
    plan: list[dict[str, Any]]
    step: int
    results: list[ToolResult]
    completed: dict[str, ToolResult]
    attempts: int
    reply: str
    used: list[str]
    remembered: list[dict[str, Any]]


def fresh_turn() -> dict[str, Any]:
    """The per-turn fields a new turn starts from (``recall`` adds what it found)."""
    return {
        "plan": [],
        "step": 0,
        "results": [],
        "completed": {},
        "attempts": 0,
        "remembered": [],
        "used": [],
        "reply": "",
    }
