"""The user's decisions on side-effecting tool calls, remembered as memories.

An approved, edited or rejected call says what the user wants (an accepted recommendation, a
refused booking); the ``remember`` node (:mod:`confidante.graphs.nodes`) writes each decision
of a task as an item of kind ``tool_outcome`` that later turns and summaries can use.
"""

from __future__ import annotations

from typing import Any

from confidante.graphs.state import AgentState
from confidante.graphs.values import results_of
from confidante.memory.items import TOOL_OUTCOME_KIND
from confidante.memory.store import Memory

_VERBS = {"approved": "approved", "edited": "approved, with changes,", "rejected": "declined"}


def outcome_text(tool: str, arguments: dict[str, Any], decision: str) -> str:
    """Say a decision on a tool call in plain words: "The user declined add reminder (text: …)."."""
    said = "; ".join(
        f"{name.replace('_', ' ')}: {value}"
        for name, value in sorted(arguments.items())
        if isinstance(value, str | int | float | bool) and str(value).strip()
    )
    verb = _VERBS.get(decision, decision)
    return f"The user {verb} {tool.replace('_', ' ')}" + (f" ({said})." if said else ".")


async def remember_decisions(memory: Memory, state: AgentState) -> list[dict[str, Any]]:
    """Write the user's decisions on the turn's side-effecting calls (kind ``tool_outcome``).

    Args:
        memory: The memory to write to.
        state: The turn's state after its task (``plan``, ``results``, ``event_id``).

    Returns:
        The remembered items as ``{"id", "key", "text"}``, one per decision.
    """
    remembered = []
    plan = state.get("plan", [])
    for index, result in enumerate(results_of(state.get("results"))):
        decision = result.decision
        if decision is None:
            continue
        args = result.arguments or (plan[index].get("arguments") if index < len(plan) else {})
        text = outcome_text(result.tool, args or {}, decision)
        item_id = await memory.aremember(
            state["user_id"],
            text,
            kind=TOOL_OUTCOME_KIND,
            provenance=[state["event_id"]],
            attributes={"tool": result.tool, "arguments": args, "decision": decision},
        )
        remembered.append({"id": item_id, "key": None, "text": text})
    return remembered
