"""The state that flows through the agent graph, and the contract of each field.

| field        | written by          | meaning                                                   |
|--------------|---------------------|-----------------------------------------------------------|
| messages     | caller, respond     | the conversation of this session (checkpointed)           |
| user_id      | caller              | whose memory every node reads and writes                  |
| event_id     | recall              | id of the stored raw turn (provenance of what is learned) |
| recalled     | recall              | memories retrieved for this turn (phi_q + A)              |
| summary      | recall              | the offline ``chat`` summary ("" when none is usable)     |
| route        | route               | ``chat`` or ``task``                                      |
| plan         | plan                | ordered tool steps of a task                              |
| results      | act                 | outcome of each executed step                             |
| attempts     | plan                | how many plans were made for this turn                    |
| reply        | respond             | the assistant's answer                                    |
| remembered   | remember            | memory items written this turn                            |
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from langchain_core.messages import AnyMessage
from langgraph.graph.message import add_messages


class AgentState(TypedDict, total=False):
    """State of one turn of the agent graph (see the module docstring for the contract)."""

    messages: Annotated[list[AnyMessage], add_messages]
    user_id: str
    event_id: str
    recalled: list[dict[str, Any]]
    summary: str
    route: str
    plan: list[dict[str, Any]]
    results: list[dict[str, Any]]
    attempts: int
    reply: str
    remembered: list[dict[str, Any]]
