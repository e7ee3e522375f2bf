"""Token streaming of the chat models, the graph's reply and the HTTP server."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel
from server_support import GatedModel, live_server

from confidante import Agent
from confidante.models.base import OpenAIStyleChatModel, iterate_in_thread
from confidante.models.scripted import ScriptedChatModel, word_pieces
from confidante.settings import Settings


class Pet(BaseModel):
    name: str


class WholeModel(OpenAIStyleChatModel):
    """A provider that only implements ``_complete`` (no streaming of its own)."""

    def _complete(self, payload: dict[str, Any]) -> dict[str, Any]:
        message = {"role": "assistant", "content": "one whole reply"}
        return {"choices": [{"message": message, "finish_reason": "stop"}]}


async def test_the_scripted_model_streams_word_by_word() -> None:
    model = ScriptedChatModel(responses=["Biscuit is a  good dog."])
    pieces = [chunk.text async for chunk in model.astream([HumanMessage("hi")])]
    assert [p for p in pieces if p] == ["Biscuit ", "is ", "a  ", "good ", "dog."]
    sync = ScriptedChatModel(responses=["Biscuit is a good dog."])
    assert "".join(c.text for c in sync.stream([HumanMessage("hi")])) == "Biscuit is a good dog."
    text = [piece async for piece in ScriptedChatModel(responses=["a b"]).astream_text([])]
    assert text == ["a ", "b"]
    assert word_pieces("  two words ") == ["  ", "two ", "words "]


async def test_the_default_stream_is_the_whole_completion_at_once() -> None:
    model = WholeModel()
    assert [c.text async for c in model.astream([HumanMessage("hi")]) if c.text] == [
        "one whole reply"
    ]
    assert [c.text for c in model.stream([HumanMessage("hi")]) if c.text] == ["one whole reply"]


async def test_structured_output_and_tool_calls_are_not_streamed() -> None:
    model = ScriptedChatModel(responses=[{"name": "Biscuit"}])
    structured = model.with_structured_output(Pet)
    chunks = [chunk async for chunk in structured.astream([HumanMessage("name?")])]
    assert chunks == [Pet(name="Biscuit")]
    raw = ScriptedChatModel(responses=['{"name": "Biscuit Junior"}'])
    bound = raw.bind(response_format={"type": "json_object"})
    pieces = [chunk.text async for chunk in bound.astream([HumanMessage("name?")])]
    assert [p for p in pieces if p] == ['{"name": "Biscuit Junior"}']


async def test_iterate_in_thread_passes_items_and_errors() -> None:
    def produce() -> Any:
        yield "a"
        yield "b"
        raise ValueError("broken")

    seen: list[str] = []
    try:
        async for item in iterate_in_thread(produce):
            seen.append(item)
    except ValueError as exc:
        assert str(exc) == "broken"
    else:
        raise AssertionError("the error was not raised")
    assert seen == ["a", "b"]


async def test_agent_astream_yields_the_reply_token_by_token(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    await agent.achat("My dog is called Biscuit.")
    seen = [item async for item in agent.astream("Any tips for walking Biscuit?")]
    tokens = [data["text"] for kind, data in seen if kind == "token"]
    reply = next(
        data["respond"]["reply"] for kind, data in seen if kind == "updates" and "respond" in data
    )
    assert len(tokens) > 3
    assert "".join(tokens) == reply and "Biscuit" in reply
    await agent.aclose()


def test_http_streaming_sends_each_token_as_it_is_produced(tmp_path: Path) -> None:
    gate = threading.Event()
    model = GatedModel(gate=gate)
    with live_server(tmp_path, model=model) as server:
        key = server.key_for("ana")
        body = {"model": "x", "stream": True, "messages": [{"role": "user", "content": "Hi?"}]}
        contents: list[str] = []
        finished_at_first: bool | None = None
        with (
            server.client(key) as client,
            client.stream("POST", "/v1/chat/completions", json=body) as response,
        ):
            assert response.status_code == 200
            for line in response.iter_lines():
                if not line.startswith("data: {"):
                    continue
                chunk = json.loads(line[len("data: ") :])
                content = chunk["choices"][0]["delta"].get("content") if chunk["choices"] else None
                if content:
                    if not contents:
                        finished_at_first = model.finished
                        gate.set()
                    contents.append(content)
    assert finished_at_first is False  # the first token arrived while the model was writing
    assert model.finished
    assert len(contents) > 2
    assert "".join(contents) == "I don't know that yet."


async def test_the_openai_compatible_model_streams_from_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Against confidante's own server on loopback (scripted model behind it): no network."""
    from confidante.models import guard
    from confidante.models.openai_compat import OpenAICompatibleChatModel

    monkeypatch.setattr(guard, "_blocked", False)
    with live_server(tmp_path) as server:
        key = server.key_for("ana")
        model = OpenAICompatibleChatModel(
            model_name="confidante", base_url=f"{server.url}/v1", api_key=key, max_retries=0
        )
        pieces = [p async for p in model.astream_text([HumanMessage("Who won the cup in 1966?")])]
        sync = [c.text for c in model.stream([HumanMessage("Who won the cup in 1966?")]) if c.text]
    assert len(pieces) > 2 and "".join(pieces) == "I don't know that yet."
    assert "".join(sync) == "I don't know that yet." and len(sync) > 2
