"""Ask a chat model for schema-constrained output, check it, and retry when it is unusable."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from pydantic import BaseModel

from confidante.errors import StructuredOutputError

SchemaT = TypeVar("SchemaT", bound=BaseModel)
ResultT = TypeVar("ResultT")


async def ask_structured(
    model: BaseChatModel,
    schema: type[SchemaT],
    prompt: Sequence[BaseMessage],
    accept: Callable[[SchemaT], ResultT | None],
    *,
    retries: int = 1,
    what: str = "structured output",
) -> ResultT:
    """Invoke ``model`` for an instance of ``schema`` and return ``accept(instance)``.

    An attempt is retried when the reply does not validate against the schema or when
    ``accept`` returns None (the output validated but is unusable, e.g. ungrounded).

    Raises:
        StructuredOutputError: No attempt out of ``retries + 1`` gave an accepted result.
    """
    runnable = model.with_structured_output(schema)
    last_error: Exception | None = None
    for _attempt in range(retries + 1):
        try:
            result = await runnable.ainvoke(list(prompt))
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
