"""The embedded default chat model: a GGUF file run in-process by llama.cpp (``xllamacpp``).

The llama.cpp server is loaded on the first call and kept for the life of the process, one per
``(model file, threads, context size)``, because loading costs seconds. Requests go to it as
OpenAI ``chat.completions`` bodies; ``response_format`` with a JSON schema is enforced by a
grammar, so structured output always parses. Concurrent calls are safe: the server queues them
(one slot, so they run one after another). Plain replies can be streamed token by token
(llama.cpp's ``stream: true`` with a callback per chunk).
"""

from __future__ import annotations

import json
import os
import queue
import re
import secrets
import threading
from collections.abc import AsyncIterator, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from confidante.errors import ModelError, ModelNotAvailableError
from confidante.models.base import OpenAIStyleChatModel, TokenCount, iterate_in_thread
from confidante.models.gguf import bundled_model_path, verify_gguf

if TYPE_CHECKING:
    from confidante.settings import Settings

_INSTALL_HINT = (
    "the local chat model needs llama.cpp: `pip install 'confidante[local]'`, or choose "
    "another model with CONFIDANTE_MODEL (e.g. 'openai:gpt-4o-mini')"
)
# llama.cpp's OpenMP workers spin for a long time by default; with every core in use (two on
# small machines) a single busy neighbour then slows generation tenfold. A short spin costs
# little when the machine is idle and keeps it usable when it is not. Users may set their own.
_GOMP_SPINCOUNT = "1000"
_VERBOSITY_QUIET = 1  # llama.cpp log threshold: errors only (3 would print every request)
_VERBOSITY_LOUD = 3
_PROMPT_CACHE_MIB = 1024

_ServerKey = tuple[str, int | None, int]
_SERVERS: dict[_ServerKey, Any] = {}
_SERVERS_LOCK = threading.Lock()

_TOOL_TAG = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)
_FENCE = re.compile(r"^```[a-zA-Z]*\s*(.*?)\s*```$", re.DOTALL)


class LocalChatModel(OpenAIStyleChatModel):
    """A GGUF chat model run in this process by llama.cpp.

    Attributes:
        model_path: The GGUF file.
        threads: CPU threads for llama.cpp; ``None`` lets it use every physical core.
        context_tokens: The context window (prompt plus reply) in tokens.
        llama_logs: Let llama.cpp print its informational logs to stderr (errors are always
            printed). The setting is process-wide and applies from the first model loaded.
    """

    #: Calls run one after another (one llama.cpp slot): the graph keeps fact extraction
    #: after the reply instead of beside it (see :mod:`confidante.graphs.parallel`).
    one_call_at_a_time: ClassVar[bool] = True

    model_path: Path
    threads: int | None = None
    context_tokens: int = 4096
    llama_logs: bool = False

    @classmethod
    def from_settings(cls, settings: Settings, *, progress: bool = False) -> LocalChatModel:
        """Build the model that ``settings`` describe.

        Uses ``settings.model_path`` if set, else the bundled model, assembling it into
        ``settings.cache_dir`` the first time.

        Args:
            settings: The configuration.
            progress: Show a progress bar if the bundled model has to be assembled.

        Raises:
            ModelNotAvailableError: llama.cpp or the model file is missing or unusable.
        """
        _require_xllamacpp()
        if settings.model_path is not None:
            path = verify_gguf(settings.model_path)
        else:
            path = bundled_model_path(settings.cache_dir, progress=progress)
        return cls(
            model_path=path,
            threads=settings.threads,
            context_tokens=settings.context_tokens,
            max_tokens=settings.max_reply_tokens,
        )

    @property
    def _llm_type(self) -> str:
        return "confidante-local"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_path": str(self.model_path),
            "threads": self.threads,
            "context_tokens": self.context_tokens,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    def load(self) -> None:
        """Load the model now rather than on the first call (a no-op once loaded)."""
        self._server()

    def _server(self) -> Any:
        key: _ServerKey = (str(Path(self.model_path).resolve()), self.threads, self.context_tokens)
        with _SERVERS_LOCK:
            server = _SERVERS.get(key)
            if server is None:
                server = _start_server(
                    Path(key[0]), self.threads, self.context_tokens, self.llama_logs
                )
                _SERVERS[key] = server
        return server

    def _complete(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Run one chat-completion request body through llama.cpp.

        Raises:
            ModelError: llama.cpp rejected the request or answered with an error.
            ModelNotAvailableError: The model could not be loaded.
        """
        server = self._server()
        body = {key: value for key, value in payload.items() if key != "stream"}
        try:
            response = server.handle_chat_completions(body)
        except Exception as exc:  # xllamacpp raises ValueError/RuntimeError from C++
            raise ModelError(f"the local model rejected the request: {exc}") from exc
        if not isinstance(response, dict):
            raise ModelError(f"the local model returned {type(response).__name__}, not a dict")
        error = _error_message(response)
        if error is not None:
            raise ModelError(f"the local model failed: {error}")
        if body.get("tools"):
            _recover_tool_calls(response, _tool_names(body["tools"]))
        return response

    def _stream_text(self, payload: dict[str, Any]) -> Iterator[str | TokenCount]:
        """Yield the reply's text pieces as llama.cpp generates them, then its token counts.

        The counts are llama.cpp's own (its tokenizer, the model's): the ``usage`` of the last
        chunk, which ``stream_options.include_usage`` asks for, else the chunk's ``timings``.

        Raises:
            ModelError: llama.cpp rejected the request or streamed an error.
            ModelNotAvailableError: The model could not be loaded.
        """
        server = self._server()
        body = {**payload, "stream": True, "stream_options": {"include_usage": True}}
        pieces: queue.Queue[tuple[str, Any]] = queue.Queue()

        def generate() -> None:
            try:
                server.handle_chat_completions(body, lambda chunk: pieces.put(("chunk", chunk)))
            except Exception as exc:  # noqa: BLE001 - xllamacpp raises from C++; re-raised below
                pieces.put(("error", exc))
            pieces.put(("end", None))

        worker = threading.Thread(target=generate, name="confidante-llama-stream", daemon=True)
        worker.start()
        while True:
            kind, value = pieces.get()
            if kind == "end":
                break
            if kind == "error":
                raise ModelError(f"the local model rejected the request: {value}") from value
            text = _chunk_text(value)
            if text:
                yield text
            counted = chunk_tokens(value)
            if counted is not None:
                yield counted
        worker.join()

    async def _astream_text(self, payload: dict[str, Any]) -> AsyncIterator[str | TokenCount]:
        async for text in iterate_in_thread(partial(self._stream_text, payload)):
            yield text


def _require_xllamacpp() -> None:
    import importlib.util

    if importlib.util.find_spec("xllamacpp") is None:
        raise ModelNotAvailableError(_INSTALL_HINT)


def _start_server(path: Path, threads: int | None, context_tokens: int, logs: bool) -> Any:
    """Load ``path`` into a new llama.cpp server.

    llama.cpp also opens an HTTP listener on a random 127.0.0.1 port; it gets a random API key
    nobody is told, so only this process (which calls it directly) can use the model.
    """
    os.environ.setdefault("GOMP_SPINCOUNT", _GOMP_SPINCOUNT)  # read when libgomp loads
    try:
        import xllamacpp as xlc
    except ImportError as exc:
        raise ModelNotAvailableError(_INSTALL_HINT) from exc
    params = xlc.CommonParams()
    params.model.path = str(path)
    params.n_ctx = context_tokens
    params.n_parallel = 1
    params.verbosity = _VERBOSITY_LOUD if logs else _VERBOSITY_QUIET
    params.cache_ram_mib = _PROMPT_CACHE_MIB
    params.api_keys = [secrets.token_urlsafe(32)]
    params.ui = False
    if threads is not None:
        params.cpuparams.n_threads = threads
        params.cpuparams_batch.n_threads = threads
    try:
        return xlc.Server(params)
    except Exception as exc:
        raise ModelNotAvailableError(
            f"llama.cpp could not load {path} ({exc}): check that it is a chat model in GGUF "
            "format, or unset CONFIDANTE_MODEL_PATH to use the bundled model"
        ) from exc


def _error_message(response: dict[str, Any]) -> str | None:
    """Return the error carried by a llama.cpp response body, if any."""
    error = response.get("error")
    if isinstance(error, dict):
        return str(error.get("message") or error)
    if error:
        return str(error)
    if "choices" not in response and "message" in response:
        return str(response["message"])
    return None


def chunk_tokens(chunk: Any) -> TokenCount | None:
    """The token counts a streamed llama.cpp chunk reports (its ``usage``, else ``timings``)."""
    if isinstance(chunk, str):
        try:
            chunk = json.loads(chunk)
        except json.JSONDecodeError:
            return None
    if not isinstance(chunk, dict):
        return None
    counted = TokenCount.of(chunk.get("usage"))
    if counted is not None:
        return counted
    timings = chunk.get("timings")
    if isinstance(timings, dict) and "predicted_n" in timings:
        prompt = int(timings.get("cache_n") or 0) + int(timings.get("prompt_n") or 0)
        return TokenCount(prompt, int(timings["predicted_n"]))
    return None


def _chunk_text(chunk: Any) -> str:
    """Return the text delta of one streamed llama.cpp chunk (raising on an error chunk)."""
    if isinstance(chunk, str):  # the end marker, or a chunk still in JSON
        if chunk.strip() in {"", "[DONE]"}:
            return ""
        try:
            chunk = json.loads(chunk)
        except json.JSONDecodeError:
            return ""
    if not isinstance(chunk, dict):
        return ""
    error = _error_message(chunk)
    if error is not None:
        raise ModelError(f"the local model failed: {error}")
    choices = chunk.get("choices") or []
    delta = (choices[0].get("delta") or {}) if choices else {}
    return str(delta.get("content") or "")


def _tool_names(tools: Any) -> set[str]:
    names: set[str] = set()
    for tool in tools if isinstance(tools, list) else []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            names.add(function["name"])
    return names


def _recover_tool_calls(response: dict[str, Any], names: set[str]) -> None:
    """Turn a tool call written as JSON text in the reply into OpenAI ``tool_calls``.

    Small models often answer a request with tools as ```json {"name": ..., "arguments": ...}```
    or ``<tool_call>{...}</tool_call>`` text that llama.cpp does not parse. The reply is
    converted only if all of it is such calls and every call names one of the offered tools.
    """
    choices = response.get("choices") or []
    message = choices[0].get("message") if choices else None
    if not isinstance(message, dict) or message.get("tool_calls"):
        return
    calls = parse_tool_calls(message.get("content") or "", names)
    if calls:
        message["tool_calls"] = calls
        message["content"] = ""
        choices[0]["finish_reason"] = "tool_calls"


def parse_tool_calls(content: str, names: set[str]) -> list[dict[str, Any]] | None:
    """Parse reply text made only of JSON tool calls into OpenAI ``tool_calls`` entries.

    Args:
        content: The reply text.
        names: The names of the tools that were offered.

    Returns:
        The calls, or ``None`` if the text is anything else.
    """
    text = content.strip()
    blocks = _TOOL_TAG.findall(text) if text.startswith("<tool_call>") else [text]
    items: list[Any] = []
    for block in blocks:
        fenced = _FENCE.match(block)
        try:
            data = json.loads(fenced.group(1) if fenced else block)
        except json.JSONDecodeError:
            return None
        items.extend(data if isinstance(data, list) else [data])
    calls: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict) or item.get("name") not in names:
            return None
        arguments = item.get("arguments", item.get("parameters", {}))
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except json.JSONDecodeError:
                return None
        if not isinstance(arguments, dict):
            return None
        calls.append(
            {
                "id": f"call_{secrets.token_hex(8)}",
                "type": "function",
                "function": {"name": item["name"], "arguments": json.dumps(arguments)},
            }
        )
    return calls or None


__all__ = ["LocalChatModel", "parse_tool_calls"]
