"""Usage per model call and per turn: tokens and seconds, split by kind (scripted model).

The scripted model reports deterministic counts (:func:`approximate_tokens`: one token per 4
characters of the prompt's messages and of the reply), so the turn's totals can be checked
against the requests it received.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from langchain_core.messages import AIMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, LLMResult

from confidante._sync import run_sync
from confidante.agent import Agent
from confidante.models.base import TokenCount, prompt_text
from confidante.models.local import chunk_tokens
from confidante.models.scripted import ScriptedChatModel, approximate_tokens
from confidante.models.scripted_rules import default_reply
from confidante.settings import Settings
from confidante.usage import Usage, UsageRecorder, kind_of, kind_tag, tokens_of


def _prompt_tokens(model: ScriptedChatModel) -> int:
    return sum(approximate_tokens(prompt_text(call)) for call in model.calls)


def test_a_turn_sums_its_calls_split_by_kind(settings: Settings) -> None:
    model = ScriptedChatModel()
    with Agent(user_id="ana", settings=settings, model=model) as agent:
        result = agent.turn("My dog is called Biscuit.")
    usage = result.usage
    assert usage.calls == len(model.calls) >= 2
    assert usage.prompt_tokens == _prompt_tokens(model) > 0
    assert usage.completion_tokens > 0
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert usage.seconds > 0
    assert usage.unreported == 0
    assert list(usage.by_kind) == ["reply", "extraction"]
    assert usage.by_kind["reply"].calls == 1
    assert usage.by_kind["reply"].completion_tokens == approximate_tokens(result.reply)
    assert sum(part.total_tokens for part in usage.by_kind.values()) == usage.total_tokens
    dumped = result.model_dump(mode="json")["usage"]
    assert set(dumped) == {*Usage().model_dump(), "by_kind"}


def test_a_task_turn_counts_its_planning(settings: Settings) -> None:
    model = ScriptedChatModel()
    with Agent(user_id="ana", settings=settings, model=model) as agent:
        result = agent.turn("Remind me to call the vet tomorrow.")
    assert result.route == "task"
    assert result.usage.by_kind["planning"].calls >= 1
    assert result.usage.by_kind["planning"].prompt_tokens > 0
    assert result.usage.prompt_tokens == _prompt_tokens(model)


def test_a_streamed_turn_ends_with_its_usage(settings: Settings) -> None:
    model = ScriptedChatModel()
    with Agent(user_id="ana", settings=settings, model=model) as agent:
        agent.turn("My dog is called Biscuit.")
        before = len(model.calls)

        async def collect() -> list[tuple[str, Any]]:
            return [pair async for pair in agent.astream("Any tips for walking Biscuit?")]

        events = run_sync(collect())
    kind, usage = events[-1]
    assert kind == "usage" and isinstance(usage, Usage)
    assert [k for k, _ in events].count("usage") == 1
    reply = "".join(data["text"] for k, data in events if k == "token")
    assert reply  # the reply was streamed, and the stream's last chunk carried its counts
    assert usage.by_kind["reply"].completion_tokens == approximate_tokens(reply)
    assert usage.prompt_tokens == sum(
        approximate_tokens(prompt_text(call)) for call in model.calls[before:]
    )


def test_a_background_extraction_is_not_counted_in_the_turn(settings: Settings) -> None:
    release = threading.Event()

    def slow_extraction(payload: dict[str, Any]) -> Any:
        if (payload.get("response_format") or {}).get("json_schema", {}).get("name") == (
            "FactExtraction"
        ):
            assert release.wait(30)
        return default_reply(payload)

    model = ScriptedChatModel(function=slow_extraction)
    with Agent(user_id="ana", settings=settings, model=model, background_extraction=True) as agent:
        result = agent.turn("My dog is called Biscuit.")
        release.set()
        agent.flush()
    assert list(result.usage.by_kind) == ["reply"]
    assert len(model.calls) == 2  # the extraction ran, after the turn had returned


def test_a_tag_names_the_kind_and_a_failed_call_counts_no_tokens() -> None:
    assert kind_of([kind_tag("summary")], {"langgraph_node": "respond"}) == "summary"
    assert kind_of([], {"langgraph_node": "remember"}) == "extraction"
    assert kind_of(None, None) == "other"
    model = ScriptedChatModel(responses=["A summary.", RuntimeError("down")])
    recorder = UsageRecorder()
    config: dict[str, Any] = {"callbacks": [recorder], "tags": [kind_tag("summary")]}

    async def calls() -> None:
        await model.ainvoke([HumanMessage("Summarise this please.")], config=config)
        with pytest.raises(RuntimeError):
            await model.ainvoke([HumanMessage("again")], config={"callbacks": [recorder]})

    run_sync(calls())
    usage = recorder.close()
    assert usage.by_kind["summary"].prompt_tokens == approximate_tokens("Summarise this please.")
    assert usage.by_kind["summary"].completion_tokens == approximate_tokens("A summary.")
    assert usage.by_kind["other"].calls == 1 and usage.by_kind["other"].total_tokens == 0
    assert usage.unreported == 1


def test_tokens_are_read_from_usage_metadata_or_llm_output() -> None:
    counts = {"input_tokens": 7, "output_tokens": 2, "total_tokens": 9}
    message = AIMessage("hi", usage_metadata=counts)  # type: ignore[arg-type]
    assert tokens_of(LLMResult(generations=[[ChatGeneration(message=message)]])) == (7, 2)
    bare = LLMResult(
        generations=[[ChatGeneration(message=AIMessage("hi"))]],
        llm_output={"token_usage": {"prompt_tokens": 5, "completion_tokens": 3}},
    )
    assert tokens_of(bare) == (5, 3)
    assert tokens_of(LLMResult(generations=[[ChatGeneration(message=AIMessage("hi"))]])) is None


def test_llama_cpp_stream_chunks_give_the_models_own_counts() -> None:
    """As llama.cpp streams them: ``usage`` on the last chunk, ``timings`` before it."""
    usage_chunk = {
        "choices": [],
        "object": "chat.completion.chunk",
        "usage": {"completion_tokens": 8, "prompt_tokens": 31, "total_tokens": 39},
        "timings": {"cache_n": 30, "prompt_n": 1, "predicted_n": 8},
    }
    assert chunk_tokens(usage_chunk) == TokenCount(31, 8)
    assert chunk_tokens(json.dumps(usage_chunk)) == TokenCount(31, 8)
    timings_only = {"choices": [], "timings": {"cache_n": 30, "prompt_n": 1, "predicted_n": 8}}
    assert chunk_tokens(timings_only) == TokenCount(31, 8)
    assert chunk_tokens({"choices": [{"delta": {"content": "hi"}}]}) is None
    assert chunk_tokens("[DONE]") is None
