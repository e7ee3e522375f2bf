"""The nodes of the agent graph: recall, route, plan, act, check, respond, remember.

Each node is an async method of :class:`Nodes`, which holds the injected dependencies (memory,
chat model, tools). A node reads the fields of :class:`~confidante.graphs.state.AgentState` it
needs and returns only the fields it writes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langgraph.config import get_stream_writer

from confidante.errors import ConfidanteError
from confidante.graphs import prompts
from confidante.graphs.state import AgentState
from confidante.memory.extraction import learn
from confidante.memory.store import Memory

logger = logging.getLogger(__name__)

FALLBACK_REPLY = "Sorry, I could not produce an answer just now. Please try again."


@dataclass
class GraphDeps:
    """What the nodes need, injected by the builder.

    Attributes:
        memory: The personal memory.
        model: The chat model (M).
        tools: Tools available to tasks.
        recall_k: Memories retrieved per turn.
        budget_tokens: Prompt tokens allowed for memories and recent conversation.
        max_attempts: Plans tried per task before giving up.
        background_extraction: Extract facts after the turn ends instead of within it (the
            reply never waits for extraction); ``pending`` holds the running extractions.
    """

    memory: Memory
    model: BaseChatModel
    tools: list[BaseTool] = field(default_factory=list)
    recall_k: int = 6
    budget_tokens: int = 1200
    max_attempts: int = 2
    background_extraction: bool = False
    pending: set[asyncio.Task[list[dict[str, Any]]]] = field(default_factory=set)


def last_user_text(state: AgentState) -> str:
    """Return the text of the latest human message in the state."""
    for message in reversed(state.get("messages", [])):
        if isinstance(message, HumanMessage):
            return message.text
    raise ConfidanteError("the graph was invoked without a user message")


def _emit(event: dict[str, Any]) -> None:
    with contextlib.suppress(RuntimeError):  # RuntimeError: not inside a graph run
        get_stream_writer()(event)


class Nodes:
    """The graph's nodes over injected dependencies."""

    def __init__(self, deps: GraphDeps) -> None:
        self.deps = deps

    async def recall(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Store the raw turn, then retrieve the memories relevant to it (phi_q + A).

        Also fetches the user's offline chat summary, used while nothing it was built from has
        been edited or forgotten since.
        """
        user_id, text = state["user_id"], last_user_text(state)
        thread = str((config.get("configurable") or {}).get("thread_id", "default"))
        event_id = await self.deps.memory.arecord_event(user_id, "user", text, session_id=thread)
        hits = await self.deps.memory.aretrieve(user_id, text, k=self.deps.recall_k)
        recalled = [hit.model_dump(mode="json") for hit in hits]
        summary = await self.deps.memory.asummary(user_id, "chat")
        _emit({"event": "recalled", "items": recalled})
        return {
            "event_id": event_id,
            "recalled": recalled,
            "summary": summary.text if summary is not None and summary.usable else "",
            "route": "chat",
            "plan": [],
            "results": [],
            "attempts": 0,
            "remembered": [],
            "reply": "",
        }

    async def route(self, state: AgentState) -> dict[str, Any]:
        """Decide, with structured output, whether the turn is conversation or a task."""
        if not self.deps.tools:
            return {"route": "chat"}
        runnable = self.deps.model.with_structured_output(prompts.RouteDecision)
        try:
            decision = await runnable.ainvoke(
                prompts.route_messages(self.deps.tools, last_user_text(state))
            )
        except Exception as exc:  # noqa: BLE001 - any model failure: answer as chat
            logger.warning("routing failed, answering as chat: %s", type(exc).__name__)
            return {"route": "chat"}
        assert isinstance(decision, prompts.RouteDecision)
        return {"route": decision.route}

    async def plan(self, state: AgentState) -> dict[str, Any]:
        """Turn the request into ordered tool steps (replanning after failures)."""
        failures = [r for r in state.get("results", []) if not r["ok"]]
        schema = prompts.plan_schema(self.deps.tools)
        messages = prompts.plan_messages(
            self.deps.tools, last_user_text(state), state.get("recalled", []), failures
        )
        attempts = state.get("attempts", 0) + 1
        try:
            plan: Any = await self.deps.model.with_structured_output(schema).ainvoke(messages)
        except Exception as exc:  # noqa: BLE001 - any model failure goes back to the check
            failure = {"tool": "plan", "ok": False, "output": f"could not plan: {exc}"}
            return {"plan": [], "results": [failure], "attempts": attempts}
        steps = [step.model_dump(mode="json") for step in plan.steps]
        _emit({"event": "planned", "steps": steps})
        return {"plan": steps, "results": [], "attempts": attempts}

    async def act(self, state: AgentState, config: RunnableConfig) -> dict[str, Any]:
        """Run the plan's tool calls in order; a failing step is recorded, not raised."""
        if not state.get("plan"):  # planning failed: keep its failure for the check
            return {}
        tools = {tool.name: tool for tool in self.deps.tools}
        results = []
        for step in state.get("plan", []):
            name, arguments = step["tool"], step.get("arguments") or {}
            tool = tools.get(name)
            if tool is None:
                results.append({"tool": name, "ok": False, "output": f"unknown tool {name!r}"})
                continue
            try:
                output = await tool.ainvoke(arguments, config=config)
                results.append({"tool": name, "ok": True, "output": str(output)})
            except Exception as exc:  # noqa: BLE001 - a failed step goes back to the planner
                results.append(
                    {"tool": name, "ok": False, "output": f"{type(exc).__name__}: {exc}"}
                )
            _emit({"event": "tool", **results[-1]})
        return {"results": results}

    def check(self, state: AgentState) -> str:
        """Edge after ``act``: replan when a step failed and attempts remain, else respond."""
        failed = any(not result["ok"] for result in state.get("results", []))
        if failed and state.get("attempts", 0) < self.deps.max_attempts:
            return "plan"
        return "respond"

    async def respond(self, state: AgentState) -> dict[str, Any]:
        """Answer the user with the personalised prompt (phi_p then M)."""
        messages = prompts.respond_messages(
            state.get("messages", []),
            state.get("recalled", []),
            state.get("results", []),
            self.deps.budget_tokens,
            summary=state.get("summary", ""),
        )
        try:
            answer = await self.deps.model.ainvoke(messages)
            reply = answer.text.strip() or FALLBACK_REPLY
        except Exception as exc:  # noqa: BLE001 - the turn must end with a message
            logger.error("chat model failed: %s", exc)
            reply = FALLBACK_REPLY
        return {"messages": [AIMessage(reply)], "reply": reply}

    async def remember(self, state: AgentState) -> dict[str, Any]:
        """Extract facts from the user's message and write them to memory.

        A failure is recorded on the stored raw turn (``extraction=failed``), never lost.
        """
        memory, user_id, event_id = self.deps.memory, state["user_id"], state["event_id"]
        text = last_user_text(state)
        remembered: list[dict[str, Any]] = []
        if state.get("route") == "task":  # a request is not a statement about the user
            await memory.amark_event(user_id, event_id, "skipped")
        elif self.deps.background_extraction:
            task = asyncio.create_task(learn(memory, self.deps.model, user_id, event_id, text))
            self.deps.pending.add(task)
            task.add_done_callback(self.deps.pending.discard)
            _emit({"event": "remembering", "event_id": event_id})
            return {"remembered": remembered}
        else:
            remembered = await learn(memory, self.deps.model, user_id, event_id, text)
        _emit({"event": "remembered", "items": remembered})
        return {"remembered": remembered}
