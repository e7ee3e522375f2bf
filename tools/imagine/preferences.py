"""Preference extraction (PMG step 1): the user's behaviour as text, then keywords from the model.

:func:`collect_behaviour` reads ONE user's memory and turns it into natural language: the
memories that best match the user's visual taste and the request (liked items, facts,
preferences; reminders left out), the image concepts the user kept (their captions), the
user's latest messages, and the offline ``image`` summary when it is still usable. Nothing is
read from personas, the global scope or another user.

:func:`extract_keywords` asks the chat model for :class:`ImageKeywords` (structured output via
:func:`~confidante.models.structured.ask_structured`): **preference** keywords (what the user
likes to see) and **target** keywords (what the request asks to draw). Preference keywords
none of whose words occur in the user's data are dropped, so the model cannot invent a taste;
when the model gives no usable target, the request's own words are used.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AnyMessage, HumanMessage, SystemMessage
from pydantic import BaseModel, Field

from confidante.errors import InvalidInputError
from confidante.memory.store import Memory, check_user_id
from confidante.models.structured import ask_structured

#: What the retrieval of behaviour looks for, besides the request itself.
TASTE_QUERY = "what the user likes to see: colours, styles, art, places, pets, films, pictures"
MAX_BEHAVIOUR = 12
MAX_MESSAGES = 4
MAX_KEYWORDS = 8
MAX_LINE_CHARS = 200
BEHAVIOUR_HEADER = "What the user did and said:"
SUMMARY_HEADER = "Summary of the user's visual taste:"
REQUEST_HEADER = "Request:"

KEYWORDS_PROMPT = """You help an image generator draw pictures a user will like.
From the user's data, list "preference": up to 8 short visual keywords (one to three words
each: styles, colours, moods, subjects, places) that the user likes. Use only the data given;
an empty list is fine. From the request, list "target": up to 8 short keywords naming what
to draw. Example answer:
{"preference": ["watercolor", "teal", "beagle"], "target": ["birthday card", "balloons"]}"""

_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    "a an the of for with in on at and or to my me i is are be it this that some any".split()
)


class ImageKeywords(BaseModel):
    """The model's answer: preference keywords from the user's data, target keywords."""

    preference: list[str] = Field(
        default_factory=list, max_length=16, description="visual keywords the user likes"
    )
    target: list[str] = Field(
        default_factory=list, max_length=16, description="keywords naming what to draw"
    )


@dataclass(frozen=True)
class ImageConcept:
    """An image the user kept in memory.

    Attributes:
        id: The memory item's id.
        caption: Its text.
        image_path: The stored file, when the memory gives one.
    """

    id: str
    caption: str
    image_path: str | None = None


@dataclass(frozen=True)
class Behaviour:
    """One user's behaviour, in natural language.

    Attributes:
        lines: Statements from memory and the user's latest messages, best match first.
        images: The image concepts among the memories.
        summary: The offline ``image`` summary, when it exists and is usable.
    """

    lines: list[str] = field(default_factory=list)
    images: list[ImageConcept] = field(default_factory=list)
    summary: str | None = None

    def text(self) -> str:
        """Everything the prompt shows about the user, for grounding checks."""
        return " ".join([*self.lines, self.summary or ""])


@dataclass(frozen=True)
class Keywords:
    """The outcome of preference extraction.

    Attributes:
        preference: Grounded preference keywords (may be empty).
        target: Target keywords (never empty).
        behaviour: What they were extracted from.
    """

    preference: list[str]
    target: list[str]
    behaviour: Behaviour


def _clip(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= MAX_LINE_CHARS else flat[: MAX_LINE_CHARS - 1].rstrip() + "…"


async def _latest_messages(memory: Memory, user_id: str, limit: int) -> list[str]:
    """The user's ``limit`` latest chat messages, clipped, oldest first."""
    if limit <= 0:
        return []
    return [_clip(m.text) for m in reversed(await memory.arecent_messages(user_id, limit))]


async def collect_behaviour(
    memory: Memory,
    user_id: str,
    request: str,
    *,
    k: int = MAX_BEHAVIOUR,
    messages: int = MAX_MESSAGES,
) -> Behaviour:
    """Read one user's behaviour relevant to an image request (see the module docstring)."""
    check_user_id(user_id)
    hits = await memory.aretrieve(user_id, f"{request}. {TASTE_QUERY}", k=2 * k, fallback=False)
    lines: list[str] = []
    images: list[ImageConcept] = []
    for hit in hits:
        if hit.kind == "reminder":
            continue
        if hit.kind == "image":
            images.append(ImageConcept(hit.id, hit.text, hit.image_path))
            lines.append(f"The user kept a picture: {_clip(hit.text)}")
        else:
            lines.append(_clip(hit.text))
        if len(lines) >= k:
            break
    lines += [
        f'The user said: "{text}"' for text in await _latest_messages(memory, user_id, messages)
    ]
    view = await memory.asummary(user_id, "image")
    summary = view.text if view is not None and view.usable else None
    return Behaviour(lines=lines, images=images, summary=summary)


def keyword_messages(behaviour: Behaviour, request: str) -> list[AnyMessage]:
    """Build the prompt asking for :class:`ImageKeywords`."""
    text = BEHAVIOUR_HEADER + "\n" + "\n".join(f"- {line}" for line in behaviour.lines or ["-"])
    if behaviour.summary:
        text += f"\n\n{SUMMARY_HEADER} {behaviour.summary}"
    text += f"\n\n{REQUEST_HEADER} {request}"
    return [SystemMessage(KEYWORDS_PROMPT), HumanMessage(text)]


def _words(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in _STOP and len(word) > 1}


def _tidy(keywords: list[str]) -> list[str]:
    kept: dict[str, None] = {}
    for keyword in keywords:
        phrase = " ".join(keyword.split()).strip(" .,;:!?\"'").lower()
        if phrase and len(phrase) <= 60:
            kept[phrase] = None
    return list(kept)[:MAX_KEYWORDS]


def ground(keywords: ImageKeywords, behaviour: Behaviour, request: str) -> Keywords:
    """Keep preference keywords found in the user's data; fall back to the request's words."""
    said = _words(behaviour.text())
    preference = [kw for kw in _tidy(keywords.preference) if _words(kw) & said]
    target = _tidy(keywords.target) or _tidy(sorted(_words(request), key=request.lower().find))
    return Keywords(preference=preference, target=target or [request.strip()], behaviour=behaviour)


async def extract_keywords(
    memory: Memory,
    model: BaseChatModel,
    user_id: str,
    request: str,
    *,
    retries: int = 1,
) -> Keywords:
    """Collect the user's behaviour and ask the chat model for preference and target keywords.

    Raises:
        InvalidInputError: The request is empty.
        StructuredOutputError: The model's output never validated.
    """
    if not isinstance(request, str) or not request.strip():
        raise InvalidInputError("the image request must be a non-empty string")
    behaviour = await collect_behaviour(memory, user_id, request)
    return await ask_structured(
        model,
        ImageKeywords,
        keyword_messages(behaviour, request),
        lambda result: ground(result, behaviour, request),
        retries=retries,
        what="preference extraction",
    )


__all__ = [
    "KEYWORDS_PROMPT",
    "Behaviour",
    "ImageConcept",
    "ImageKeywords",
    "Keywords",
    "collect_behaviour",
    "extract_keywords",
    "ground",
    "keyword_messages",
]
