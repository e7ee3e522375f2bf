"""Optional chat-model rerank of the suggestions, which may also rewrite them.

The model sees the session, the user's top entities, the offline "search" summary and the
candidates, and returns the best next queries.

The answer is constrained by :class:`SuggestedQueries` (JSON schema) through
:func:`~confidante.models.structured.ask_structured`. A returned query that is a candidate
keeps the candidate's entities and sources; a new one (a rewrite) is kept only when each of its
words appears in the session, the candidates or the user's entities (so the model cannot bring
in anything unrelated), and is marked with the source ``model``. The fast ranking fills the
list up to ``k``. If the model gives nothing usable the fast ranking is returned, with a
warning in the log.

:func:`scripted_rerank` is the rule the package's scripted model uses in tests and examples
(``ScriptedChatModel(function=scripted_rerank)``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from confidante.errors import StructuredOutputError
from confidante.models.structured import ask_structured
from confidante.tools.suggest.profile import UserProfile
from confidante.tools.suggest.ranker import Suggestion
from confidante.tools.suggest.text import extract_entities, normalise_query

__all__ = ["SuggestedQueries", "arerank", "build_prompt", "rerank_model", "scripted_rerank"]

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = """You suggest the next web searches of a user.
Pick the candidates that best continue the session and fit what the user cares about, best
first. You may rewrite a candidate to be more specific, using only words from the session, the
candidates or the user's interests. Answer with JSON: {"queries": ["...", "..."]}."""
_CANDIDATES = "Candidates:"
_ENTITIES = "User's interests:"
_WORD = re.compile(r"[a-z0-9]+")


class SuggestedQueries(BaseModel):
    """The model's answer: the next queries, best first."""

    queries: list[str] = Field(max_length=20, description="next search queries, best first")


def build_prompt(
    session: Sequence[str], entities: Sequence[str], summary: str, candidates: Sequence[Suggestion]
) -> list[SystemMessage | HumanMessage]:
    """Return the rerank prompt (system rules; session, interests, summary, candidates)."""
    lines = ["Session so far: " + " | ".join(session) if session else "Session so far: (empty)"]
    lines.append(f"{_ENTITIES} " + ", ".join(entities))
    if summary:
        lines.append(f"About the user: {summary}")
    lines.append(_CANDIDATES)
    lines += [f"- {c.query}" for c in candidates]
    return [SystemMessage(SYSTEM_PROMPT), HumanMessage("\n".join(lines))]


async def arerank(
    model: BaseChatModel,
    session: Sequence[str],
    profile: UserProfile,
    summary: str,
    candidates: Sequence[Suggestion],
    k: int,
) -> list[Suggestion]:
    """Rerank (and possibly rewrite) ``candidates`` with the chat model; returns ``k`` at most."""
    entities = [name for name, _ in profile.top_entities(10)]
    by_query = {c.query: c for c in candidates}
    allowed = set(_WORD.findall(" ".join([*session, *by_query, *entities, summary]).lower()))

    def accept(answer: SuggestedQueries) -> list[Suggestion] | None:
        chosen: list[Suggestion] = []
        for raw in answer.queries:
            query = normalise_query(raw)
            if not query or any(s.query == query for s in chosen):
                continue
            if query in by_query:
                chosen.append(by_query[query])
            elif set(_WORD.findall(query)) <= allowed:
                names = [e for e in extract_entities(query) if e in profile.entities]
                chosen.append(Suggestion(query=query, score=0.0, entities=names, sources=["model"]))
        return chosen or None

    prompt = build_prompt(session, entities, summary, candidates)
    try:
        chosen = await ask_structured(model, SuggestedQueries, prompt, accept, what="query rerank")
    except StructuredOutputError as exc:
        logger.warning("query rerank failed, keeping the fast ranking: %s", exc)
        return list(candidates[:k])
    rest = [c for c in candidates if all(c.query != s.query for s in chosen)]
    return (chosen + rest)[:k]


def scripted_rerank(payload: dict[str, Any]) -> dict[str, Any]:
    """The scripted model's rule: candidates naming one of the user's interests come first.

    Reads the request body the scripted model receives (the prompt of :func:`build_prompt`).
    """
    text = ""
    for message in payload.get("messages", []):
        if message.get("role") == "user":
            text = str(message.get("content") or "")
    interests: list[str] = []
    candidates: list[str] = []
    in_candidates = False
    for line in text.splitlines():
        if line.startswith(_ENTITIES):
            interests = [e.strip() for e in line[len(_ENTITIES) :].split(",") if e.strip()]
        elif line.startswith(_CANDIDATES):
            in_candidates = True
        elif in_candidates and line.startswith("- "):
            candidates.append(line[2:])
    liked = [c for c in candidates if any(e in c for e in interests)]
    others = [c for c in candidates if c not in liked]
    return {"queries": (liked + others)[:10]}


def rerank_model(model: BaseChatModel) -> BaseChatModel:
    """Return ``model`` ready to rerank: a scripted model without a rule gets one.

    The rule is :func:`scripted_rerank` (``confidante suggest --rerank`` and the benchmark).
    """
    from confidante.models.scripted import ScriptedChatModel

    if isinstance(model, ScriptedChatModel) and model.function is None:
        model.function = scripted_rerank
    return model
