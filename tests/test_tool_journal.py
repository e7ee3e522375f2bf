"""A side-effecting call is journaled around itself: a lost checkpoint never makes it run twice."""

from __future__ import annotations

from typing import Any

from langgraph.types import Command

from confidante import Agent
from confidante._sync import run_sync
from confidante.graphs.builder import GraphBuilder
from confidante.graphs.tool_journal import INTERRUPTED_OUTPUT, ToolJournal, call_key
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings

STEPS = [{"tool": "send_note", "arguments": {"text": "buy milk"}}]


def _agent(settings: Settings, sent: list[str], user: str = "ana") -> Agent:
    def send_note(text: str) -> str:
        """Send a note."""
        sent.append(text)
        return f"sent #{len(sent)}"

    model = ScriptedChatModel(responses=[{"steps": STEPS}] * 4)
    asks = ["send me a note to buy milk", "send a note to my phone", "send me a note"]
    builder = GraphBuilder().add_tool(send_note, side_effect=True, routing_examples=asks)
    return Agent(user_id=user, settings=settings, model=model, graph=builder)


async def _replay_approved_act(agent: Agent) -> dict[str, Any]:
    """Run the approved ``act`` step again from the checkpoint before it (a lost checkpoint)."""
    graph = await agent._ensure_graph()
    history = [snapshot async for snapshot in graph.aget_state_history(agent._config(None))]
    paused = next(s for s in history if s.next == ("act",) and s.interrupts)
    output: dict[str, Any] = await graph.ainvoke(Command(resume="approve"), paused.config)
    return output


def test_a_replayed_step_reuses_the_journaled_result(settings: Settings) -> None:
    sent: list[str] = []
    agent = _agent(settings, sent)
    agent.turn("Send me a note to buy milk.")
    done = agent.resume("approve")
    assert sent == ["buy milk"] and done.results[0]["output"] == "sent #1"
    replayed = run_sync(_replay_approved_act(agent))
    assert sent == ["buy milk"], "the completed call ran again"
    assert replayed["results"][0]["ok"] and replayed["results"][0]["output"] == "sent #1"
    agent.close()


def test_a_call_that_never_returned_is_not_run_again(settings: Settings) -> None:
    sent: list[str] = []
    agent = _agent(settings, sent)
    agent.turn("Send me a note to buy milk.")
    state = agent.state()
    thread = agent._config(None)["configurable"]["thread_id"]
    key = call_key("ana", thread, state["event_id"], "send_note", {"text": "buy milk"})
    journal = ToolJournal(agent.memory.database)
    assert run_sync(journal.aclaim("ana", key, "send_note")) is None  # then the process died
    result = agent.resume("approve")
    assert sent == [], "a call whose outcome is unknown was repeated"
    assert result.results[0]["ok"] is False and result.results[0]["output"] == INTERRUPTED_OUTPUT
    agent.close()


def test_the_journal_is_per_user_and_forgotten_with_the_user(settings: Settings) -> None:
    sent: list[str] = []
    agent = _agent(settings, sent)
    agent.turn("Send me a note to buy milk.")
    agent.resume("approve")
    journal = ToolJournal(agent.memory.database)
    thread = agent._config(None)["configurable"]["thread_id"]
    key = call_key("ana", thread, agent.state()["event_id"], "send_note", {"text": "buy milk"})
    entry = run_sync(journal.alookup("ana", key))
    assert entry is not None and entry.status == "done" and entry.result is not None
    assert run_sync(journal.alookup("bob", key)) is None
    # the same request in a later turn is a new call (another turn id)
    other = call_key("ana", thread, "another-turn", "send_note", {"text": "buy milk"})
    assert other != key and run_sync(journal.alookup("ana", other)) is None
    counts = agent.memory.forget_user("ana")
    assert counts["tool_calls"] == 1
    assert run_sync(journal.alookup("ana", key)) is None
    agent.close()
