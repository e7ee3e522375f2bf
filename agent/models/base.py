"""One langchain-core chat model for every provider that speaks the OpenAI chat format.

A provider only implements :meth:`OpenAIStyleChatModel._complete` (and, when it has a native
async client, :meth:`OpenAIStyleChatModel._acomplete`): it receives an OpenAI
``chat.completions`` request body as a dict and returns the response body as a dict. The base
class converts langchain messages to that format and back, binds tools, and implements
structured output through ``response_format`` with a JSON schema, which the embedded llama.cpp
model enforces with a grammar.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
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


class OpenAIStyleChatModel(BaseChatModel):
    """Base of the chat models that take and return OpenAI chat-completion bodies.

    Attributes:
        max_tokens: Default cap on generated tokens per call.
        temperature: Sampling temperature (0 keeps replies reproducible).
    """

    max_tokens: int = 256
    temperature: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "confidante-openai-style"

    def _complete(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Answer one chat-completion request body with a response body."""
        raise NotImplementedError

    async def _acomplete(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Async twin of :meth:`_complete`; runs it in a worker thread by default."""
        return await asyncio.to_thread(self._complete, payload)

    def _payload(
        self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any
    ) -> dict[str, Any]:
        payload: dict[str, Any] = {
            "messages": to_openai_messages(messages),
            "max_tokens": kwargs.pop("max_tokens", self.max_tokens),
            "temperature": kwargs.pop("temperature", self.temperature),
        }
        if stop:
            payload["stop"] = stop
        payload.update({key: value for key, value in kwargs.items() if value is not None})
        return payload

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        response = self._complete(self._payload(messages, stop, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=from_openai_response(response))])

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        response = await self._acomplete(self._payload(messages, stop, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=from_openai_response(response))])

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Bind tools in the OpenAI ``tools`` format."""
        formatted = [convert_to_openai_tool(tool) for tool in tools]
        if tool_choice:
            kwargs["tool_choice"] = tool_choice
        return self.bind(tools=formatted, **kwargs)

    def with_structured_output(  # type: ignore[override]
        self, schema: type[BaseModel], *, include_raw: bool = False, **kwargs: Any
    ) -> Runnable[LanguageModelInput, Any]:
        """Return a runnable whose output is an instance of ``schema``.

        The schema travels as ``response_format``; grammar-constrained servers (llama.cpp)
        cannot produce anything else, other servers are validated after the fact.
        """
        bound = self.bind(response_format=json_schema_format(schema))

        def parse(message: BaseMessage) -> Any:
            parsed = parse_structured(schema, message)
            return {"raw": message, "parsed": parsed} if include_raw else parsed

        return bound | RunnableLambda(parse)
