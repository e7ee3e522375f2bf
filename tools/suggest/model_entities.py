"""Optional entity extraction by the chat model (structured output), checked against the text.

The model returns :class:`ActivityEntities`; an entity is kept only if each of its words occurs
in the text (the model may pick and name, not invent). Use the result as
``Activity(..., extra_entities=...)``; the rule-based extractor still runs, so a model failure
only loses the extra entities (:func:`aextract_entities` then returns an empty tuple and logs a
warning).
"""

from __future__ import annotations

import logging
import re

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from confidante.errors import StructuredOutputError
from confidante.models.structured import ask_structured

__all__ = ["ActivityEntities", "aextract_entities", "scripted_entities"]

logger = logging.getLogger(__name__)

PROMPT = """List the entities and topics (people, places, organisations, products, subjects)
of the user's search query or page title, in lower case, using only words from it.
Answer with JSON: {"entities": ["...", "..."]}."""
_WORD = re.compile(r"[a-z0-9]+")


class ActivityEntities(BaseModel):
    """The model's answer: the entities of one query, title or topic."""

    entities: list[str] = Field(max_length=8, description="entities, lower case")


async def aextract_entities(model: BaseChatModel, text: str) -> tuple[str, ...]:
    """Return the grounded entities the chat model finds in ``text`` (empty on failure)."""
    words = set(_WORD.findall(text.lower()))

    def accept(answer: ActivityEntities) -> tuple[str, ...] | None:
        kept: list[str] = []
        for raw in answer.entities:
            name = " ".join(_WORD.findall(raw.lower()))
            if name and set(name.split()) <= words and name not in kept:
                kept.append(name)
        return tuple(kept)

    prompt = [SystemMessage(PROMPT), HumanMessage(text)]
    try:
        return await ask_structured(model, ActivityEntities, prompt, accept, what="entities")
    except StructuredOutputError as exc:
        logger.warning("entity extraction by the model failed: %s", exc)
        return ()


def scripted_entities(payload: dict[str, object]) -> dict[str, list[str]]:
    """The scripted model's rule: capitalised words of the text, and any word of 6+ letters."""
    messages = payload.get("messages") or []
    text = str(messages[-1].get("content") or "") if isinstance(messages, list) else ""
    found = [w.lower() for w in re.findall(r"\b(?:[A-Z]\w+|\w{6,})\b", text)]
    return {"entities": list(dict.fromkeys(found))}
