"""Fact extraction: turn a user's message into memory items with the chat model.

The model answers with JSON constrained by :class:`FactExtraction` (a grammar on llama.cpp,
validation elsewhere). Output is then checked against the message: a fact whose value does not
appear in what the user said is dropped, so a small model cannot invent "weather: sunny" from
a question. Questions alone are not sent to the model at all.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from confidante.memory.store import Memory, MemoryItem, normalise_key
from confidante.models.structured import ask_structured

logger = logging.getLogger(__name__)

STABLE_SLOTS = (
    "name",
    "home_city",
    "employer",
    "job",
    "diet",
    "partner_name",
    "pet_name",
    "dog_name",
    "cat_name",
    "birthday",
    "language",
)

EXTRACTION_PROMPT = """You extract facts about the user from the user's message.
Return JSON: {{"facts": [{{"key": ..., "value": ..., "statement": ...}}]}}.
- Only facts the user states about themselves or their life. Never facts from questions.
- "value": the exact words from the message (a name, a city, a food...).
- "statement": one short sentence in the third person about "the user".
- "key": a snake_case slot. Use one of these when it fits: {slots}. Otherwise invent a short
  specific key (e.g. "favourite_sport", "sister_name").
- If the message states no fact, return {{"facts": []}}.

Example message: "I work at Acme as a nurse and my cat is called Tom."
Example answer: {{"facts": [
 {{"key": "employer", "value": "Acme", "statement": "The user works at Acme."}},
 {{"key": "job", "value": "nurse", "statement": "The user works as a nurse."}},
 {{"key": "cat_name", "value": "Tom", "statement": "The user's cat is called Tom."}}]}}"""


class ExtractedFact(BaseModel):
    """One fact stated by the user."""

    key: str = Field(description="snake_case slot, e.g. home_city")
    value: str = Field(description="the value, in the user's words")
    statement: str = Field(description="a short third-person sentence about the user")


class FactExtraction(BaseModel):
    """The facts found in one message."""

    facts: list[ExtractedFact]


_SENTENCE = re.compile(r"[^.!?\n]+[.!?]?")
_WORD = re.compile(r"[a-z0-9à-ÿ]+")


def states_something(message: str) -> bool:
    """Return True when the message has at least one sentence that is not a question."""
    for sentence in _SENTENCE.findall(message):
        stripped = sentence.strip()
        if stripped and not stripped.endswith("?") and len(_WORD.findall(stripped.lower())) > 1:
            return True
    return False


def is_grounded(fact: ExtractedFact, message: str) -> bool:
    """Return True when the fact's value was said by the user and appears in its statement.

    Every content word of the value must occur in the message (no invented values), and in
    the statement (so the stored sentence carries the value it claims).
    """
    said = set(_WORD.findall(message.lower()))
    stated = set(_WORD.findall(fact.statement.lower()))
    words = [word for word in _WORD.findall(fact.value.lower()) if len(word) > 2 or word.isdigit()]
    return bool(words) and all(word in said and word in stated for word in words)


async def extract_facts(
    model: BaseChatModel, message: str, retries: int = 1
) -> list[ExtractedFact]:
    """Extract grounded facts from a user message.

    Args:
        model: A chat model supporting ``with_structured_output``.
        message: What the user said.
        retries: Extra attempts when the output does not validate.

    Raises:
        StructuredOutputError: The output never validated.
    """
    if not states_something(message):
        return []
    prompt = [
        SystemMessage(EXTRACTION_PROMPT.format(slots=", ".join(STABLE_SLOTS))),
        HumanMessage(message),
    ]

    def grounded(result: FactExtraction) -> list[ExtractedFact]:
        facts = []
        for fact in result.facts:
            if not is_grounded(fact, message) or not fact.statement.strip():
                logger.info("dropped an ungrounded fact (key %s)", fact.key)
                continue
            facts.append(fact.model_copy(update={"key": normalise_key(fact.key) or "fact"}))
        return facts

    return await ask_structured(
        model, FactExtraction, prompt, grounded, retries=retries, what="fact extraction"
    )


async def learn(
    memory: Memory, model: BaseChatModel, user_id: str, event_id: str, text: str
) -> list[dict[str, Any]]:
    """Extract facts from one stored turn and remember them, recording the outcome on the turn.

    The turn's ``extraction`` becomes ``done`` (in the same transaction as the facts, with one
    embedding call for all of them) or ``failed`` (with the error), so a failure is never
    silent and can be retried later (:meth:`confidante.Agent.aretry_extractions`).

    Returns:
        The items written: ``{"id", "key", "text"}`` each.
    """
    remembered: list[dict[str, Any]] = []
    try:
        facts = await extract_facts(model, text)
        items = [
            MemoryItem(
                text=fact.statement,
                key=fact.key,
                provenance=[event_id],
                attributes={"value": fact.value},
            )
            for fact in facts
        ]
        # the facts and the turn's "done" in one transaction (one embedding call)
        ids = await memory.aremember_learned(user_id, event_id, items)
        remembered = [
            {"id": item_id, "key": fact.key, "text": fact.statement}
            for item_id, fact in zip(ids, facts, strict=True)
        ]
    except Exception as exc:  # noqa: BLE001 - recorded on the turn for a later retry
        # the error may quote the model's output, hence the user's words: not in the log
        logger.warning("fact extraction failed for event %s: %s", event_id, type(exc).__name__)
        await memory.amark_event(user_id, event_id, "failed", f"{type(exc).__name__}: {exc}")
    return remembered
