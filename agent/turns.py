"""What a turn returns: its result, and the tool calls that wait for the user's approval.

These are the values :class:`~confidante.agent.Agent` hands back (``TurnResult`` keeps one JSON
shape across the Python API, the CLI and the HTTP server); they are importable from
``confidante.agent`` too.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, Field

from confidante.graphs.values import plain_state
from confidante.usage import Usage


class Approval(BaseModel):
    """A side-effecting tool call waiting for the user's decision.

    Attributes:
        id: The pause's id (LangGraph's interrupt id).
        tool: The tool the graph wants to call.
        args: The arguments it would call it with.
        session_id: The conversation thread that is paused.
    """

    id: str
    tool: str
    args: dict[str, Any] = Field(default_factory=dict)
    session_id: str


class TurnResult(BaseModel):
    """What one turn did.

    Attributes:
        reply: The assistant's answer (while paused: what it waits for).
        recalled: Memories retrieved for the turn (id, text, score...).
        used: The recalled memories the reply relied on.
        queries: The retrieval queries made from the turn (phi_q).
        remembered: Memory items written by the turn.
        route: ``chat`` or ``task``.
        plan: Tool steps of a task.
        results: Outcome of each tool step.
        approvals: Tool calls waiting for approval; the turn is paused until
            :meth:`Agent.aresume` (empty when the turn finished).
        withheld: The kinds of secret (``card_number``, ``password``...) the message held:
            removed before anything was stored, or the reason it was not kept at all (see
            :mod:`confidante.memory.secrets`).
        usage: The turn's model calls, tokens and seconds, in total and per kind (``reply``,
            ``routing``, ``planning``, ``extraction``...); see :mod:`confidante.usage`. Only
            calls that ended within the turn count (not a background extraction).
    """

    reply: str
    recalled: list[dict[str, Any]] = Field(default_factory=list)
    used: list[dict[str, Any]] = Field(default_factory=list)
    queries: list[str] = Field(default_factory=list)
    remembered: list[dict[str, Any]] = Field(default_factory=list)
    route: str = "chat"
    plan: list[dict[str, Any]] = Field(default_factory=list)
    results: list[dict[str, Any]] = Field(default_factory=list)
    approvals: list[Approval] = Field(default_factory=list)
    withheld: list[str] = Field(default_factory=list)
    usage: Usage = Field(default_factory=Usage)

    @classmethod
    def of(cls, state: dict[str, Any], approvals: list[Approval]) -> TurnResult:
        """Build the result from the graph's state values (as dicts) and pending approvals."""
        state = plain_state(state)
        recalled = state.get("recalled", [])
        used_ids = set(state.get("used", []))
        reply = state.get("reply", "") if not approvals else waiting_message(approvals)
        return cls(
            reply=reply,
            recalled=recalled,
            used=[item for item in recalled if item["id"] in used_ids],
            queries=state.get("queries", []),
            remembered=state.get("remembered", []),
            route=state.get("route", "chat"),
            plan=state.get("plan", []),
            results=state.get("results", []),
            approvals=approvals,
        )


def waiting_message(approvals: list[Approval]) -> str:
    """Say which calls wait for approval."""
    calls = "; ".join(f"{a.tool}({json.dumps(a.args, default=str)})" for a in approvals)
    return f"Waiting for your approval to run {calls}."


def as_approval(pause: Any, session_id: str) -> Approval:
    """Turn a LangGraph ``Interrupt`` raised by ``act`` into an :class:`Approval`."""
    value = pause.value if isinstance(pause.value, dict) else {"value": pause.value}
    return Approval(
        id=str(pause.id),
        tool=str(value.get("tool", "")),
        args=dict(value.get("args") or {}),
        session_id=session_id,
    )
