"""Questions about someone in the user's life: checked before the reply is sent.

"What does Mattias do for work?" asked with only "Mattias is the user's partner." remembered:
a small model answers "Mattias is a software engineer."; "where does my brother live?" gets
the user's own city. The reply to a question about a subject the user named, or called by
relation (:func:`asks_about_someone`, :func:`callers`), is checked whole, as one about the user
is (see :mod:`confidante.graphs.grounding`): when nothing recalled about them bears on what is
asked (:func:`knows_of_someone`) and the reply says nothing known of them
(:func:`answers_from_known`) nor that it does not know, :func:`unfounded` says to replace it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from confidante.graphs.grounding import (
    ADVICE,
    QUESTION_WORDS,
    admits_not_knowing,
    as_sentence,
    invented,
    word_stems,
)
from confidante.graphs.values import RecalledItem
from confidante.memory.ingest.statements import WORD, clauses, names_in
from confidante.memory.ingest.verbs import stem
from confidante.memory.slots import DEFAULT_SLOTS, SlotVocabulary
from confidante.memory.subjects.names import is_relation_word, name_pattern, relation_aliases


def callers(label: str | None) -> list[str]:
    """How a question may call a subject, from its prompt label.

    "Yoni (the user's brother)" is "Yoni", "my brother" or "our brother"; "the user's mother"
    is "my mother" or "our mother".
    """
    if not label:
        return []
    match = _LABEL.match(label)
    if match is None:
        return [label]
    name, relation = match.group("name"), match.group("relation") or match.group("rel")
    mine = []
    if relation and "'s " not in relation:  # "my husband", "our hubby", "my girl"
        mine = [
            f"{whose} {word}"
            for word in [relation, *relation_aliases(relation)]
            for whose in ("my", "our")
        ]
    return [name, *mine] if name else mine


_LABEL = re.compile(
    r"^(?:(?P<name>.+?) \((?:the user's )?(?P<relation>[^()]+)\)|the user's (?P<rel>.+))$"
)


def _name_of(label: str) -> str:
    """The name in a subject's label ("" for one known by relation only)."""
    match = _LABEL.match(label)
    return label if match is None else match.group("name") or ""


def asks_about_someone(message: str, names: Iterable[str]) -> bool:
    """Whether a message asks about someone in the user's life by name or as "my <relation>".

    "What does Mattias do?" and "where does my brother live?" do; "Kenji brought baklava,
    should I have some?" asks advice.
    """
    patterns = [name_pattern(name) for name in names if name]
    asked = [text for text, kind in clauses(message) if kind == "question"]
    return any(any(p.search(text) for p in patterns) and not ADVICE.search(text) for text in asked)


def about_named(
    question: str, known: Iterable[RecalledItem]
) -> tuple[list[str], list[RecalledItem]]:
    """How the subjects a question asks about are called, and the recalled items about them.

    "where does my brother live?" asks about Yoni: ["Yoni", "my brother", "our brother"].

    An item that says the name is about them too ("The user and Omar are flying together.").
    """
    items = list(known)
    labels = {str(item.about) for item in items if item.about}
    called = {
        label: [c for c in callers(label) if name_pattern(c).search(question)] for label in labels
    }
    asked = [label for label, said in called.items() if said]
    loose = [name for name in loose_names(question, items) if name not in labels]
    names = [*(_name_of(label) for label in asked), *loose]
    about = [
        item
        for item in items
        if item.about in asked
        or any(name and name_pattern(name).search(item.text) for name in names)
    ]
    return [*(c for label in asked for c in callers(label)), *loose], about


def loose_names(question: str, known: Iterable[RecalledItem]) -> list[str]:
    """People a question asks about that recalled items mention, though no subject is them.

    "what does Tiago do for a living?" with "The user's brother Cian is marrying his fiancé
    Tiago." recalled asks about Tiago. Only a name the question asks about as someone ("does
    Tiago", "how old is Tomás", "Tiago's"), that an item speaks of as someone (after a
    relation word, "called"/"named", as its opening, or with "'s"); never the user's own.
    """
    items = list(known)
    own = _own_names(items)
    found: list[str] = []
    for match in _ASKED_NAME.finditer(question):
        name = next(group for group in match.groups() if group)
        if name.lower() in own or name in found:
            continue
        if any(_as_someone(name, item.text) for item in items):
            found.append(name)
    return found


def _as_someone(name: str, text: str) -> bool:
    """Whether a text speaks of ``name`` as someone ("his fiancé Tiago", "Tiago's", opening)."""
    for match in name_pattern(name).finditer(text):
        before = WORD.findall(text[: match.start()].lower())
        if not before or text[match.end() :].startswith(("'s", "’s")):
            return True
        if before[-1] in {"called", "named"} or any(is_relation_word(w) for w in before[-2:]):
            return True
    return False


#: A name asked about as someone: "does Tiago", "how old is Tomás", "Tiago's job".
_ASKED_NAME = re.compile(
    r"\b(?:does|did|has)\s+([A-Z][\w-]+)\b"
    r"|\b(?:how old|who|where|how)\s+(?:is|was)\s+([A-Z][\w-]+)\b"
    r"|\b([A-Z][\w-]+)(?:'s|’s)\s"
)


def knows_of_someone(
    question: str, known: Iterable[RecalledItem], slots: SlotVocabulary = DEFAULT_SLOTS
) -> bool:
    """Whether a recalled item about someone the question names bears on what it asks.

    "What does Mattias do for work?" with only "Mattias is the user's partner." and "Mattias
    plays football on Sundays." remembered about him bears on nothing: the names themselves
    are not what is asked. An item in a slot the question asks about bears on it, a place on
    "where", a date on "when", a number on "how old".
    """
    asked, about = about_named(question, known)
    rest = question
    for name in asked:
        rest = name_pattern(name).sub(" ", rest)
    if _ASKS_NAME.search(rest):  # "what's my wife's name?": known when she has one
        return any(not name.lower().startswith(("my ", "our ")) for name in asked)
    wanted = slots.asked_in(rest, about_user=False)
    if any(item.key in wanted for item in about):
        return True
    if {"age", "birthday"} & set(wanted) and any(_NUMBER.search(i.text) for i in about):
        return True  # "how old is Lily?" and "Max is 9 and Lily is 6."
    if _WHERE.search(rest) and any(_PLACED.search(i.text) for i in about):
        return True  # "where's Mateus based?" and "Mateus runs a brewery in Porto."
    if _WHEN.search(rest) and any(_DATED.search(i.text) for i in about):
        return True
    words = word_stems(rest) - QUESTION_WORDS - _VAGUE  # "how is Ana doing?" asks anything
    for slot in wanted:  # "work" also asks about a "job"; "from" asks about a hometown
        words |= {stem(word) for word in slots.asked_words(slot).split()}
    said = [{stem(word) for word in WORD.findall(item.text.lower())} for item in about]
    return not words or any(words & text for text in said)


def answers_from_known(reply: str, question: str, known: Iterable[RecalledItem]) -> bool:
    """Whether a reply about someone named says something the items about them say.

    "Reza works out of Houston." shares "Houston" with "Reza does the catering from Houston.";
    "Mattias works as a software engineer." shares nothing but his name with what is known.
    """
    return bool(restated(reply, question, known))


def restated(reply: str, question: str, known: Iterable[RecalledItem]) -> list[RecalledItem]:
    """The recalled items about someone named whose words a reply about them repeats."""
    asked, about = about_named(question, known)
    names = {stem(word) for name in asked for word in WORD.findall(name.lower())}
    words = word_stems(reply) - names - QUESTION_WORDS - _VAGUE
    return [item for item in about if words & word_stems(item.text)]


def known_instead(reply: str, question: str, known: Iterable[RecalledItem]) -> str | None:
    """What to say instead of a reply that restates what is known where that is no answer.

    Asked "what does Mattias do for work?" with only "Mattias plays football on Sundays."
    known, a small model answers "Mattias plays football on Sundays.": true, but no answer.
    The reply becomes "You haven't told me that exactly." followed by the known items it
    repeated, so a question the check misjudged ("what does Tiago do?" and "Tiago teaches
    maths") still gets what is known. None when the reply admits it
    does not know or repeats nothing known.
    """
    if admits_not_knowing(reply):
        return None
    items = restated(reply, question, known)
    if not items:
        return None
    told = " ".join(as_sentence(item.text) for item in items[:TOLD])
    return f"{NOT_SAID_EXACTLY} What I do know: {told}"


#: Said before what is known when it is no sure answer (see :func:`known_instead`).
NOT_SAID_EXACTLY = "You haven't told me that exactly."


def unfounded(
    reply: str,
    shown: Iterable[str],
    question: str,
    known: Iterable[RecalledItem],
    unknown: bool,
    doubtful: bool = False,
) -> list[str] | None:
    """Why a checked reply must become "I don't know", or None when it stands.

    The specifics it made up (names, numbers never ``shown``); or ``[]`` when it answers,
    without admitting it does not know, a question nothing known bears on: ``unknown`` for
    one about the user, ``doubtful`` for one about someone named, where a reply that says
    something known of them (:func:`answers_from_known`) stands; or ``[]`` when it names
    "my <someone>" with a name nothing recalled gives them (:func:`name_unfounded`).
    """
    known = list(known)
    made_up = invented(reply, shown)
    if made_up:
        return sorted(made_up)
    if admits_not_knowing(reply):
        return None
    if name_unfounded(reply, question, known):
        return []
    if unknown or (doubtful and not answers_from_known(reply, question, known)):
        return []
    return None


#: How many known facts replace a reply that was no answer (here and in reply_checks).
TOLD = 2


def name_unfounded(reply: str, question: str, known: Iterable[RecalledItem]) -> bool:
    """Whether a reply names "my <someone>" with the user's own name, or with no name.

    "what's my assistant coach called?" answered "Your assistant coach is Ingrid." when
    "The user's name is Ingrid." is all that names anyone: a small model reaches for the one
    name it was shown. (A name never shown is caught as made up; see ``invented``.)
    """
    if _NAME_OF_MINE.search(question) is None:
        return False
    given = names_in(f"x {reply}") - {"you", "your", "you're", "i", "i'm"}
    if not given:  # "You're called you.": no name at all is no answer
        return True
    own = _own_names(known)
    return bool(given & own)


def _own_names(known: Iterable[RecalledItem]) -> set[str]:
    """The user's own names, lower-cased, from their ``name`` facts."""
    return {
        word
        for item in known
        if item.key == "name" and not item.subject_id
        for word in WORD.findall(item.text.lower())
        if word not in {"the", "user", "user's", "name", "is", "s"}
    }


#: "what's my assistant coach called?", "what is my dentist's name?", "who's my landlord?"
_NAME_OF_MINE = re.compile(
    r"\b(?:what(?:'s|’s| is| was)\s+(?:my|our)\s+(?:[\w'’-]+\s+){1,3}?(?:name\b|called\b|"
    r"named\b)|who(?:'s|’s| is| was)\s+(?:my|our)\s+[\w'’ -]+)",
    re.I,
)


#: Words of a question about someone that ask for anything known ("what's Mateus like?").
_VAGUE = frozenset(
    stem(word)
    for word in "like doing going been up news lately recently about everything things "
    "thing stuff life tell say said how what who which whose".split()
)
_NUMBER = re.compile(r"\b\d+\b")
_ASKS_NAME = re.compile(r"\bname\b|\bcalled\b|\bwho is\b|\bwho's\b", re.I)
_WHERE = re.compile(
    r"\bwhere(?:'s|’s)?\b|\b(?:which|what) (?:city|town|country|place|part|area|neighbou?rhood|"
    r"state|region)\b",
    re.I,
)
#: A place named past a fact's opening: "... a brewery in Porto", "... from Houston".
_PLACED = re.compile(r"\b(?:in|at|from|to|near|out of|based|lives?)\s+(?:the\s+)?[A-Z]")
_WHEN = re.compile(r"\bwhen(?:'s|’s)?\b|\bwhat (?:day|date|time|month|year)\b", re.I)
_DATED = re.compile(
    r"\b\d+\b|\b(?:january|february|march|april|may|june|july|august|september|october|"
    r"november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|"
    r"next|last|spring|summer|autumn|fall|winter)\b",
    re.I,
)
