"""Replies that do not make up the user's life, and that speak to the user.

:func:`addressed` turns a reply about "the user" into one to "you".

A small model asked "what's my ward manager called?" with nothing about a ward manager in
its prompt tends to answer "Dr. Smith". When the message asks about the user's own life
(:func:`asks_about_the_user`: "what's my...", "where do I...", not "should I...") and the
reply names specifics (capitalised names, numbers) that appear nowhere in what the model was
shown (:func:`invented`), the reply is replaced by a plain "I don't know" — the user was
never told something false about themself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from confidante.graphs.values import RecalledItem
from confidante.memory.ingest.statements import STOPWORDS, WORD, clauses
from confidante.memory.ingest.verbs import second_person_verb, stem
from confidante.memory.slots import DEFAULT_SLOTS, SlotVocabulary
from confidante.memory.subjects.names import PERSON_RELATIONS, normalise_relation

#: The reply that replaces one that made up the user's life.
UNKNOWN_REPLY = "I don't know that: you haven't told me yet."

_ABOUT_ME = re.compile(
    r"\b(?i:my|mine|myself)\b|\b(?i:do|did|am|was|were|have|had)\s+I\b"
    # "remind me what hourly rate I charge" (not "a movie I could watch")
    r"|\b(?i:what|which|where|who|when|how much|how many|how long|how often)\b[^?]{0,60}?"
    r"\bI\s+(?!(?i:should|could|can|might|may|would|will)\b)[a-z]+"
)
ADVICE = re.compile(
    r"\b(?:should|could|can|would|shall|may|might)\s+I\b|\bhow\s+(?:do|can|should)\s+I\b"
    r"|\b(?:recommend|suggest|ideas?|tips?|advice)\b|\b(?:do|would) you (?:think|reckon)\b"
    r"|\b(?:ok|okay|alright|safe|fine|good idea|bad idea)\s+(?:if|for|to)\b",
    re.I,
)
_SPECIFIC = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'-]+|\b\d[\d.,:]*\b")
QUESTION_WORDS = frozenset(
    stem(word)
    for word in "mine myself remind again tell know remember called name named these days "
    "still currently anything new old current latest".split()
)
_COMMON = frozenset(
    "i i'm i've i'd i'll you you're your yes no sorry ok okay hi hello monday tuesday wednesday "
    "thursday friday saturday sunday january february march april may june july august "
    "september october november december".split()
)


_ADMITS = re.compile(
    r"\b(?:don't|do not|didn't|did not|haven't|have not|hasn't|can't|cannot|no|not)\b.{0,40}"
    r"\b(?:know|sure|told|mention\w*|said|shared|information|record|recall|remember|idea|"
    r"details?|aware)\b|\bnot sure\b|\bno idea\b|\bunknown\b",
    re.I,
)


def admits_not_knowing(reply: str) -> bool:
    """Whether a reply says it does not know ("I don't know", "you haven't told me")."""
    return bool(_ADMITS.search(reply))


def only_tells(message: str) -> bool:
    """Whether a message only tells something: no question and no request in it."""
    found = clauses(message)
    return bool(found) and all(kind == "statement" for _, kind in found)


def asks_about_the_user(message: str) -> bool:
    """Whether a message asks about the user's own life (not for advice or a pick)."""
    asked = [text for text, kind in clauses(message) if kind == "question"]
    return any(_ABOUT_ME.search(text) and not ADVICE.search(text) for text in asked)


def invented(reply: str, shown: Iterable[str]) -> set[str]:
    """The specifics of ``reply`` (names, numbers) that none of the ``shown`` texts contains.

    A name that only places a shown name ("Luang Prabang, Laos", "Kadıköy in Istanbul") is
    general knowledge about it, not a made-up fact of the user's life.
    """
    seen = {word.removesuffix("'s") for word in _TOKEN.findall(" ".join(shown).lower())}
    text = _TITLE.sub(r"\1", reply)  # "Dr. Smith" is one name
    found = set()
    for match in _SPECIFIC.finditer(text):
        word = match.group(0).strip(".,:").removesuffix("'s")
        placed = _PLACES_SHOWN.search(text[: match.start()])
        if placed and word[:1].isupper() and placed.group(1).lower() in seen:
            continue
        if word.lower() not in _COMMON and word.lower() not in seen:
            found.add(word)
    return found


#: A shown name right before a name that places it: "Luang Prabang, " or "Kadıköy in ".
_PLACES_SHOWN = re.compile(r"\b([A-Z][\w'-]+)(?:,\s*|\s+in\s+)$")


_TOKEN = re.compile(r"\d[\d.,:]*\d|[\w'-]+")
_TITLE = re.compile(r"\b(Dr|Mr|Mrs|Ms|Mx|Prof|St)\.")


_THE_USER_OPENS = re.compile(r"(^|[.!?]\s+)The user((?:'s)?) ((?:\w+ly |also |still |now )?)(\w+)")


def addressed(reply: str) -> str:
    """A reply that speaks of "the user" retold to them ("The user works..." → "You work...").

    Small models often answer in the third person they read in their prompt's facts, or as
    if they were the user ("I'm 34.").
    """

    def opening(match: re.Match[str]) -> str:
        start, possessive, adverb, word = match.groups()
        if possessive:
            return f"{start}Your {adverb}{word}"
        return f"{start}You {adverb}{second_person_verb(word)}"

    text = _THE_USER_OPENS.sub(opening, reply)
    text = re.sub(r"\bthe user's\b", "your", text)
    text = re.sub(
        r"\bthe user ((?:\w+ly |also |still |now )?)(is|was|has|does|\w+s)\b",
        lambda m: f"you {m.group(1)}{second_person_verb(m.group(2))}",
        text,
    )
    text = re.sub(r"\bthe user\b", "you", text)
    text = _retell_opening(text)
    return _YOU_AGREES.sub(_agree, text)


#: A reply to a question about the user that opens as if the model were the user ("how old am
#: I?" → "I'm 34.", "My dog's name is Rex."): retold to the user. The model's own words ("I'm
#: sorry", "I'm not sure", "I am an AI") are left alone.
_OPENING_AS_USER = re.compile(r"^(My|I'm|I am|I)\s+(\S+(?:\s+\S+)?)")
_AS_USER = {"My": "Your", "I'm": "You're", "I am": "You are", "I": "You"}
#: What the model says of itself after "I" / "I'm": left alone.
_MODEL_VOICE = re.compile(
    r"^(?:sorry|afraid|not|unable|glad|happy|here|an? (?:AI|language|assistant|virtual|chat|"
    r"large)|don't|do not|can't|cannot|have no|haven't|think|believe|would|will|could|should|"
    r"hope|see|understand|know|recommend|suggest|need|apologi[sz]e|only|can|may|might|must|"
    r"did not|didn't|do|have|had|was|wasn't|just|also|could|remember|recall|found|noted|"
    r"apologies|bad|mistake|pleasure)\b"
)


def _retell_opening(text: str) -> str:
    """The reply's opening retold to the user when the model spoke as them."""
    match = _OPENING_AS_USER.match(text)
    if match is None or _MODEL_VOICE.match(match.group(2)):
        return text
    return _AS_USER[match.group(1)] + text[len(match.group(1)) :]


def _agree(match: re.Match[str]) -> str:
    you, verb = (match.group(1), match.group(2)) if match.group(1) else match.group(3, 4)
    return you + _YOU_FORMS[verb.lower()]


_YOU_FORMS = {
    "has": "have",
    "hasn't": "haven't",
    "is": "are",
    "isn't": "aren't",
    "was": "were",
    "wasn't": "weren't",
    "does": "do",
    "doesn't": "don't",
}
#: "you hasn't" (the model's own slip) made to agree: a negation after "you", or any of these
#: verbs after a sentence's opening "You" ("the gift for you is ready" is left alone).
_YOU_AGREES = re.compile(
    r"(\b[Yy]ou )(hasn't|isn't|wasn't|doesn't)\b|(?:^|(?<=[.!?] ))(You )(has|is|was|does)\b"
)


def bears_on(
    question: str,
    known: Iterable[RecalledItem | Mapping[str, Any]],
    summary: str = "",
    slots: SlotVocabulary = DEFAULT_SLOTS,
) -> bool:
    """Whether a remembered item (or the summary) shares a word with a question about the user.

    "What instrument do I play?" with nothing about instruments or playing remembered bears
    on nothing: the reply prompt then says so. An item in a slot the question asks about bears
    on it ("how old" and "The user is 34.", an ``age``), and a question asking about a slot
    brings the slot's other words ("who do I work for?" bears on "The user has a new job.");
    two slots that share an ``asked_by`` word ("eat": allergies, diet) do not bear on each
    other's questions.
    """
    asked = word_stems(question) - QUESTION_WORDS
    if not asked:
        return True
    # "my dad" is "the user's father"
    asked |= {stem(str(normalise_relation(w))) for w in WORD.findall(question.lower())} & {
        stem(w) for w in PERSON_RELATIONS
    }
    wanted = slots.asked_in(question, about_user=True)
    for slot in wanted:  # "work" also asks about a "job"
        asked |= word_stems(slots.asked_words(slot))
    if not _ANYONE_ELSE.search(question):  # "am I allergic?": Ivan's allergy does not bear on it
        known = [i for i in known if not i.get("subject_id")]
    if any(i.get("key") in wanted for i in known):  # "how old am I?" and an ``age``
        return True
    texts = [  # an item about someone carries whom ("Felix (the user's former boyfriend)")
        summary,
        *(f"{i['text']} {i.get('about') or ''} {i.get('instead_of') or ''}" for i in known),
    ]
    if any(asked & word_stems(text) for text in texts if text):
        return True
    kinds = [answer for _, word, answer in _KINDS_OF_ANSWER if word.search(question)]
    return any(kind.search(text) for kind in kinds for text in texts if text)


def of_the_kind_asked(question: str, known: Iterable[RecalledItem]) -> list[RecalledItem]:
    """The items, those of the kind a question names labeled with it (for the reply prompt).

    Asked "what hobby am I into?", a small model shown "The user signed up for a pottery
    class." answers that it knows of no hobby; shown it as "(hobby) The user signed up for a
    pottery class." it answers. The label is the item's ``key`` in the prompt only: an item
    in a slot, or about someone else, keeps its own.
    """
    items = list(known)
    for name, word, answer in _KINDS_OF_ANSWER:
        if word.search(question):
            return [
                item.model_copy(update={"key": name})
                if item.kind == "fact"
                and not item.key
                and not item.subject_id
                and answer.search(item.text)
                else item
                for item in items
            ]
    return items


#: Questions that name a kind of thing no fact calls by that name, and how facts say one:
#: "what hobby am I into?" is answered by "The user signed up for a pottery class.".
_KINDS_OF_ANSWER = (
    (
        "hobby",
        re.compile(r"\b(?:hobby|hobbies|pastimes?|for fun|free time|spare time)\b", re.I),
        re.compile(
            r"\b(?:class(?:es)?|course|lessons?|club|team|league|choir|band|practi[cs]\w*|"
            r"plays?|playing|trains?|training|took up|taken up|taking up|signed up|"
            r"(?:once|twice|\w+ times) (?:a|per) (?:week|month)|every (?:week\w*|morning|"
            r"evening|night|day|monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
            r"(?:is|are|got) into|loves?|enjoys?|hobby|hobbies|pastime)\b",
            re.I,
        ),
    ),
    (
        "wedding",
        re.compile(r"\bwedding\b", re.I),
        re.compile(r"\b(?:marr(?:y|ies|ied|ying|iage)|wedding|engaged|ceremony|reception)\b", re.I),
    ),
    (
        "project",
        re.compile(r"\bprojects?\b", re.I),
        re.compile(
            r"\b(?:working on|building|restor\w+|renovat\w+|rebuild\w*|fixing up|making|"
            r"writing|project)\b",
            re.I,
        ),
    ),
)


#: A question that may ask about someone else: "my sister", "our dog", a name past its start.
_ANYONE_ELSE = re.compile(r"\b(?i:my|our|mine)\b|(?<!^)(?<![.!?] )\b(?!I')[A-Z][\w'-]+")


def as_sentence(text: str) -> str:
    """A text stripped, ending with a full stop unless it ends a sentence already."""
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else f"{text}."


def word_stems(text: str) -> set[str]:
    """Stems of a text's words that are not stopwords (relation words count: "dog")."""
    return {stem(w) for w in WORD.findall(text.lower()) if len(w) > 2 and w not in STOPWORDS}
