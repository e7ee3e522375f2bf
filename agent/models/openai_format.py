"""Conversion between langchain-core messages and OpenAI chat-completion bodies.

:class:`~confidante.models.base.OpenAIStyleChatModel` sends langchain messages as an OpenAI
``chat.completions`` request (:func:`to_openai_messages`), reads the response body back as an
:class:`AIMessage` (:func:`from_openai_response`, or one chunk of it with :func:`as_chunk`),
and asks for structured output with a ``response_format`` (:func:`json_schema_format`) whose
reply :func:`parse_structured` validates.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TypeVar

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.messages.tool import tool_call_chunk
from pydantic import BaseModel

from confidante.errors import StructuredOutputError

ModelT = TypeVar("ModelT", bound=BaseModel)


def to_openai_messages(messages: Sequence[BaseMessage]) -> list[dict[str, Any]]:
    """Convert langchain messages to OpenAI chat messages."""
    converted: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, SystemMessage):
            converted.append({"role": "system", "content": message.text})
        elif isinstance(message, HumanMessage):
            converted.append({"role": "user", "content": message.text})
        elif isinstance(message, ToolMessage):
            converted.append(
                {"role": "tool", "content": message.text, "tool_call_id": message.tool_call_id}
            )
        elif isinstance(message, AIMessage):
            entry: dict[str, Any] = {"role": "assistant", "content": message.text}
            if message.tool_calls:
                entry["tool_calls"] = [
                    {
                        "id": call["id"],
                        "type": "function",
                        "function": {"name": call["name"], "arguments": json.dumps(call["args"])},
                    }
                    for call in message.tool_calls
                ]
            converted.append(entry)
        else:
            converted.append({"role": "user", "content": message.text})
    return converted


def from_openai_response(response: dict[str, Any]) -> AIMessage:
    """Convert an OpenAI chat completion body to an :class:`AIMessage`."""
    choices = response.get("choices") or []
    if not choices:
        return AIMessage(content="", response_metadata={"finish_reason": "empty"})
    choice = choices[0]
    message = choice.get("message") or {}
    tool_calls: list[ToolCall] = []
    for index, call in enumerate(message.get("tool_calls") or []):
        function = call.get("function") or {}
        try:
            args = json.loads(function.get("arguments") or "{}")
        except json.JSONDecodeError:
            args = {"__raw__": function.get("arguments")}
        tool_calls.append(
            ToolCall(name=function.get("name", ""), args=args, id=call.get("id") or f"call_{index}")
        )
    usage = response.get("usage") or {}
    metadata: dict[str, Any] = {"finish_reason": choice.get("finish_reason")}
    if "timings" in response:
        metadata["timings"] = response["timings"]
    result = AIMessage(
        content=message.get("content") or "", tool_calls=tool_calls, response_metadata=metadata
    )
    if usage:
        result.usage_metadata = {
            "input_tokens": int(usage.get("prompt_tokens", 0)),
            "output_tokens": int(usage.get("completion_tokens", 0)),
            "total_tokens": int(usage.get("total_tokens", 0)),
        }
    return result


def as_chunk(message: AIMessage) -> AIMessageChunk:
    """Turn a whole reply into one message chunk (tool calls and metadata kept)."""
    return AIMessageChunk(
        content=message.content,
        tool_call_chunks=[
            tool_call_chunk(
                name=call["name"], args=json.dumps(call["args"]), id=call["id"], index=i
            )
            for i, call in enumerate(message.tool_calls)
        ],
        response_metadata=message.response_metadata,
        usage_metadata=message.usage_metadata,
    )


def json_schema_format(schema: type[BaseModel]) -> dict[str, Any]:
    """Return an OpenAI ``response_format`` asking for JSON that matches ``schema``."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": schema.__name__,
            "schema": schema.model_json_schema(),
            "strict": True,
        },
    }


def parse_structured(schema: type[ModelT], message: BaseMessage) -> ModelT:
    """Validate a model reply against ``schema``.

    Raises:
        StructuredOutputError: The reply is not JSON or does not match the schema.
    """
    text = message.text.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    try:
        return schema.model_validate_json(text)
    except ValueError as exc:
        raise StructuredOutputError(f"reply does not match {schema.__name__}: {exc}") from exc
