"""Ask a chat model for schema-constrained output, check it, and retry when it is unusable."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig
from pydantic import BaseModel

from confidante.errors import StructuredOutputError

SchemaT = TypeVar("SchemaT", bound=BaseModel)
ResultT = TypeVar("ResultT")

_CACHE_SIZE = 32
_runnables: OrderedDict[tuple[int, type[BaseModel]], tuple[BaseChatModel, Runnable[Any, Any]]] = (
    OrderedDict()
)


def structured_runnable(model: BaseChatModel, schema: type[BaseModel]) -> Runnable[Any, Any]:
    """Return ``model.with_structured_output(schema)``, built once per model and schema.

    Building it generates the schema's JSON schema, which costs milliseconds per call; the
    runnable keeps calling ``model`` itself, so later changes to the model still apply.
    """
    key = (id(model), schema)
    cached = _runnables.get(key)
    if cached is None or cached[0] is not model:  # (a cached model is alive: its id is its own)
        cached = (model, model.with_structured_output(schema))
        _runnables[key] = cached
        while len(_runnables) > _CACHE_SIZE:
            _runnables.popitem(last=False)
    return cached[1]


async def ask_structured(
    model: BaseChatModel,
    schema: type[SchemaT],
    prompt: Sequence[BaseMessage],
    accept: Callable[[SchemaT], ResultT | None],
    *,
    retries: int = 1,
    what: str = "structured output",
    max_tokens: int | None = None,
    config: RunnableConfig | None = None,
) -> ResultT:
    """Invoke ``model`` for an instance of ``schema`` and return ``accept(instance)``.

    An attempt is retried when the reply does not validate against the schema or when
    ``accept`` returns None (the output validated but is unusable, e.g. ungrounded).
    ``max_tokens`` raises the model's cap on generated tokens for this call (a long answer
    cut at the cap would not parse). ``config`` is passed to each call (callbacks and tags,
    e.g. a :class:`~confidante.usage.UsageRecorder` and the call's kind).

    Raises:
        StructuredOutputError: No attempt out of ``retries + 1`` gave an accepted result.
    """
    runnable = structured_runnable(model, schema)
    last_error: Exception | None = None
    for _attempt in range(retries + 1):
        try:
            options: dict[str, Any] = {"max_tokens": max_tokens} if max_tokens else {}
            result = await runnable.ainvoke(list(prompt), config, **options)
        except StructuredOutputError as exc:
            last_error = exc
            continue
        if not isinstance(result, schema):
            last_error = StructuredOutputError(f"the model returned {type(result).__name__}")
            continue
        accepted = accept(result)
        if accepted is not None:
            return accepted
        last_error = StructuredOutputError(f"ungrounded or unusable {schema.__name__}: {result!r}")
    raise StructuredOutputError(f"{what} failed: {last_error}")
