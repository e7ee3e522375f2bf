"""What a summary may state, and which summary a turn uses.

**The user's own statements.** A summary describes the user, so it is made only of memories
whose subject is the user ("The user likes jazz.", "The user's dog is called Rex.") and that
involve no other person the memory knows. A person is known when a memory is about them (it
starts with their name: "Ana lives in Porto and likes jazz."); a statement about the user that
names such a person ("The user met Ana in Porto to talk about jazz.") is about the two of them,
so it is left to retrieval, except where the name is what the user or something of theirs is
called ("The user's sister is called Ana.", "The user's name is Ana."). Nothing said about
someone else reaches a summary, so a model that only rephrases cannot attribute another person's
taste to the user. The rule is lexical: someone no memory starts with is not recognised as a
person ("The user met Zoe" stays), and a statement about a person that is not phrased with the
name first is not seen as theirs. :func:`own_statements` applies the rule; :func:`diverse` then
picks the statements a summary shows, relevant to its task but unlike each other (maximal
marginal relevance), so that many statements of one kind do not crowd out the user's other
facets; :func:`drop_repeats` removes the sentences a model repeats.

**Which summary a turn uses.** :func:`task_for_message` picks, by a fixed list of cue words,
the task whose summary fits the message: asking for a picture → ``image``; asking to search or
look something up → ``search``; tastes, likes, hobbies, food, music, travel... →
``recommendation``; anything else → ``chat``. The graph's ``recall`` node places that
summary (the ``chat`` one when the task's summary is missing or no longer usable); see
:func:`pick_summary`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from confidante.memory.summaries.store import SummaryView, read_summaries

if TYPE_CHECKING:
    from confidante.memory.store import Memory

_USER_SUBJECT = re.compile(r"^the user(?:'s)?\b", re.I)
_NAME = r"[A-Z][\w'-]*(?: [A-Z][\w'-]*)*"
#: A memory about someone: it starts with a name followed by a lower-case word ("Ana lives").
_SUBJECT_NAME = re.compile(rf"^({_NAME}) (?=[a-z])")
_NAMES = re.compile(rf"\b{_NAME}")
#: Where a name is what something of the user's is called ("... is called Ana").
_CALLED = re.compile(rf"\b(?:called|named|name is) ({_NAME})")
_SENTENCE = re.compile(r"[^.!?]+[.!?]*")
#: How much unlikeness to the statements already picked counts against relevance (MMR).
DIVERSITY = 0.5

_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "image",
        re.compile(
            r"\b(?:picture|image|photo|drawing|draw|paint|painting|illustrat\w*|wallpaper|"
            r"avatar|poster)s?\b",
            re.I,
        ),
    ),
    (
        "search",
        re.compile(r"\b(?:search|look(?:ing)? up|google|news|articles?|web|online)\b", re.I),
    ),
    (
        "recommendation",
        re.compile(
            r"\b(?:recommend\w*|suggest\w*|likes?|love|loves|enjoy\w*|favou?rites?|tastes?|"
            r"prefer\w*|hobb(?:y|ies)|habits?|food|eat|eating|cook\w*|dish\w*|restaurants?|"
            r"music|songs?|bands?|films?|movies?|books?|read|reading|travel\w*|trips?|"
            r"holidays?|vacations?|sports?|games?|gifts?|watch|listen)\b",
            re.I,
        ),
    ),
)


def task_for_message(text: str) -> str:
    """Return the summary task whose cue words ``text`` contains (``chat`` when none does).

    Tasks are tried in the order ``image``, ``search``, ``recommendation``.
    """
    for task, cue in _CUES:
        if cue.search(text):
            return task
    return "chat"


def known_people(texts: Iterable[str]) -> set[str]:
    """Return the names that memories are about (the names that start a memory)."""
    people = set()
    for text in texts:
        if _USER_SUBJECT.match(text):
            continue
        match = _SUBJECT_NAME.match(text.strip())
        if match:
            people.add(match.group(1))
    return people


def own_statements(texts: Iterable[str]) -> list[str]:
    """Return the texts that state something about the user alone, in the order given.

    See the module docstring for the rule: the subject is the user, and no person the
    memories are about is named except as what something of the user's is called.
    """
    texts = [" ".join(text.split()) for text in texts]
    people = known_people(texts)
    kept = []
    for text in texts:
        if not _USER_SUBJECT.match(text):
            continue
        called = set(_CALLED.findall(text))
        named = {name for name in _NAMES.findall(text) if name in people}
        if named - called:
            continue
        kept.append(text)
    return kept


def diverse(
    vectors: npt.NDArray[np.float32],
    query: npt.NDArray[np.float32],
    k: int,
    novelty: float = DIVERSITY,
) -> list[int]:
    """Pick ``k`` rows by maximal marginal relevance: relevant to ``query``, unlike those picked.

    Each pick maximises ``(1 - novelty) * cos(row, query) - novelty * max cos(row, picked)``
    (rows and query normalised), so forty statements cut from one mould ("The user met X in Y")
    yield one or two picks and leave room for the user's other facets.

    Returns:
        Row indices, in the order picked.
    """
    if len(vectors) == 0 or k <= 0:
        return []
    relevance = vectors @ query
    closest = np.full(len(vectors), -np.inf)
    left = np.ones(len(vectors), dtype=bool)
    picked: list[int] = []
    for _ in range(min(k, len(vectors))):
        penalty = np.where(np.isinf(closest), 0.0, closest)
        score = np.where(left, (1 - novelty) * relevance - novelty * penalty, -np.inf)
        best = int(np.argmax(score))
        picked.append(best)
        left[best] = False
        closest = np.maximum(closest, vectors @ vectors[best])
    return picked


def drop_repeats(summary: str) -> str:
    """Remove the sentences of ``summary`` that repeat an earlier one (case and spacing aside)."""
    seen: set[str] = set()
    kept = []
    for raw in _SENTENCE.findall(" ".join(summary.split())):
        sentence = raw.strip()
        key = " ".join(re.findall(r"\w+", sentence.lower()))
        if sentence and key not in seen:
            seen.add(key)
            kept.append(sentence)
    return " ".join(kept)


async def pick_summary(memory: Memory, user_id: str, message: str) -> tuple[str, str]:
    """Return the task and text of the summary the reply to ``message`` carries.

    The task is :func:`task_for_message`'s; when the user has no usable summary for it, the
    ``chat`` summary is used. Returns ``(task, "")`` when no usable summary exists. Both
    summaries are read in one round trip.
    """
    task = task_for_message(message)
    views = await read_summaries(memory.database, user_id, list(dict.fromkeys([task, "chat"])))
    view: SummaryView | None = views.get(task)
    if (view is None or not view.usable) and task != "chat":
        task, view = "chat", views.get("chat")
    return task, view.text if view is not None and view.usable else ""


__all__ = [
    "diverse",
    "drop_repeats",
    "known_people",
    "own_statements",
    "pick_summary",
    "task_for_message",
]
