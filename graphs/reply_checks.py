"""The last word on a reply that was checked whole: made up, no answer, or a refusal.

Used by the ``respond`` node (:mod:`confidante.graphs.nodes`) on replies to questions about
the user's life (``checked``) or about someone in it (``someone``), which are not streamed:

- a reply that makes up what it cannot know becomes "I don't know" (see
  :func:`~confidante.graphs.named_questions.unfounded`), or the known facts of the slot it
  asks about;
- one that only repeats what is known of someone where that is no answer says so, then what
  is known (:func:`~confidante.graphs.named_questions.known_instead`);
- one that answers with a fact that was replaced gives what replaced it (:func:`stale_answer`);
- one that refuses ("I can't assist with that") gives the known facts of the slot it asks
  about, else "I don't know";
- one that says it does not know while a fact in a slot the question asks about, or what
  replaced a fact its words reach, is known, gives those facts (:func:`known_answer`): a
  small model shown "(allergies) The user is allergic to latex." may still answer "I don't
  have any information about your allergies".
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from confidante.graphs.grounding import (
    QUESTION_WORDS,
    UNKNOWN_REPLY,
    addressed,
    admits_not_knowing,
    as_sentence,
    word_stems,
)
from confidante.graphs.named_questions import TOLD, about_named, known_instead, unfounded
from confidante.graphs.values import RecalledItem
from confidante.memory.ingest.statements import WORD, clauses, names_in
from confidante.memory.ingest.verbs import stem
from confidante.memory.slots import SlotVocabulary
from confidante.memory.subjects.names import is_relation_word


def settle_reply(
    reply: str,
    *,
    asked: str,
    shown: Sequence[str],
    recalled: Sequence[RecalledItem],
    unknown: bool,
    doubtful: bool,
    slots: SlotVocabulary,
) -> tuple[str, dict[str, Any] | None]:
    """The reply to send, and the event that says why it changed (None when it stands)."""
    if _REFUSES.search(reply):  # a question about one's own life is never to be refused
        told = known_answer(asked, UNKNOWN_REPLY, recalled, slots)
        return told or UNKNOWN_REPLY, {"event": "refused", "reply": reply}
    specifics = unfounded(reply, shown, asked, recalled, unknown, doubtful)
    if specifics is not None:  # made up: what is known in the asked slot, else "I don't know"
        told = known_answer(asked, UNKNOWN_REPLY, recalled, slots)
        return told or UNKNOWN_REPLY, {"event": "ungrounded", "specifics": specifics}
    if doubtful and (instead := known_instead(reply, asked, recalled)):
        return addressed(instead), {"event": "no_answer", "reply": reply}
    if told := stale_answer(asked, reply, recalled):
        return told, {"event": "stale_answer", "reply": reply}
    if told := known_answer(asked, reply, recalled, slots):
        return told, {"event": "known_answer", "reply": reply}
    return reply, None


#: A refusal ("I'm sorry, but I can't assist with that.") where an answer or "I don't know"
#: was due: a small model refuses questions about health or papers it could answer.
_REFUSES = re.compile(
    r"\b(?:can't|cannot|can not|unable to|not able to)\s+(?:assist|help)\s+with\s+"
    r"(?:that|this|your request|this request)\b",
    re.I,
)


def stale_answer(question: str, reply: str, known: Sequence[RecalledItem]) -> str | None:
    """What replaced the earlier fact a reply answers with, when it answers with one.

    "You volunteer Tuesdays at the lighthouse museum." names what "The user is doing
    Saturday mornings at the food bank now." replaced: the reply is stale, and the facts
    that replaced it are said instead. A reply counts as stale when it says a name or number,
    or two words, of the earlier fact that neither the new fact nor the question says.
    """
    said = word_stems(reply)
    newer = [
        item
        for item in known
        if item.instead_of
        and _old_words(item, question) & said
        and (len(_old_words(item, question) & said) >= 2 or _old_names(item) & said)
    ]
    if not newer:
        return None
    olds = {item.instead_of for item in newer}
    told = [item for item in known if item.instead_of in olds]
    return " ".join(addressed(as_sentence(item.text)) for item in told[:TOLD])


def _old_words(item: RecalledItem, question: str) -> set[str]:
    """Stems of the fact an item replaced that neither it nor the question says."""
    return word_stems(item.instead_of or "") - word_stems(item.text) - word_stems(question)


def _old_names(item: RecalledItem) -> set[str]:
    return {stem(name) for name in names_in(item.instead_of or "")} - word_stems(item.text)


def known_answer(
    question: str, reply: str, known: Sequence[RecalledItem], slots: SlotVocabulary
) -> str | None:
    """Known facts that answer a question the reply does not answer with them.

    The facts in a slot the question asks about, of the user ("what am I allergic to?" and
    an ``allergies`` fact) or of someone it names ("what is Paweł's job?" and his
    ``job_title``), when the reply says none of their words; and, when the reply says it
    does not know, the user's facts that replaced one the question's words reach ("where do
    I volunteer these days?" and the food bank that replaced the museum).
    """
    asked = " ".join(text for text, kind in clauses(question) if kind == "question")
    asked = asked or question
    if _PAST.search(asked):  # "where did I work before?": the current value is no answer
        return None
    someone = _someone_in(asked)
    _, theirs = about_named(asked, known) if someone else ([], [])
    wanted = set(slots.asked_in(asked, about_user=not someone)) - {"name", "relation"}
    facts = [
        item
        for item in (theirs if someone else [i for i in known if not i.subject_id])
        if item.key in wanted and item.kind == "fact"
    ]
    values = set().union(*(_value_words(item, asked) for item in facts)) if facts else set()
    if values and not values & word_stems(reply):
        return " ".join(addressed(as_sentence(item.text)) for item in facts[:TOLD])
    if someone or not admits_not_knowing(reply):
        return None
    words = word_stems(asked) - QUESTION_WORDS
    replaced = [
        item
        for item in known
        if not item.subject_id and item.instead_of and words & word_stems(item.instead_of)
    ]
    return " ".join(addressed(as_sentence(i.text)) for i in replaced[:TOLD]) or None


def _value_words(item: RecalledItem, question: str) -> set[str]:
    """The words of a slot fact that say its value: not the question's, nor whom it is of."""
    whom = {stem(word) for word in WORD.findall(str(item.about or "").lower())}
    return word_stems(item.text) - word_stems(question) - whom - _FRAMING


#: Words of a fact that frame its value ("The user works at Volvo.": Volvo is the value).
_FRAMING = frozenset(
    stem(word)
    for word in "user works work working lives live living moved job employer employed "
    "allergic allergy takes taking diet currently now years old".split()
)


_PAST = re.compile(
    r"\b(?:before|used to|previous(?:ly)?|former(?:ly)?|old|last|ago|did|was|were|then)\b", re.I
)


def _someone_in(question: str) -> bool:
    """Whether a question names someone: a relation word, or a capitalised word past the first."""
    words = question.split()
    if any(is_relation_word(word) for word in WORD.findall(question.lower())):
        return True
    return any(word[:1].isupper() and word not in {"I", "I'm", "I've"} for word in words[1:])
