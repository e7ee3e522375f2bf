"""Chat models behind any OpenAI-compatible server (OpenAI, vLLM, llama.cpp server, Ollama).

Plain replies can be streamed (``stream: true``): the server's chunks are yielded as they
arrive; they are asked to end with the call's token counts (``stream_options.include_usage``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from pydantic import ConfigDict, PrivateAttr, SecretStr

from confidante.errors import ModelError
from confidante.models.base import OpenAIStyleChatModel, TokenCount
from confidante.models.guard import check_network_allowed


class OpenAICompatibleChatModel(OpenAIStyleChatModel):
    """A chat model reached through the ``openai`` client.

    Attributes:
        model_name: The server's model name.
        base_url: The server's base URL (None for OpenAI itself).
        api_key: The key (servers that need none accept any string).
        timeout_s: Timeout of one request.
        max_retries: Retries of failed requests (by the ``openai`` client).
    """

    model_config = ConfigDict(arbitrary_types_allowed=True)

    model_name: str
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = 120.0
    max_retries: int = 2
    _client: Any = PrivateAttr(default=None)
    _aclient: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "confidante-openai-compatible"

    def _client_kwargs(self) -> dict[str, Any]:
        key = self.api_key.get_secret_value() if self.api_key else "not-needed"
        return {
            "base_url": self.base_url,
            "api_key": key,
            "timeout": self.timeout_s,
            "max_retries": self.max_retries,
        }

    def _complete(self, payload: dict[str, Any]) -> dict[str, Any]:
        check_network_allowed(self.model_name)
        import openai

        if self._client is None:
            self._client = openai.OpenAI(**self._client_kwargs())
        try:
            response = self._client.chat.completions.create(model=self.model_name, **payload)
        except openai.OpenAIError as exc:
            raise ModelError(f"{self.model_name}: {exc}") from exc
        result: dict[str, Any] = response.model_dump()
        return result

    async def _acomplete(self, payload: dict[str, Any]) -> dict[str, Any]:
        check_network_allowed(self.model_name)
        import openai

        if self._aclient is None:
            self._aclient = openai.AsyncOpenAI(**self._client_kwargs())
        try:
            response = await self._aclient.chat.completions.create(model=self.model_name, **payload)
        except openai.OpenAIError as exc:
            raise ModelError(f"{self.model_name}: {exc}") from exc
        result: dict[str, Any] = response.model_dump()
        return result

    def _stream_text(self, payload: dict[str, Any]) -> Iterator[str | TokenCount]:
        check_network_allowed(self.model_name)
        import openai

        if self._client is None:
            self._client = openai.OpenAI(**self._client_kwargs())
        try:
            stream = self._client.chat.completions.create(
                model=self.model_name, stream=True, **_with_usage(payload)
            )
            for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
                counted = TokenCount.of(getattr(chunk, "usage", None))
                if counted is not None:
                    yield counted
        except openai.OpenAIError as exc:
            raise ModelError(f"{self.model_name}: {exc}") from exc

    async def _astream_text(self, payload: dict[str, Any]) -> AsyncIterator[str | TokenCount]:
        check_network_allowed(self.model_name)
        import openai

        if self._aclient is None:
            self._aclient = openai.AsyncOpenAI(**self._client_kwargs())
        try:
            stream = await self._aclient.chat.completions.create(
                model=self.model_name, stream=True, **_with_usage(payload)
            )
            async for chunk in stream:
                if chunk.choices and chunk.choices[0].delta.content:
                    yield chunk.choices[0].delta.content
                counted = TokenCount.of(getattr(chunk, "usage", None))
                if counted is not None:
                    yield counted
        except openai.OpenAIError as exc:
            raise ModelError(f"{self.model_name}: {exc}") from exc


def _with_usage(payload: dict[str, Any]) -> dict[str, Any]:
    """The request asking the server to end its stream with the call's ``usage``."""
    return {**payload, "stream_options": {"include_usage": True}}
