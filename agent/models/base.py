"""One langchain-core chat model for every provider that speaks the OpenAI chat format.

A provider only implements :meth:`OpenAIStyleChatModel._complete` (and, when it has a native
async client, :meth:`OpenAIStyleChatModel._acomplete`): it receives an OpenAI
``chat.completions`` request body as a dict and returns the response body as a dict. The base
class converts langchain messages to that format and back (see
:mod:`confidante.models.openai_format`), binds tools, and implements structured output through
``response_format`` with a JSON schema, which the embedded llama.cpp model enforces with a
grammar.

Token streaming: a provider that can stream overrides :meth:`OpenAIStyleChatModel._stream_text`
and :meth:`OpenAIStyleChatModel._astream_text` (iterators of the reply's text pieces); by
default they yield the whole completion at once. langchain-core uses them for ``stream`` /
``astream`` and, inside a LangGraph run streamed with ``stream_mode="messages"``, for
``invoke`` / ``ainvoke`` too, so graph nodes stream without changes. Requests with tools or a
``response_format`` (structured output) are never streamed: they are answered in one chunk.

Usage: a completion's ``usage`` becomes the message's ``usage_metadata``. A streamed reply ends
with an empty chunk that carries the token counts the provider's stream reported (its text
iterator yields a :class:`TokenCount` after the pieces; the local model's are llama.cpp's own
count, with the model's tokenizer). A stream that reports none has no such chunk.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.messages.ai import UsageMetadata
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableLambda
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import BaseModel

from confidante.models.openai_format import (
    as_chunk,
    from_openai_response,
    json_schema_format,
    parse_structured,
    to_openai_messages,
)

ItemT = TypeVar("ItemT")


@dataclass(frozen=True)
class TokenCount:
    """The tokens of one call: what a stream reports at its end, or what a model counted.

    Attributes:
        prompt: Tokens of the request.
        completion: Tokens of the reply.
    """

    prompt: int
    completion: int

    @classmethod
    def of(cls, usage: Any) -> TokenCount | None:
        """Read an OpenAI ``usage`` (dict or object), or None when there is none."""
        if not usage:
            return None
        get = usage.get if isinstance(usage, dict) else lambda name: getattr(usage, name, 0)
        return cls(int(get("prompt_tokens") or 0), int(get("completion_tokens") or 0))

    def metadata(self) -> UsageMetadata:
        """As langchain-core's ``usage_metadata``."""
        return UsageMetadata(
            input_tokens=self.prompt,
            output_tokens=self.completion,
            total_tokens=self.prompt + self.completion,
        )


def prompt_text(payload: dict[str, Any]) -> str:
    """The text of a request's messages, joined by spaces (for counting its tokens)."""
    return " ".join(str(message.get("content") or "") for message in payload["messages"])


def is_streamable(payload: dict[str, Any]) -> bool:
    """Whether a request's reply may be streamed: plain text, no tools, no structured output."""
    return not payload.get("tools") and not payload.get("response_format")


async def iterate_in_thread(produce: Callable[[], Iterator[ItemT]]) -> AsyncIterator[ItemT]:
    """Run a blocking iterator in a worker thread and yield its items as they come.

    The event loop is never blocked; an exception raised by the iterator is re-raised here.
    If the consumer stops early, the worker is asked to stop after its current item.
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    cancelled = threading.Event()

    def work() -> None:
        try:
            for item in produce():
                loop.call_soon_threadsafe(queue.put_nowait, ("item", item))
                if cancelled.is_set():
                    break
        except BaseException as exc:  # noqa: BLE001 - handed over to the consumer
            loop.call_soon_threadsafe(queue.put_nowait, ("error", exc))
        else:
            loop.call_soon_threadsafe(queue.put_nowait, ("end", None))

    worker = loop.run_in_executor(None, work)
    try:
        while True:
            kind, value = await queue.get()
            if kind == "item":
                yield value
            elif kind == "error":
                raise value
            else:
                break
    finally:
        cancelled.set()
        await asyncio.shield(worker)


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

    def _stream_text(self, payload: dict[str, Any]) -> Iterator[str | TokenCount]:
        """Yield the reply's text as the model writes it; by default all at once.

        A provider whose stream reports usage yields it as a :class:`TokenCount`.
        """
        response = self._complete(payload)
        yield from_openai_response(response).text
        counted = TokenCount.of(response.get("usage"))
        if counted is not None:
            yield counted

    async def _astream_text(self, payload: dict[str, Any]) -> AsyncIterator[str | TokenCount]:
        """Async twin of :meth:`_stream_text`; by default the whole completion at once."""
        response = await self._acomplete(payload)
        yield from_openai_response(response).text
        counted = TokenCount.of(response.get("usage"))
        if counted is not None:
            yield counted

    @staticmethod
    def _usage_chunk(reported: TokenCount | None) -> ChatGenerationChunk | None:
        """The empty last chunk of a stream, carrying its token counts (if it reported any)."""
        if reported is None:
            return None
        return ChatGenerationChunk(
            message=AIMessageChunk(content="", usage_metadata=reported.metadata())
        )

    def _payload(
        self, messages: list[BaseMessage], stop: list[str] | None, **kwargs: Any
    ) -> dict[str, Any]:
        kwargs.pop("stream", None)  # whether to stream is decided by the method called
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

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        payload = self._payload(messages, stop, **kwargs)
        if not is_streamable(payload):
            message = from_openai_response(self._complete(payload))
            yield ChatGenerationChunk(message=as_chunk(message))
            return
        reported: TokenCount | None = None
        for text in self._stream_text(payload):
            if isinstance(text, TokenCount):
                reported = text
            elif text:  # langchain-core reports each chunk to the callbacks itself
                yield ChatGenerationChunk(message=AIMessageChunk(content=text))
        last = self._usage_chunk(reported)
        if last is not None:
            yield last

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        payload = self._payload(messages, stop, **kwargs)
        if not is_streamable(payload):
            message = from_openai_response(await self._acomplete(payload))
            yield ChatGenerationChunk(message=as_chunk(message))
            return
        reported: TokenCount | None = None
        async for text in self._astream_text(payload):
            if isinstance(text, TokenCount):
                reported = text
            elif text:  # langchain-core reports each chunk to the callbacks itself
                yield ChatGenerationChunk(message=AIMessageChunk(content=text))
        last = self._usage_chunk(reported)
        if last is not None:
            yield last

    async def astream_text(
        self, messages: Sequence[BaseMessage], **kwargs: Any
    ) -> AsyncIterator[str]:
        """Yield the reply to ``messages`` as pieces of text, as the model writes them.

        A shortcut over ``astream`` for callers that want text only (callbacks still run).
        """
        async for chunk in self.astream(list(messages), **kwargs):
            if chunk.text:
                yield chunk.text

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
