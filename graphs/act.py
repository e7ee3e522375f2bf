"""The ``act`` node: run a plan's tool calls, pausing for approval before side effects.

A plan is run in graph steps, each one checkpointed:

- a run of consecutive read-only steps is one graph step, its calls run concurrently (they
  have no effect, so running them again after a crash is harmless);
- a side-effecting step (a tool :func:`~confidante.tools.factory.has_side_effect` is true
  for) is a graph step of its own. It first pauses the graph with LangGraph's
  :func:`~langgraph.types.interrupt`, carrying ``{"tool", "args"}``; the caller resumes with
  ``Command(resume=decision)`` where the decision is ``"approve"``, ``"reject"`` or
  ``{"decision": "edit", "args": {...}}`` (read as an
  :class:`~confidante.graphs.values.ApprovalDecision`). Its outcome is recorded in
  ``completed`` under the call's signature, in the same checkpoint as the step's result, so
  neither a resumed nor a replanned turn calls it twice. With a
  :class:`~confidante.graphs.tool_journal.ToolJournal`, the call is also journaled in the
  memory database before and after it runs, so a process that died after the call but
  before that checkpoint neither repeats it nor loses its result.

A failing call is recorded as a failed result (the planner sees it), never raised.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any

from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.types import interrupt

from confidante.graphs.events import emit
from confidante.graphs.state import AgentState
from confidante.graphs.tool_journal import INTERRUPTED_OUTPUT, ToolJournal, call_key
from confidante.graphs.values import ApprovalDecision, ToolResult, completed_of, results_of
from confidante.tools.factory import has_side_effect

__all__ = ["act", "after_act", "call_tool", "has_side_effect", "next_batch", "signature"]


def signature(tool: str, args: Mapping[str, Any]) -> str:
    """Return the identity of one call: the tool's name and its arguments as sorted JSON."""
    return f"{tool}:{json.dumps(dict(args), sort_keys=True, default=str)}"


def next_batch(plan: Sequence[dict[str, Any]], start: int, tools: Mapping[str, BaseTool]) -> int:
    """Return the end of the graph step starting at ``start`` (see the module docstring)."""
    if start < len(plan) and has_side_effect(tools.get(plan[start]["tool"])):
        return start + 1
    end = start
    while end < len(plan) and not has_side_effect(tools.get(plan[end]["tool"])):
        end += 1
    return end


async def call_tool(
    tools: Mapping[str, BaseTool], name: str, args: dict[str, Any], config: RunnableConfig
) -> ToolResult:
    """Run one tool call and return its result."""
    tool = tools.get(name)
    if tool is None:
        return ToolResult(tool=name, ok=False, output=f"unknown tool {name!r}")
    try:
        output = await tool.ainvoke(args, config=config)
    except Exception as exc:  # noqa: BLE001 - a failed step goes back to the planner
        return ToolResult(tool=name, ok=False, output=f"{type(exc).__name__}: {exc}")
    return ToolResult(tool=name, ok=True, output=str(output))


async def _journaled_call(
    tools: Mapping[str, BaseTool],
    name: str,
    args: dict[str, Any],
    config: RunnableConfig,
    journal: ToolJournal | None,
    turn: tuple[str, str],
) -> ToolResult:
    """Call a side-effecting tool once per turn, even across a lost checkpoint."""
    if journal is None:
        return await call_tool(tools, name, args, config)
    user_id, turn_id = turn
    thread = str((config.get("configurable") or {}).get("thread_id", ""))
    key = call_key(user_id, thread, turn_id, name, args)
    entry = await journal.aclaim(user_id, key, name)
    if entry is not None and entry.status == "done" and entry.result is not None:
        return ToolResult.model_validate(entry.result)
    if entry is not None:  # started, never finished: the process died during the call
        return ToolResult(tool=name, ok=False, output=INTERRUPTED_OUTPUT)
    result = await call_tool(tools, name, args, config)
    await journal.afinish(user_id, key, result.wire())
    return result


async def _side_effect(
    tools: Mapping[str, BaseTool],
    step: dict[str, Any],
    completed: dict[str, ToolResult],
    config: RunnableConfig,
    journal: ToolJournal | None = None,
    turn: tuple[str, str] = ("", ""),
) -> ToolResult:
    name, args = step["tool"], dict(step.get("arguments") or {})
    done = completed.get(signature(name, args))
    if done is not None:  # already run this turn (before a crash, or by an earlier plan)
        return done
    decision = ApprovalDecision.parse(interrupt({"tool": name, "args": args}))
    if decision.decision == "reject":
        result = ToolResult(
            tool=name, ok=False, output="the user rejected this call", decision="rejected"
        )
    else:
        call_args = dict(decision.args or {}) if decision.decision == "edit" else args
        done = completed.get(signature(name, call_args))
        outcome = done or await _journaled_call(tools, name, call_args, config, journal, turn)
        if decision.decision == "edit":
            result = outcome.model_copy(update={"decision": "edited", "arguments": call_args})
        else:
            result = outcome.model_copy(update={"decision": "approved"})
        completed[signature(name, call_args)] = result
    completed[signature(name, args)] = result
    return result


async def act(
    tools: Sequence[BaseTool],
    state: AgentState,
    config: RunnableConfig,
    journal: ToolJournal | None = None,
) -> dict[str, Any]:
    """Run the next graph step of the plan and record its results (see the module docstring).

    Args:
        tools: The graph's tools.
        state: The turn's state (its plan, step and completed calls).
        config: The run's config (thread and user).
        journal: Where side-effecting calls are journaled around the call (optional).
    """
    by_name = {tool.name: tool for tool in tools}
    plan, start = state.get("plan", []), state.get("step", 0)
    end = next_batch(plan, start, by_name)
    completed = completed_of(state.get("completed"))
    if end == start + 1 and has_side_effect(by_name.get(plan[start]["tool"])):
        turn = (state["user_id"], state.get("event_id") or "")
        if not turn[1]:  # no stored turn to tie the call to (a custom ``recall``): no journal
            journal = None
        new = [await _side_effect(by_name, plan[start], completed, config, journal, turn)]
    else:
        new = list(
            await asyncio.gather(
                *(
                    call_tool(by_name, s["tool"], dict(s.get("arguments") or {}), config)
                    for s in plan[start:end]
                )
            )
        )
    for result in new:
        emit({"event": "tool", **result.wire()})
    results = [*results_of(state.get("results")), *new]
    return {"results": results, "step": end, "completed": completed}


def after_act(state: AgentState, max_attempts: int) -> str:
    """Edge after ``act``: the next step, a new plan after a failure, or the reply."""
    if state.get("step", 0) < len(state.get("plan", [])):
        return "act"
    failed = any(
        not result.ok and result.decision != "rejected"
        for result in results_of(state.get("results"))
    )
    if failed and state.get("attempts", 0) < max_attempts:
        return "plan"
    return "respond"
