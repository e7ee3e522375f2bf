"""Whom "she", "he" or "they" in a statement stands for.

A small model reading "she takes levodopa four times a day" with no one named in the message
writes "The user takes levodopa..." or "She takes levodopa...". The one person the message
names, or else the subject the user spoke of last (lately: within :data:`LATELY`), is whom it
means (see :func:`~confidante.memory.ingest.statements.speaker_of` for the clause's side).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from confidante.memory.items import as_utc
from confidante.memory.subjects.directory import SubjectView
from confidante.memory.subjects.names import is_relation_word, name_pattern

#: A statement's opening pronoun that stands for one person ("They're moving" is left: "we").
_PRONOUN_HEAD = re.compile(r"^(?:he|she|it|his|her|its|their|they(?!['’]))\b", re.I)
#: The pronouns of a person, which may stand for whom the user spoke of before the message.
_PERSON_HEAD = re.compile(r"^(?:he|she|his|her)\b", re.I)
_POSSESSIVE = frozenset({"his", "her", "its", "their"})


def named_pronoun(
    text: str, message: str, relations: dict[str, str | None], earlier: str = ""
) -> str:
    """A statement opening with "She"/"He"... told of the one person the message names.

    When the message names no one, of whom the user spoke last (``earlier``): "She takes
    levodopa." is "Greet takes levodopa."; "Her neurologist ..." is "Greet's neurologist ...".
    """
    head = _PRONOUN_HEAD.match(text)
    if head is None:
        return text
    named = [name for name in relations if name and name_pattern(name).search(message)]
    if not named and earlier and _PERSON_HEAD.match(text):
        name = earlier
    elif len(named) == 1:
        spelled = name_pattern(named[0]).search(message)
        name = spelled.group(0) if spelled else named[0]
    else:
        return text
    if head.group(0).lower() in _POSSESSIVE:
        name += "'s"
    return name + text[head.end() :]


_CAPITALISED = re.compile(r"\b[A-Z][a-z][\w-]*")
#: Capitalised words that open sentences and name no one.
_OPENERS = frozenset(
    "she he her his it its the a an my our we they this that these those what when where why "
    "how who which if so and but or also just ok okay oh well yes no not still then today "
    "yesterday tomorrow now update btw lol omg ugh".split()
)


#: How long the one the user spoke of last stays whom "she" / "he" may mean.
LATELY = timedelta(minutes=20)


def spoken_of_last(
    known: Sequence[SubjectView], message: str = "", now: datetime | None = None
) -> str:
    """The name of the subject the user spoke of last, when that was lately (else "").

    "" too when the message speaks of someone itself: a relation ("my dad called, he is
    retiring") or a name the memory does not know.
    """
    named = {word.lower() for word in _CAPITALISED.findall(message)} - _OPENERS
    if named or any(is_relation_word(w) for w in re.findall(r"[a-z][\w-]*", message.lower())):
        return ""
    moment = now or datetime.now(UTC)
    recent = [
        subject
        for subject in known
        if subject.name and moment - (as_utc(subject.updated_at) or moment) <= LATELY
    ]
    if not recent:
        return ""
    return str(max(recent, key=lambda subject: as_utc(subject.updated_at) or moment).name)
