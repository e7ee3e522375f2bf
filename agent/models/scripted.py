"""A deterministic chat model for tests and examples, part of the package.

:class:`ScriptedChatModel` answers from, in order of precedence:

1. ``responses``: replies consumed one per call (text, a dict or pydantic object serialised as
   JSON, or an :class:`AIMessage` carrying tool calls);
2. ``function``: a callable computing the reply from the request body (the OpenAI
   chat-completion dict the model receives, messages included);
3. the built-in rules of :mod:`confidante.models.scripted_rules`, which make the assistant
   usable end to end (``CONFIDANTE_MODEL=scripted``): they extract simple first-person facts,
   answer from the memories placed in the prompt, and plan tasks with the available tools.

Every request body is recorded in ``calls`` so tests can inspect prompts. Streamed replies
(``stream``/``astream``, or any call inside a LangGraph run streamed in ``messages`` mode) come
word by word, each word with the spaces after it, so the pieces add up to the reply exactly.

Usage: every answer reports deterministic token counts computed by :func:`approximate_tokens`
(one token per 4 characters of the prompt's messages and of the reply, at least 1 each), the
same whether the reply is streamed (then on the stream's last, empty chunk) or not.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from langchain_core.messages import AIMessage
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from confidante.models.base import OpenAIStyleChatModel, TokenCount, prompt_text
from confidante.models.openai_format import from_openai_response
from confidante.models.scripted_rules import default_reply

Reply = str | dict[str, Any] | BaseModel | AIMessage
ScriptFunction = Callable[[dict[str, Any]], Reply]


def approximate_tokens(text: str) -> int:
    """Count tokens the way the scripted model reports usage: one per 4 characters, at least 1."""
    return max(1, len(text) // 4)


_PIECES = re.compile(r"^\s+|\S+\s*")


def word_pieces(text: str) -> list[str]:
    """Split ``text`` into words, each with the whitespace after it (they join back to it)."""
    return _PIECES.findall(text)


def _response(reply: Reply, prompt_text: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant"}
    if isinstance(reply, AIMessage):
        message["content"] = reply.text
        if reply.tool_calls:
            message["tool_calls"] = [
                {
                    "id": call.get("id") or f"call_{index}",
                    "type": "function",
                    "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
                }
                for index, call in enumerate(reply.tool_calls)
            ]
    elif isinstance(reply, BaseModel):
        message["content"] = reply.model_dump_json()
    elif isinstance(reply, dict):
        message["content"] = json.dumps(reply)
    else:
        message["content"] = str(reply)
    completion = approximate_tokens(message.get("content") or "")
    prompt = approximate_tokens(prompt_text)
    return {
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
        "usage": {
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
        },
    }


class ScriptedChatModel(OpenAIStyleChatModel):
    """A deterministic chat model.

    Attributes:
        responses: Replies consumed in order, one per call.
        function: Computes a reply from the request body when ``responses`` is exhausted.
        calls: Every request body received (for inspection in tests).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    responses: list[Any] = Field(default_factory=list)
    function: ScriptFunction | None = None
    calls: list[dict[str, Any]] = Field(default_factory=list)
    _lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "confidante-scripted"

    def _complete(self, payload: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self.calls.append(payload)
            scripted = self.responses.pop(0) if self.responses else None
        if scripted is not None:
            if isinstance(scripted, Exception):
                raise scripted
            reply: Reply = scripted
        elif self.function is not None:
            reply = self.function(payload)
        else:
            reply = default_reply(payload)
        return _response(reply, prompt_text(payload))

    def _stream_text(self, payload: dict[str, Any]) -> Iterator[str | TokenCount]:
        response = self._complete(payload)
        yield from word_pieces(from_openai_response(response).text)
        yield TokenCount.of(response["usage"]) or TokenCount(0, 0)

    async def _astream_text(self, payload: dict[str, Any]) -> AsyncIterator[str | TokenCount]:
        response = await self._acomplete(payload)
        for piece in word_pieces(from_openai_response(response).text):
            yield piece
            await asyncio.sleep(0)  # let consumers handle each piece as it comes
        yield TokenCount.of(response["usage"]) or TokenCount(0, 0)
