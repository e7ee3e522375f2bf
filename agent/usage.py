"""What the model calls of a turn cost: tokens and seconds, per call and per kind.

A :class:`UsageRecorder` is a langchain-core callback handler that the agent attaches to each
turn (see :class:`~confidante.agent.Agent`). Every chat-model call the turn makes reports its
prompt and completion tokens, as the provider counted them (the ``usage`` of an OpenAI-style
response, the llama.cpp server's own count, or for a streamed reply the count the model adds
at the end; see :mod:`confidante.models.base`), and the seconds from its start to its end.

Each call gets a kind, from a ``confidante:kind:<kind>`` tag on the call when there is one,
else from the graph node that made it:

- ``reply``: the answer (``respond``);
- ``routing``: a routing decision (``route``; the built-in router needs no model call);
- ``planning``: a task's plan (``plan``);
- ``extraction``: facts learned from the message (``remember``);
- ``summary``: offline summaries (tagged);
- ``other``: anything else (a custom node or tool that calls the model).

A turn's usage is what finished *within* the turn: the recorder is closed when the turn
returns, so an extraction still running in the background (``background_extraction=True``)
is not counted in that turn's usage.
"""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID

from langchain_core.callbacks import AsyncCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, LLMResult
from pydantic import BaseModel, Field

#: The kinds a model call may have, in the order they are reported.
KINDS = ("reply", "routing", "planning", "extraction", "summary", "other")
#: Prefix of the tag that names a call's kind (``confidante:kind:summary``).
KIND_TAG = "confidante:kind:"
#: The kind of the calls a graph node makes, by node name.
NODE_KINDS = {"respond": "reply", "route": "routing", "plan": "planning", "remember": "extraction"}


def kind_tag(kind: str) -> str:
    """The tag that gives a model call the kind ``kind`` (one of :data:`KINDS`)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    return KIND_TAG + kind


def kind_of(tags: list[str] | None, metadata: dict[str, Any] | None) -> str:
    """The kind of a call, from its tags first, then from the graph node that made it."""
    for tag in tags or []:
        if tag.startswith(KIND_TAG) and tag[len(KIND_TAG) :] in KINDS:
            return tag[len(KIND_TAG) :]
    node = (metadata or {}).get("langgraph_node")
    return NODE_KINDS.get(str(node), "other")


class Tokens(BaseModel):
    """Model calls, tokens and seconds (of one kind, or of a whole turn).

    Attributes:
        calls: How many model calls.
        prompt_tokens: Tokens the calls sent.
        completion_tokens: Tokens the calls generated.
        total_tokens: Their sum.
        seconds: Model time, summed over the calls (calls run in parallel count each).
        unreported: Calls whose provider reported no token counts (counted as 0 tokens).
    """

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    seconds: float = 0.0
    unreported: int = 0

    def add(self, other: Tokens) -> None:
        """Add ``other``'s counts to these."""
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.total_tokens += other.total_tokens
        self.seconds = round(self.seconds + other.seconds, 6)
        self.unreported += other.unreported


class Usage(Tokens):
    """A turn's model usage: the totals, and the same counts per kind (only kinds it used).

    Attributes:
        by_kind: Counts per kind (``reply``, ``routing``, ``planning``, ``extraction``...).
    """

    by_kind: dict[str, Tokens] = Field(default_factory=dict)

    @classmethod
    def of(cls, calls: list[tuple[str, Tokens]]) -> Usage:
        """Sum ``(kind, counts)`` pairs, one per model call."""
        usage = cls()
        for kind, counts in calls:
            usage.add(counts)
            usage.by_kind.setdefault(kind, Tokens()).add(counts)
        usage.by_kind = {kind: usage.by_kind[kind] for kind in KINDS if kind in usage.by_kind}
        return usage

    def merged(self, other: Usage) -> Usage:
        """These counts plus ``other``'s (a paused turn and its continuation)."""
        pairs = [*self.by_kind.items(), *other.by_kind.items()]
        return Usage.of(pairs)


def tokens_of(response: LLMResult) -> tuple[int, int] | None:
    """The (prompt, completion) tokens a response reports, or None when it reports none."""
    for generations in response.generations:
        for generation in generations:
            if isinstance(generation, ChatGeneration):
                meta = getattr(generation.message, "usage_metadata", None)
                if meta:
                    return int(meta.get("input_tokens", 0)), int(meta.get("output_tokens", 0))
    output = response.llm_output or {}
    usage = output.get("token_usage") or output.get("usage")
    if isinstance(usage, dict) and usage:
        return int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
    return None


class UsageRecorder(AsyncCallbackHandler):
    """Records each model call of one turn (attach it as a callback of the turn's run).

    After :meth:`close`, calls that end (a background extraction) are no longer recorded.
    """

    def __init__(self) -> None:
        self._started: dict[UUID, tuple[str, float]] = {}
        self._calls: list[tuple[str, Tokens]] = []
        self._closed = False

    async def on_chat_model_start(
        self,
        serialized: dict[str, Any],
        messages: list[list[BaseMessage]],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Note the call's kind and start time."""
        self._started[run_id] = (kind_of(tags, metadata), time.perf_counter())

    async def on_llm_start(
        self,
        serialized: dict[str, Any],
        prompts: list[str],
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        tags: list[str] | None = None,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        """Note a completion model's call (same as a chat model's)."""
        self._started[run_id] = (kind_of(tags, metadata), time.perf_counter())

    async def on_llm_end(
        self,
        response: LLMResult,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """Record the call's tokens and seconds."""
        self._finish(run_id, tokens_of(response))

    async def on_llm_error(
        self,
        error: BaseException,
        *,
        run_id: UUID,
        parent_run_id: UUID | None = None,
        **kwargs: Any,
    ) -> None:
        """Record a failed call: its seconds, and no tokens."""
        self._finish(run_id, None)

    def _finish(self, run_id: UUID, tokens: tuple[int, int] | None) -> None:
        started = self._started.pop(run_id, None)
        if started is None or self._closed:
            return
        kind, start = started
        prompt, completion = tokens or (0, 0)
        counts = Tokens(
            calls=1,
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=prompt + completion,
            seconds=round(time.perf_counter() - start, 6),
            unreported=0 if tokens else 1,
        )
        self._calls.append((kind, counts))

    def close(self) -> Usage:
        """Stop recording and return what was recorded."""
        self._closed = True
        return self.usage()

    def usage(self) -> Usage:
        """The usage recorded so far."""
        return Usage.of(list(self._calls))


__all__ = ["KINDS", "Tokens", "Usage", "UsageRecorder", "kind_of", "kind_tag", "tokens_of"]
