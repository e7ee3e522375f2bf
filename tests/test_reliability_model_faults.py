"""The chat model fails: it times out, returns invalid JSON, names an unknown tool, says nothing.

Each fault is injected with :class:`~confidante.models.scripted.ScriptedChatModel`'s
``function`` (a function per request). For every fault the :class:`~confidante.Agent` turn must
end with a reply (a clear fallback message or a retry's answer), the raw turn must be stored
(memory events) and the failure recorded (the turn's extraction status and error).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest
from langchain_core.messages import AIMessage

from confidante import Agent
from confidante.errors import ModelError
from confidante.graphs.nodes import FALLBACK_REPLY, Nodes
from confidante.memory.store import Memory
from confidante.models.scripted import ScriptedChatModel
from confidante.models.scripted_rules import default_reply
from confidante.settings import Settings

STATEMENT = "I live in Lisbon and my dog is called Biscuit."


def schema_of(payload: dict[str, Any]) -> str | None:
    """Return the structured-output schema a request asks for (None for a chat reply)."""
    response_format = payload.get("response_format") or {}
    return (response_format.get("json_schema") or {}).get("name")


def faulty(fault: Callable[[dict[str, Any]], Any], only: set[str | None] | None = None) -> Any:
    """Return a scripted function applying ``fault`` to the requests ``only`` names (all: None)."""

    def answer(payload: dict[str, Any]) -> Any:
        if only is None or schema_of(payload) in only:
            return fault(payload)
        return default_reply(payload)

    return answer


def raise_(error: BaseException) -> Callable[[dict[str, Any]], Any]:
    def fail(_payload: dict[str, Any]) -> Any:
        raise error

    return fail


def _turn(settings: Settings, model: ScriptedChatModel, text: str = STATEMENT) -> Any:
    agent = Agent(user_id="ana", settings=settings, model=model)
    try:
        result = agent.turn(text)
        events = agent.memory.events("ana", role="user")
        items = agent.memory.list_items("ana")
    finally:
        agent.close()
    return result, events, items


@pytest.mark.parametrize(
    "error",
    [ModelError("request timed out after 120 s"), TimeoutError("read timed out")],
    ids=["model-error", "raw-timeout"],
)
def test_a_model_that_times_out_ends_the_turn_with_a_clear_message(
    settings: Settings, error: BaseException, caplog: pytest.LogCaptureFixture
) -> None:
    model = ScriptedChatModel(function=faulty(raise_(error)))
    with caplog.at_level(logging.WARNING):
        result, events, items = _turn(settings, model)
    assert result.reply == FALLBACK_REPLY
    assert [event.text for event in events] == [STATEMENT], "the raw turn is stored"
    assert events[0].extraction == "failed"
    assert events[0].error is not None and "timed out" in events[0].error
    assert items == []
    assert "timed out" in caplog.text, "the failure is logged"


def test_invalid_json_is_retried_then_recorded_and_can_be_retried_later(
    settings: Settings,
) -> None:
    model = ScriptedChatModel(function=faulty(lambda _p: '{"facts": [ {oops', {"FactExtraction"}))
    agent = Agent(user_id="ana", settings=settings, model=model)
    result = agent.turn(STATEMENT)
    extraction_calls = [c for c in model.calls if schema_of(c) == "FactExtraction"]
    assert len(extraction_calls) == 2, "an invalid answer is retried once"
    assert result.reply and result.reply != FALLBACK_REPLY  # the chat reply itself was fine
    (event,) = agent.memory.events("ana", role="user")
    assert event.extraction == "failed" and "FactExtraction" in (event.error or "")
    assert agent.memory.list_items("ana") == []

    model.function = None  # the model recovers: the stored turn is learned from again
    assert agent.retry_extractions() == 1
    (event,) = agent.memory.events("ana", role="user")
    assert event.extraction == "done"
    keys = {item.key for item in agent.memory.list_items("ana")}
    assert keys == {"home_city", "relation"}
    agent.close()


def test_a_failing_router_answers_as_chat_and_still_learns(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)

    def broken(text: str, tools: Any) -> str:
        raise RuntimeError("router down")

    assert agent.deps.router is not None
    agent.deps.router.label = broken  # type: ignore[method-assign]
    result = agent.turn("I live in Lisbon. Remind me to water the plants.")
    assert result.route == "chat" and result.reply and result.approvals == []
    assert [item.text for item in agent.memory.list_items("ana")] == ["The user lives in Lisbon."]
    agent.close()


def test_a_plan_naming_an_unknown_tool_is_refused_and_the_turn_still_answers(
    settings: Settings,
) -> None:
    def fault(payload: dict[str, Any]) -> Any:
        return {"steps": [{"tool": "drop_all_users", "arguments": {"confirm": True}}]}

    model = ScriptedChatModel(function=faulty(fault, {"Plan"}))
    result, events, items = _turn(settings, model, "Remind me to water the plants.")
    plans = [c for c in model.calls if schema_of(c) == "Plan"]
    assert len(plans) == 2, "the failed plan is retried once"
    assert result.reply
    assert all(step["tool"] != "drop_all_users" for step in result.plan)
    assert any(not outcome["ok"] for outcome in result.results), "the failure is recorded"
    assert [event.text for event in events] == ["Remind me to water the plants."]
    assert events[0].extraction == "skipped"
    assert items == []


async def test_act_records_an_unknown_tool_instead_of_raising(settings: Settings) -> None:
    memory = Memory.open(settings=settings)
    agent = Agent(user_id="ana", settings=settings, memory=memory)
    nodes = Nodes(agent.deps)
    plan = [{"tool": "rm_rf", "arguments": {}}, {"tool": "list_reminders", "arguments": {}}]
    update = await nodes.act(
        {"plan": plan, "user_id": "ana"},  # type: ignore[typeddict-item]
        {"configurable": {"user_id": "ana"}},
    )
    unknown, listed = update["results"]
    assert unknown.wire() == {"tool": "rm_rf", "ok": False, "output": "unknown tool 'rm_rf'"}
    assert listed.ok is True
    await agent.aclose()


def test_a_native_tool_call_instead_of_a_reply_is_not_executed(settings: Settings) -> None:
    call = AIMessage(
        content="", tool_calls=[{"name": "drop_all_users", "args": {}, "id": "call_1"}]
    )
    model = ScriptedChatModel(function=faulty(lambda _p: call, {None}))
    result, events, _items = _turn(settings, model)
    assert result.reply == FALLBACK_REPLY
    assert events[0].extraction == "done"  # extraction itself worked


def test_an_empty_reply_everywhere_ends_with_a_clear_message(settings: Settings) -> None:
    model = ScriptedChatModel(function=faulty(lambda _p: ""))
    result, events, items = _turn(settings, model)
    assert result.reply == FALLBACK_REPLY
    assert [event.text for event in events] == [STATEMENT]
    assert events[0].extraction == "failed" and events[0].error
    assert items == []


def test_faults_of_one_user_leave_another_users_turns_alone(settings: Settings) -> None:
    model = ScriptedChatModel(function=faulty(raise_(ModelError("boom"))))
    _turn(settings, model)
    healthy = Agent(user_id="bob", settings=settings)
    assert healthy.turn("My cat is called Tom.").remembered
    assert [e.extraction for e in healthy.memory.events("bob", role="user")] == ["done"]
    assert [e.extraction for e in healthy.memory.events("ana", role="user")] == ["failed"]
    healthy.close()
