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
:mod:`confidante.memory.summaries.facts`), at most ``max_items`` of them picked among the best
matches of the task's query by relevance and unlikeness to each other
(:func:`~confidante.memory.summaries.facts.diverse`), and, for tasks that read them, the user's
latest messages; asks the chat model for JSON constrained by :func:`summary_schema` (a grammar
on llama.cpp, whose ``maxLength`` is the task's :attr:`TaskSpec.max_chars`); drops sentences
that repeat an earlier one or name a number or a name absent from the data
(:func:`keep_grounded`); and stores the result with the :class:`Watermark` of the data it saw.
No memory about someone else is shown to the model, so it has no other person's taste to
attribute to the user (the ``search`` prompt also shows the user's own latest messages, as
written). The graph's ``recall`` node places the summary whose task fits the message
(:func:`~confidante.memory.summaries.facts.pick_summary`).

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
from pathlib import PurePath
from typing import TYPE_CHECKING

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AnyMessage, HumanMessage, SystemMessage
from langchain_core.runnables import RunnableConfig
from sqlmodel import Session, col, select

from confidante.memory.embeddings.images import IMAGE_KIND
from confidante.memory.items import UNRECALLED_KINDS, check_user_id
from confidante.memory.storage.records import Event, utcnow
from confidante.memory.summaries.facts import diverse, drop_repeats, own_statements
from confidante.memory.summaries.store import (
    SummaryView,
    current_watermark,
    delete_summary,
    soonest_expiry,
    store_summary,
)
from confidante.memory.summaries.tasks import (
    TASK_SPECS,
    TaskSpec,
    UserSummary,
    check_task,
    summary_schema,
)
from confidante.models.structured import ask_structured

if TYPE_CHECKING:
    from confidante.memory.store import Memory

logger = logging.getLogger(__name__)

#: The user's own statements a summary prompt shows at most (best matches of the task first).
MAX_ITEMS = 48
MAX_ITEM_CHARS = 200
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


def model_label(model: BaseChatModel) -> str:
    """Return a short name of a chat model, stored with the summaries it writes."""
    name = getattr(model, "model_name", None) or getattr(model, "model", None)
    if isinstance(name, str) and name:
        return name[:200]
    path = getattr(model, "model_path", None)  # the embedded model: its GGUF file
    if path:
        return PurePath(str(path)).name[:200]
    return model._llm_type[:200]


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

    The statements are :func:`~confidante.memory.summaries.facts.own_statements` over all the
    user's items but reminders and tool outcomes; among the :data:`DIVERSE_POOL` best matches
    of the task's query, :func:`~confidante.memory.summaries.facts.diverse` picks at most
    ``max_items``, in the order picked (the most relevant first: a small model keeps the order
    it is given).
    """
    spec = TASK_SPECS[check_task(task)]
    unsaid = {"reminder", *UNRECALLED_KINDS}  # what the user asked for or decided, not facts
    items = [item for item in await memory.alist_items(user_id) if item.kind not in unsaid]
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


#: Sentences that retell the user's questions as facts about them.
_ASKING = re.compile(
    r"\b(?:is|was|has been) (?:asking|wondering|curious)\b|\b(?:asked|asks|wants to know|"
    r"would like to know|wonders|inquired|enquired) (?:about|what|where|who|when|how|why|if|"
    r"whether|for)\b",
    re.I,
)


def keep_grounded(summary: str, source: str) -> str:
    """Drop the sentences of ``summary`` that name something absent from ``source``.

    A sentence is kept when each of its numbers and capitalised words (after its first word)
    occurs in the prompt's data, so an invented age, date or name never reaches a prompt. A
    sentence that retells a question as news about the user ("The user is asking about their
    dog's name.") is dropped too: asking says nothing about who the user is.
    """
    said = source.lower()
    kept = []
    for raw in _SENTENCE.findall(" ".join(summary.split())):
        sentence = raw.strip()
        if _ASKING.search(sentence):
            continue
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
    config: RunnableConfig | None = None,
) -> str:
    """Ask the model for a summary (answer ``schema``) and return its grounded, cleaned text.

    Sentences that repeat an earlier one are dropped, then those naming something absent from
    the data (:func:`keep_grounded`). ``config`` goes with each model call (callbacks, tags).

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
        config=config,
    )


async def generate_summary(
    memory: Memory,
    model: BaseChatModel,
    user_id: str,
    task: str,
    *,
    retries: int = 1,
    max_items: int = MAX_ITEMS,
    config: RunnableConfig | None = None,
) -> SummaryView | None:
    """Write (or rewrite) the user's summary for ``task`` and return it.

    The prompt shows at most ``max_items`` of the user's own statements, picked by relevance to
    the task and unlikeness to each other (default :data:`MAX_ITEMS`, sized for a small local
    model's context). ``config`` goes with each model call: the job passes a
    :class:`~confidante.usage.UsageRecorder` and the ``summary`` kind's tag, so that what the
    summary cost is logged.

    Returns None, and deletes any stored summary for the task, when the user has nothing the
    task could use (a summary of forgotten data must not outlive it).

    Raises:
        StructuredOutputError: The model's output never validated.
    """
    check_user_id(user_id)
    with_messages = TASK_SPECS[check_task(task)].messages > 0
    watermark, expires_at = await memory.database.run(
        lambda session: (
            current_watermark(session, user_id, with_messages),
            soonest_expiry(session, user_id),
        )
    )
    facts, messages = await collect_context(memory, user_id, task, max_items)
    if not facts and not messages:
        await memory.database.run(lambda session: delete_summary(session, user_id, task))
        return None
    prompt = summary_messages(task, facts, messages)
    writer = with_room(model, TASK_SPECS[task].max_chars)
    text = await ask_summary(writer, prompt, retries, summary_schema(task), config)
    view = SummaryView(
        user_id=user_id,
        task=task,
        text=text,
        model=model_label(model),
        created_at=utcnow(),
        watermark=str(watermark),
        expires_at=expires_at,
    )
    await memory.database.run(lambda session: store_summary(session, view))
    logger.debug("summary %s/%s written at %s", user_id, task, watermark)
    return view


__all__ = [
    "ask_summary",
    "collect_context",
    "generate_summary",
    "keep_grounded",
    "model_label",
    "summary_messages",
    "with_room",
]
