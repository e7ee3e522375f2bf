"""The extension API: tools, nodes before/after, replaced nodes, subgraphs, state fields."""

from __future__ import annotations

import json
import operator
from typing import Any, TypedDict

import pytest
from langchain_core.tools import tool
from langgraph.graph import END, START, StateGraph
from langgraph.types import interrupt

from confidante import Agent, ConfigurationError
from confidante.graphs.builder import GraphBuilder, as_tool
from confidante.graphs.nodes import GraphDeps
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings


def order_of(agent: Agent, text: str) -> list[str]:
    seen: list[str] = []

    async def run() -> None:
        async for kind, data in agent.astream(text):
            if kind == "updates":
                seen.extend(data)

    from confidante._sync import run_sync

    run_sync(run())
    return seen


def test_nodes_run_before_and_after_named_nodes(settings: Settings) -> None:
    def tag(name: str) -> Any:
        def node(state: dict[str, Any]) -> dict[str, Any]:
            return {"trail": [name]}

        return node

    builder = (
        GraphBuilder()
        .add_state_field("trail", list[str], reducer=operator.add)
        .add_node("after_recall", tag("after_recall"), after="recall")
        .add_node("before_respond", tag("before_respond"), before="respond")
        .add_node("before_act", tag("before_act"), before="act")
    )
    agent = Agent(user_id="ana", settings=settings, graph=builder)
    order = order_of(agent, "My dog is called Biscuit.")
    assert order[:4] == ["recall", "after_recall", "route", "before_respond"]
    assert set(order[4:]) == {"respond", "remember"}  # one step: see graphs/parallel.py
    assert agent.state()["trail"] == ["after_recall", "before_respond"]
    assert [item.text for item in agent.memory.list_items("ana")] == ["Biscuit is the user's dog."]
    # a task: the node before ``act`` runs before every act step, the route still branches
    agent.turn("Remind me to walk my dog.")
    done = agent.resume("approve")
    assert done.results[-1]["ok"]
    trail = agent.state()["trail"]
    assert trail[2:] == ["after_recall", "before_act", "before_act", "before_respond"]
    agent.close()


def test_a_replaced_node_keeps_its_edges(settings: Settings) -> None:
    model = ScriptedChatModel()

    async def always_chat(state: dict[str, Any]) -> dict[str, Any]:
        return {"route": "chat"}

    agent = Agent(
        user_id="ana",
        settings=settings,
        model=model,
        graph=GraphBuilder().replace_node("route", always_chat),
    )
    result = agent.turn("Remind me to call mum.")
    assert result.route == "chat" and result.approvals == []
    agent.close()
    default = Agent(user_id="bob", settings=settings, model=model)
    assert default.turn("Remind me to call mum.").route == "task"  # what the default decides
    default.close()


def test_a_mounted_subgraph_shares_state_keys(settings: Settings) -> None:
    class Sub(TypedDict, total=False):
        user_id: str
        recalled: list[dict[str, Any]]

    def add_note(state: Sub) -> dict[str, Any]:
        note = {"id": "note", "text": f"The user {state['user_id']} likes tea.", "score": 1.0}
        return {"recalled": [note, *state.get("recalled", [])]}

    sub = StateGraph(Sub)
    sub.add_node("add_note", add_note)
    sub.add_edge(START, "add_note")
    sub.add_edge("add_note", END)
    agent = Agent(
        user_id="ana", settings=settings, graph=GraphBuilder().mount("notes", sub, after="route")
    )
    result = agent.turn("What do I like to drink, tea?")
    assert result.used[0]["text"] == "The user ana likes tea." and "tea" in result.reply
    agent.close()


def test_tools_from_functions_and_langchain_tools(settings: Settings) -> None:
    def double(number: int) -> str:
        """Double a number."""
        return str(number * 2)

    @tool
    async def shout(text: str) -> str:
        """Shout the text."""
        return text.upper()

    asks = ["double 21 and shout hi", "double this number", "shout hello", "double 8"]
    builder = GraphBuilder().add_tool(double, routing_examples=asks).add_tool(shout, name="yell")
    steps = [
        {"tool": "double", "arguments": {"number": 21}},
        {"tool": "yell", "arguments": {"text": "hi"}},
    ]
    model = ScriptedChatModel(responses=[{"steps": steps}])
    agent = Agent(user_id="ana", settings=settings, model=model, graph=builder)
    result = agent.turn("Double 21 and shout hi.")
    assert [(r["tool"], r["output"]) for r in result.results] == [("double", "42"), ("yell", "HI")]
    plan_prompt = model.calls[0]["messages"][0]["content"]
    assert "double(number): Double a number." in plan_prompt and "yell(text)" in plan_prompt
    agent.close()


def test_read_only_steps_run_concurrently(settings: Settings) -> None:
    import asyncio

    running = {"now": 0, "most": 0}

    async def slow(name: str) -> str:
        """Take a while."""
        running["now"] += 1
        running["most"] = max(running["most"], running["now"])
        await asyncio.sleep(0.2)
        running["now"] -= 1
        return name

    steps = [{"tool": "slow", "arguments": {"name": n}} for n in "abc"]
    model = ScriptedChatModel(responses=[{"steps": steps}])
    asks = ["do three slow things", "do a slow thing", "run the slow tasks"]
    agent = Agent(
        user_id="ana",
        settings=settings,
        model=model,
        graph=GraphBuilder().add_tool(slow, routing_examples=asks),
    )
    result = agent.turn("Do three slow things.")
    assert [r["output"] for r in result.results] == ["a", "b", "c"] and running["most"] == 3
    agent.close()


def test_mistakes_are_reported_clearly(settings: Settings, scripted: ScriptedChatModel) -> None:
    from confidante.memory.store import Memory

    memory = Memory.open(settings=settings)
    deps = GraphDeps(memory=memory, model=scripted)

    def node(state: dict[str, Any]) -> dict[str, Any]:
        return {}

    with pytest.raises(ConfigurationError, match="no node 'respnd'"):
        GraphBuilder().add_node("x", node, before="respnd").build(deps)
    with pytest.raises(ConfigurationError, match="already has a node"):
        GraphBuilder().add_node("recall", node, after="route").build(deps)
    with pytest.raises(ConfigurationError, match="exactly one"):
        GraphBuilder().add_node("x", node).build(deps)
    with pytest.raises(ConfigurationError, match="no node"):
        GraphBuilder().replace_node("nope", node).build(deps)
    with pytest.raises(ConfigurationError, match="already has a field"):
        GraphBuilder().add_state_field("messages", list)
    with pytest.raises(ConfigurationError, match="docstring"):
        as_tool(lambda x: x)
    memory.close()


def test_a_mounted_subgraph_can_pause_for_approval(settings: Settings) -> None:
    class Confirm(TypedDict, total=False):
        reply: str
        confirmed: str

    def confirm(state: Confirm) -> dict[str, Any]:
        decision = interrupt({"tool": "confirm", "args": {"what": "the mounted step"}})
        return {"confirmed": json.dumps(decision, sort_keys=True)}

    sub = StateGraph(Confirm)
    sub.add_node("confirm", confirm)
    sub.add_edge(START, "confirm")
    sub.add_edge("confirm", END)
    builder = GraphBuilder().add_state_field("confirmed", str).mount("gate", sub, after="respond")
    agent = Agent(user_id="ana", settings=settings, graph=builder)
    paused = agent.turn("Hello there, how are you?")
    (approval,) = paused.approvals
    assert approval.tool == "confirm" and approval.args == {"what": "the mounted step"}
    assert agent.pending() == [approval] and "approval" in paused.reply
    done = agent.resume("approve")
    assert done.approvals == [] and agent.pending() == []
    assert json.loads(agent.state()["confirmed"]) == {"decision": "approve"}
    assert done.reply and "approval" not in done.reply
    agent.close()


def test_a_finished_turn_reports_the_checkpointed_state(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    agent.turn("My dog is called Biscuit.")
    result = agent.turn("What is my dog called?")
    state = agent.state()
    assert result.reply == state["reply"] and result.queries == state["queries"]
    assert result.recalled == state["recalled"] and result.remembered == state["remembered"]
    assert [item["id"] for item in result.used] == state["used"]
    agent.close()
