"""``usage`` in OpenAI-compatible answers: whole, and streamed when the client asks for it.

A real uvicorn server on loopback with the scripted model, which reports deterministic token
counts (one per 4 characters, see :func:`confidante.models.scripted.approximate_tokens`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from server_support import LiveServer, live_server

from confidante.models.scripted import approximate_tokens


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("usage")) as live:
        yield live


@pytest.fixture(scope="module")
def ana(server: LiveServer) -> str:
    return server.key_for("ana")


def _openai(server: LiveServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)


def test_an_answer_carries_the_turns_usage(server: LiveServer, ana: str) -> None:
    told = _openai(server, ana).chat.completions.create(
        model="confidante",
        messages=[{"role": "user", "content": "My cat is called Pixel."}],
        extra_headers={"X-Session-Id": "usage-whole"},
    )
    assert told.usage is not None
    assert told.usage.prompt_tokens > 0 and told.usage.completion_tokens > 0
    assert told.usage.total_tokens == told.usage.prompt_tokens + told.usage.completion_tokens
    detail = (told.model_extra or {})["confidante"]["usage"]
    assert detail["total_tokens"] == told.usage.total_tokens
    assert set(detail["by_kind"]) == {"reply", "extraction"}
    reply = told.choices[0].message.content or ""
    assert detail["by_kind"]["reply"]["completion_tokens"] == approximate_tokens(reply)
    assert detail["calls"] == 2 and detail["seconds"] > 0


def test_a_stream_ends_with_usage_when_the_client_asks(server: LiveServer, ana: str) -> None:
    stream = _openai(server, ana).chat.completions.create(
        model="confidante",
        messages=[{"role": "user", "content": "Who is Pixel?"}],
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"X-Session-Id": "usage-stream"},
    )
    chunks = list(stream)
    last = chunks[-1]
    assert last.choices == [] and last.usage is not None
    assert [chunk for chunk in chunks if chunk.usage is not None] == [last]
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text and last.usage.completion_tokens >= approximate_tokens(text)
    assert last.usage.total_tokens == last.usage.prompt_tokens + last.usage.completion_tokens
    stop = [chunk for chunk in chunks if chunk.choices and chunk.choices[0].finish_reason]
    detail = (stop[-1].model_extra or {})["confidante"]["usage"]
    assert detail["total_tokens"] == last.usage.total_tokens
    assert detail["by_kind"]["reply"]["completion_tokens"] == approximate_tokens(text)


def test_a_stream_has_no_usage_chunk_unless_asked(server: LiveServer, ana: str) -> None:
    body: dict[str, Any] = {
        "model": "confidante",
        "messages": [{"role": "user", "content": "Who is Pixel?"}],
        "stream": True,
    }
    with server.client(ana) as client:
        response = client.post("/v1/chat/completions", json=body)
    events = [
        json.loads(line.removeprefix("data: "))
        for line in response.text.splitlines()
        if line.startswith("data: {")
    ]
    assert events and all(event["choices"] for event in events)
    assert all("usage" not in event for event in events)
