"""Optional model rerank: the chat model orders the candidates and writes one reason each.

Recommendation as language (the P5 idea): the model sees the user's relevant memories and the
candidates, and returns them best first with a one-line reason grounded in those memories,
as JSON constrained by :class:`RecommendationReasons`. Its answer is accepted only when it
names candidates that were offered (unknown ids dropped, at least one kept); a reason is one
short line, or empty when the memories say nothing about the item (the caller then keeps its
own reason); candidates it left out keep their order after the ones it ranked.
"""

from __future__ import annotations

from collections.abc import Sequence

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from confidante.models.structured import ask_structured

MAX_REASON_CHARS = 160


class ReasonedItem(BaseModel):
    """One recommended item and why."""

    item_id: str = Field(description="the id of a candidate, exactly as given")
    reason: str = Field(
        description="one line: why this user would like it, citing their memories",
        max_length=MAX_REASON_CHARS,
    )


class RecommendationReasons(BaseModel):
    """The candidates in the order to recommend them, each with a reason."""

    items: list[ReasonedItem] = Field(max_length=50)


def rerank_prompt(
    memories: Sequence[str], candidates: Sequence[tuple[str, str]]
) -> list[SystemMessage | HumanMessage]:
    """Build the prompt: numbered memories, then ``id: description`` candidates."""
    known = "\n".join(f"[{i}] {text}" for i, text in enumerate(memories, 1)) or "(nothing yet)"
    offered = "\n".join(f"- {item_id}: {text}" for item_id, text in candidates)
    return [
        SystemMessage(
            "You recommend items to a user. Order the candidates from best to worst for this "
            "user and give each a one-line reason that cites what the memories say about "
            "them. Use only candidate ids from the list. Never invent facts about the user."
        ),
        HumanMessage(f"What I know about the user:\n{known}\n\nCandidates:\n{offered}"),
    ]


async def arerank(
    model: BaseChatModel,
    memories: Sequence[str],
    candidates: Sequence[tuple[str, str]],
    retries: int = 1,
) -> list[tuple[str, str]]:
    """Return ``(item_id, reason)`` for every candidate, in the model's order.

    Raises:
        StructuredOutputError: The model gave no usable answer in ``retries + 1`` attempts.
    """
    offered = [item_id for item_id, _ in candidates]

    def accept(answer: RecommendationReasons) -> list[tuple[str, str]] | None:
        ranked: list[tuple[str, str]] = []
        seen: set[str] = set()
        for entry in answer.items:
            reason = " ".join(entry.reason.split())
            if entry.item_id in offered and entry.item_id not in seen:
                ranked.append((entry.item_id, reason))
                seen.add(entry.item_id)
        if not ranked:
            return None
        return ranked + [(item_id, "") for item_id in offered if item_id not in seen]

    return await ask_structured(
        model,
        RecommendationReasons,
        rerank_prompt(memories, candidates),
        accept,
        retries=retries,
        what="recommendation rerank",
    )
