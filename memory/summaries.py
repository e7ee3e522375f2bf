"""Offline task-aware summaries of a user: the "summary" half of adaptation A.

One summary per user and task, each a short profile for one use:

| task               | profile                                           | reads messages |
|--------------------|---------------------------------------------------|----------------|
| ``chat``           | who the user is: life, people, pets, what matters | no             |
| ``recommendation`` | tastes: likes, dislikes, diet, hobbies            | no             |
| ``search``         | interests: work, place, topics, recent questions  | last 4         |
| ``image``          | visual taste: colours, styles, places, pets       | no             |

:func:`generate_summary` collects the user's own statements over all their memories (the
memories whose subject is the user and that involve no other person the memory knows; pictures
the user kept count as "The user kept a picture: ..."; reminders are left out; see
:mod:`confidante.memory.summary_facts`), at most ``max_items`` of them picked among the best
matches of the task's query by relevance and unlikeness to each other
(:func:`~confidante.memory.summary_facts.diverse`), and, for tasks that read them, the user's
latest messages; asks the chat model for JSON constrained by :func:`summary_schema` (a grammar
on llama.cpp, whose ``maxLength`` is the task's :attr:`TaskSpec.max_chars`); drops sentences
that repeat an earlier one or name a number or a name absent from the data
(:func:`keep_grounded`); and stores the result with the :class:`Watermark` of the data it saw.
No memory about someone else is shown to the model, so it has no other person's taste to
attribute to the user (the ``search`` prompt also shows the user's own latest messages, as
written). The graph's ``recall`` node places the summary whose task fits the message
(:func:`~confidante.memory.summary_facts.pick_summary`).

The watermark counts the user's audit entries (``add`` apart from every other action) and, for
tasks that read messages, the user's messages. Both tables are append-only per user (only
``forget_user`` deletes from them, and it deletes the summaries too), so equal counts mean equal
data: the check is exact and costs a few indexed ``COUNT`` queries. It is read before the
data, so a write racing with generation makes the new summary stale, never wrongly fresh.
A summary is ``stale`` once the watermark moves, and stays ``usable`` at run time while only
additions happened (retrieval brings the new items); once an item was edited, superseded or
forgotten the summary may describe it, so it is no longer usable until it is regenerated.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import PurePath

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AnyMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field, create_model
from sqlmodel import Session, col, select

from confidante.errors import InvalidInputError
from confidante.memory.database import Database
from confidante.memory.images import IMAGE_KIND
from confidante.memory.records import Event, utcnow
from confidante.memory.store import Memory, check_user_id
from confidante.memory.summary_facts import diverse, drop_repeats, own_statements
from confidante.memory.summary_store import (
    SummaryView,
    Watermark,
    current_watermark,
    delete_summary,
    load_summaries,
    store_summary,
)
from confidante.models.structured import ask_structured

logger = logging.getLogger(__name__)

TASKS: tuple[str, ...] = ("chat", "recommendation", "search", "image")
#: The user's own statements a summary prompt shows at most (best matches of the task first).
MAX_ITEMS = 48
MAX_ITEM_CHARS = 200
MAX_SUMMARY_CHARS = 480
#: How many of the user's items are ranked by the task's query; the rest keep stored order.
RANK_LIMIT = 5_000
#: The best-matching own statements among which :func:`diverse` picks (they are embedded again).
DIVERSE_POOL = 400
FACTS_HEADER = "Facts about the user:"
MESSAGES_HEADER = "Recent messages from the user:"

SUMMARY_PROMPT = """You summarise what an assistant knows about its user, for {purpose}.
Use only the facts given. Never add anything else: no age, gender, feelings or guesses.
Start with the facts that matter most for this; leave out the others.
Short sentences about "the user"; say each thing once.
Example facts: "- The user's cat is called Tom. - The user works as a teacher."
Example answer: {{"summary": "The user works as a teacher and has a cat called Tom."}}"""


@dataclass(frozen=True)
class TaskSpec:
    """How the summary of one task is made.

    Attributes:
        purpose: What the summary is for, as told to the model.
        query: The retrieval query that picks the memories when the user has many.
        messages: How many of the user's latest messages the prompt shows (0: none).
        max_chars: The longest summary accepted (the schema's ``maxLength``).
    """

    purpose: str
    query: str
    messages: int = 0
    max_chars: int = MAX_SUMMARY_CHARS


TASK_SPECS: dict[str, TaskSpec] = {
    "chat": TaskSpec(
        "chatting with the user (who they are, their life, people and pets, what they care about)",
        "the user's name, home, work, family, pets and what they care about",
    ),
    "recommendation": TaskSpec(
        "recommending things the user will like (tastes, likes, dislikes, diet, hobbies)",
        "what the user likes, loves, enjoys or dislikes: food, films, books, music, hobbies",
        max_chars=1_200,  # tastes span many facets; still a fraction of the memories they cover
    ),
    "search": TaskSpec(
        "suggesting web searches (the user's interests, work, place and recent questions)",
        "the user's interests, work, studies, city and hobbies",
        messages=4,
        max_chars=600,
    ),
    "image": TaskSpec(
        "making pictures the user will like (visual taste, colours, styles, places, pets)",
        "the user's favourite colours, art, style, places, pets and things they like to see",
        max_chars=600,
    ),
}


class UserSummary(BaseModel):
    """The model's answer: a short summary of the user for one task (``chat``'s length cap)."""

    summary: str = Field(
        min_length=1,
        max_length=MAX_SUMMARY_CHARS,
        description="short sentences about the user",
    )


@cache
def summary_schema(task: str) -> type[UserSummary]:
    """The answer schema of one task: :class:`UserSummary` with the task's length cap."""
    cap = TASK_SPECS[check_task(task)].max_chars
    if cap == MAX_SUMMARY_CHARS:
        return UserSummary
    field = Field(min_length=1, max_length=cap, description="short sentences about the user")
    return create_model("UserSummary", __base__=UserSummary, summary=(str, field))


def check_task(task: str) -> str:
    """Validate a task name (one of :data:`TASKS`)."""
    if task not in TASK_SPECS:
        raise InvalidInputError(f"unknown summary task {task!r}; use one of {', '.join(TASKS)}")
    return task


def model_label(model: BaseChatModel) -> str:
    """Return a short name of a chat model, stored with the summaries it writes."""
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    if isinstance(name, str) and name:
        return name[:200]
    path = getattr(model, "model_path", None)  # the embedded model: its GGUF file
    if path:
        return PurePath(str(path)).name[:200]
    return model._llm_type[:200]


async def read_summary(database: Database, user_id: str, task: str) -> SummaryView | None:
    """Return the user's summary for ``task``, or None if none was generated."""
    return (await read_summaries(database, user_id, [task])).get(task)


async def read_summaries(
    database: Database, user_id: str, tasks: Sequence[str]
) -> dict[str, SummaryView]:
    """Return the user's summaries of ``tasks`` that were generated, by task (one round trip)."""
    check_user_id(user_id)
    flags = {task: TASK_SPECS[check_task(task)].messages > 0 for task in tasks}
    return await database.run(lambda session: load_summaries(session, user_id, flags), write=False)


def summary_messages(task: str, facts: list[str], messages: list[str]) -> list[AnyMessage]:
    """Build the small prompt asking for one task's summary."""
    text = FACTS_HEADER + "\n" + "\n".join(f"- {fact}" for fact in facts)
    if messages:
        text += f"\n\n{MESSAGES_HEADER}\n" + "\n".join(f"- {message}" for message in messages)
    purpose = TASK_SPECS[check_task(task)].purpose
    return [SystemMessage(SUMMARY_PROMPT.format(purpose=purpose)), HumanMessage(text)]


def _clip(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_ITEM_CHARS else flat[: MAX_ITEM_CHARS - 1].rstrip() + "…"


def _statement(text: str, kind: str) -> str:
    return f"The user kept a picture: {text}" if kind == IMAGE_KIND else text


async def _pick(memory: Memory, texts: list[str], spec: TaskSpec, k: int) -> list[int]:
    """The indices of the ``k`` statements a summary shows (:func:`diverse` on embeddings)."""
    if len(texts) <= 1:
        return list(range(min(k, len(texts))))
    embedder = memory.embedder
    vectors = await asyncio.to_thread(embedder.embed_documents, texts)
    query = await asyncio.to_thread(embedder.embed_query, spec.query)
    return diverse(np.asarray(vectors, dtype=np.float32), np.asarray(query, np.float32), k)


async def collect_context(
    memory: Memory, user_id: str, task: str, max_items: int = MAX_ITEMS
) -> tuple[list[str], list[str]]:
    """Return the user's own statements and latest messages the prompt shows.

    The statements are :func:`~confidante.memory.summary_facts.own_statements` over all the
    user's items but reminders; among the :data:`DIVERSE_POOL` best matches of the task's query,
    :func:`~confidante.memory.summary_facts.diverse` picks at most ``max_items``, in the order
    picked (the most relevant first: a small model keeps the order it is given).
    """
    spec = TASK_SPECS[check_task(task)]
    items = [item for item in await memory.alist_items(user_id) if item.kind != "reminder"]
    facts: list[str] = []
    if items:
        kinds = sorted({item.kind for item in items})
        ranked = await memory.aretrieve(
            user_id, spec.query, k=min(len(items), RANK_LIMIT), kinds=kinds, fallback=False
        )
        order = {hit.id: rank for rank, hit in enumerate(ranked)}
        items.sort(key=lambda item: order.get(item.id, len(order)))  # stable: stored order
        own = list(dict.fromkeys(own_statements(_statement(i.text, i.kind) for i in items)))
        facts = [_clip(own[n]) for n in await _pick(memory, own[:DIVERSE_POOL], spec, max_items)]
    messages: list[str] = []
    if spec.messages:

        def read(session: Session) -> list[str]:
            rows = session.exec(
                select(Event.text)
                .where(Event.user_id == user_id, Event.role == "user")
                .order_by(col(Event.created_at).desc(), col(Event.id))
                .limit(spec.messages)
            ).all()
            return [_clip(text) for text in reversed(rows)]

        messages = await memory.database.run(read, write=False)
    return facts, messages


_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
_CHECKED = re.compile(r"\b(?:\d[\w.:/-]*|[A-Z][\w'-]*)")


def keep_grounded(summary: str, source: str) -> str:
    """Drop the sentences of ``summary`` that name something absent from ``source``.

    A sentence is kept when each of its numbers and capitalised words (after its first word)
    occurs in the prompt's data, so an invented age, date or name never reaches a prompt.
    """
    said = source.lower()
    kept = []
    for raw in _SENTENCE.findall(" ".join(summary.split())):
        sentence = raw.strip()
        words = _CHECKED.findall(sentence)
        if sentence[:1].isupper():
            words = words[1:]  # the first word is capitalised anyway
        if sentence and all(word.lower().removesuffix("'s") in said for word in words):
            kept.append(sentence)
    return " ".join(kept)


def with_room(model: BaseChatModel, max_chars: int) -> BaseChatModel:
    """Return ``model``, or a copy whose ``max_tokens`` leaves room for ``max_chars`` of JSON.

    The bundled models cap generated tokens per call (the reply's cap by default), which would
    cut a longer summary's JSON in the middle.
    """
    needed = max_chars // 3 + 32  # English text runs about four characters a token
    current = getattr(model, "max_tokens", None)
    if isinstance(current, int) and current < needed:
        return model.model_copy(update={"max_tokens": needed})
    return model


async def ask_summary(
    model: BaseChatModel,
    prompt: list[AnyMessage],
    retries: int = 1,
    schema: type[UserSummary] = UserSummary,
) -> str:
    """Ask the model for a summary (answer ``schema``) and return its grounded, cleaned text.

    Sentences that repeat an earlier one are dropped, then those naming something absent from
    the data (:func:`keep_grounded`).

    Raises:
        StructuredOutputError: The output never validated or named nothing from the data.
    """
    data = str(prompt[-1].content)
    return await ask_structured(
        model,
        schema,
        prompt,
        lambda result: keep_grounded(drop_repeats(result.summary), data) or None,
        retries=retries,
        what="summary generation",
    )


async def generate_summary(
    memory: Memory,
    model: BaseChatModel,
    user_id: str,
    task: str,
    *,
    retries: int = 1,
    max_items: int = MAX_ITEMS,
) -> SummaryView | None:
    """Write (or rewrite) the user's summary for ``task`` and return it.

    The prompt shows at most ``max_items`` of the user's own statements, picked by relevance to
    the task and unlikeness to each other (default :data:`MAX_ITEMS`, sized for a small local
    model's context).

    Returns None, and deletes any stored summary for the task, when the user has nothing the
    task could use (a summary of forgotten data must not outlive it).

    Raises:
        StructuredOutputError: The model's output never validated.
    """
    check_user_id(user_id)
    with_messages = TASK_SPECS[check_task(task)].messages > 0
    watermark = await memory.database.run(
        lambda session: current_watermark(session, user_id, with_messages)
    )
    facts, messages = await collect_context(memory, user_id, task, max_items)
    if not facts and not messages:
        await memory.database.run(lambda session: delete_summary(session, user_id, task))
        return None
    prompt = summary_messages(task, facts, messages)
    writer = with_room(model, TASK_SPECS[task].max_chars)
    text = await ask_summary(writer, prompt, retries, summary_schema(task))
    view = SummaryView(
        user_id=user_id,
        task=task,
        text=text,
        model=model_label(model),
        created_at=utcnow(),
        watermark=str(watermark),
    )
    await memory.database.run(lambda session: store_summary(session, view))
    logger.debug("summary %s/%s written at %s", user_id, task, watermark)
    return view


__all__ = [
    "TASKS",
    "TASK_SPECS",
    "SummaryView",
    "TaskSpec",
    "UserSummary",
    "Watermark",
    "ask_summary",
    "check_task",
    "collect_context",
    "generate_summary",
    "keep_grounded",
    "model_label",
    "read_summaries",
    "read_summary",
    "summary_messages",
    "summary_schema",
    "with_room",
]
