"""Independent default nodes share a graph step; any change around a pair keeps it in sequence."""

from __future__ import annotations

from typing import Any, ClassVar

from langgraph.graph import START

from confidante import Agent
from confidante._sync import run_sync
from confidante.graphs.builder import GraphBuilder
from confidante.graphs.nodes import GraphDeps
from confidante.memory.store import Memory
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings


class OneSlotModel(ScriptedChatModel):
    """The scripted model, declaring that its calls run one after another."""

    one_call_at_a_time: ClassVar[bool] = True


def steps_of_a_turn(agent: Agent, text: str) -> list[set[str]]:
    """The nodes of each graph step of one turn, read from the checkpoints it wrote."""

    async def history() -> list[Any]:
        graph = await agent._ensure_graph()
        return [snapshot async for snapshot in graph.aget_state_history(agent._config(None))]

    before = len(run_sync(history()))
    agent.turn(text)
    after = run_sync(history())
    new = reversed(after[: len(after) - before])
    return [set(s.next) for s in new if s.next and s.next != (START,)]


def test_a_chat_turn_takes_two_steps_and_still_learns(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    steps = steps_of_a_turn(agent, "My dog is called Biscuit.")
    assert steps[-2:] == [{"recall", "route"}, {"respond", "remember"}]
    result = agent.turn("What is my dog called?")
    assert "Biscuit" in result.reply and result.recalled
    assert [item.key for item in agent.memory.list_items("ana")] == ["relation"]
    agent.close()


def test_a_task_still_plans_from_what_was_recalled_and_remembers_decisions(
    settings: Settings,
) -> None:
    agent = Agent(user_id="ana", settings=settings)
    agent.turn("My dog is called Biscuit.")
    paused = agent.turn("Remind me to walk my dog.")
    assert paused.approvals
    done = agent.resume("approve")
    assert done.results[-1]["ok"]
    outcomes = [i for i in agent.memory.list_items("ana") if i.kind == "tool_outcome"]
    assert len(outcomes) == 1 and outcomes[0].text.startswith("The user approved add reminder")
    agent.close()


def test_a_node_after_recall_keeps_recall_and_route_in_sequence(settings: Settings) -> None:
    seen: dict[str, Any] = {}

    def count(state: dict[str, Any]) -> dict[str, Any]:
        seen["recalled"] = len(state.get("recalled", []))
        return {}

    def route(state: dict[str, Any]) -> dict[str, Any]:
        seen["route_saw"] = "queries" in state  # written by recall, one step earlier
        return {"route": "chat"}

    builder = GraphBuilder().add_node("count", count, after="recall")
    agent = Agent(user_id="ana", settings=settings, graph=builder)
    agent.turn("My dog is called Biscuit.")
    steps = steps_of_a_turn(agent, "What is my dog called?")
    assert steps[-4:-1] == [{"recall"}, {"count"}, {"route"}] and seen["recalled"] >= 1
    assert steps[-1] == {"respond", "remember"}
    agent.close()
    replaced = Agent(
        user_id="ana", settings=settings, graph=GraphBuilder().replace_node("route", route)
    )
    steps = steps_of_a_turn(replaced, "What is my dog called?")
    assert steps[-3:] == [{"recall"}, {"route"}, {"respond", "remember"}] and seen["route_saw"]
    replaced.close()


def test_topology_keeps_pairs_in_sequence_when_changed_or_one_slot(settings: Settings) -> None:
    memory = Memory.open(settings=settings)

    def node(state: dict[str, Any]) -> dict[str, Any]:
        return {}

    default = GraphBuilder().topology(GraphDeps(memory=memory, model=ScriptedChatModel()))
    assert (START, "route") in default.edges and ("recall", "route") not in default.edges
    assert ("respond", "remember") not in default.edges
    one_slot = GraphBuilder().topology(GraphDeps(memory=memory, model=OneSlotModel()))
    assert (START, "route") in one_slot.edges and ("respond", "remember") in one_slot.edges
    changed = (
        GraphBuilder()
        .add_node("audit", node, after="respond")
        .replace_node("recall", node)
        .topology(GraphDeps(memory=memory, model=ScriptedChatModel()))
    )
    assert ("recall", "route") in changed.edges and ("respond", "audit") in changed.edges
    assert ("audit", "remember") in changed.edges
    memory.close()
