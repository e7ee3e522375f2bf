"""Optional model rerank: the chat model orders the candidates by their numbers.

Recommendation as language (the P5 idea): the model sees what the memory says about the
user's tastes, what the user asks for now, and the numbered candidates, and answers with the
candidates' numbers, best first, as JSON constrained by :class:`RerankOrder`.

The schema is what a small local model can fill: a non-empty list of the offered numbers
(an enum, :func:`order_schema`, so a grammar-constrained model cannot write others). The
earlier schema (each candidate's id copied out with a written reason) failed on every call of
the default 1.5B model, whose grammar-constrained answer was an empty list (issue 25). The
model writes no reasons: a reason it wrote could not be checked, and the recommender's own
reasons are true or absent (:mod:`confidante.tools.recommend.reasons`).

An answer is accepted when it names at least one offered number (numbers out of range and
repeats are dropped); the candidates it left out follow in their original order. Otherwise the
attempt is retried, then :func:`arerank` raises and the caller keeps its own order.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field, create_model

from confidante.models.structured import ask_structured

__all__ = [
    "MAX_CANDIDATES",
    "RerankOrder",
    "accepted_order",
    "arerank",
    "order_schema",
    "rerank_prompt",
]

#: At most this many candidates are offered to the model.
MAX_CANDIDATES = 50


class RerankOrder(BaseModel):
    """The candidates' numbers, best first."""

    order: list[int] = Field(
        min_length=1,
        max_length=MAX_CANDIDATES,
        description="the numbers of the candidates, best first, each once",
    )


@lru_cache(maxsize=MAX_CANDIDATES)
def order_schema(count: int) -> type[RerankOrder]:
    """Return :class:`RerankOrder` with its numbers restricted to ``1..count`` (an enum).

    A grammar-constrained model can then write only offered numbers: unconstrained, the
    default model filled the list with ``-1`` on half of the calls.
    """
    numbers: Any = Literal.__getitem__(tuple(range(1, count + 1)))
    field = Field(min_length=1, max_length=count, description="candidate numbers, best first")
    model: type[RerankOrder] = create_model(
        "RerankOrder", __base__=RerankOrder, order=(list[numbers], field)
    )
    return model


def rerank_prompt(
    memories: Sequence[str], candidates: Sequence[str], request: str | None = None
) -> list[SystemMessage | HumanMessage]:
    """Build the prompt: what the user likes, the request, then numbered candidates."""
    known = "\n".join(f"- {text}" for text in memories) or "- (nothing yet)"
    wanted = f"\n\nWhat the user asks for now: {request}" if request else ""
    offered = "\n".join(f"{number}. {text}" for number, text in enumerate(candidates, 1))
    return [
        SystemMessage(
            "You order recommendations for a user. Put first the candidates that best fit "
            "what the user likes and asks for. Answer with the candidates' numbers, best "
            "first, each number once."
        ),
        HumanMessage(f"What the user likes:\n{known}{wanted}\n\nCandidates:\n{offered}"),
    ]


def accepted_order(answer: RerankOrder, count: int) -> list[int] | None:
    """Return 0-based positions of all ``count`` candidates in the model's order, or None.

    Numbers outside ``1..count`` and repeats are dropped; candidates the answer left out follow
    in their original order. None when no offered number remains.

    Example:
        >>> accepted_order(RerankOrder(order=[3, 9, 3, 1]), 4)
        [2, 0, 1, 3]
    """
    chosen = list(dict.fromkeys(n - 1 for n in answer.order if 1 <= n <= count))
    if not chosen:
        return None
    return chosen + [position for position in range(count) if position not in chosen]


async def arerank(
    model: BaseChatModel,
    memories: Sequence[str],
    candidates: Sequence[str],
    request: str | None = None,
    retries: int = 1,
) -> list[int]:
    """Return the 0-based positions of ``candidates`` (descriptions) in the model's order.

    Args:
        model: The chat model.
        memories: What the memory says about the user's tastes.
        candidates: One description per candidate (title, genres...), at most
            :data:`MAX_CANDIDATES`.
        request: What the user asks for now, if anything.
        retries: Attempts after the first when an answer is unusable.

    Raises:
        StructuredOutputError: The model gave no usable answer in ``retries + 1`` attempts.
    """
    offered = list(candidates)[:MAX_CANDIDATES]
    ranked = await ask_structured(
        model,
        order_schema(len(offered)),
        rerank_prompt(memories, offered, request),
        lambda answer: accepted_order(answer, len(offered)),
        retries=retries,
        what="recommendation rerank",
    )
    return ranked + list(range(len(offered), len(candidates)))
