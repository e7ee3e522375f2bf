"""The names a user goes by: said in a message ("Mehmet here"), or misspelled by a model.

A statement the model writes about the user by their name ("Chiara works at Ulisse.") is a
statement about the user: :func:`as_user` says it as "The user works at Ulisse.", also when the
model misspelled the name ("Chiaro"). :func:`as_user_when_unnamed` does the same for a
statement the model opened with someone the message never mentions;
:func:`names_the_unmentioned` finds one that brings such a person in elsewhere, and
:func:`as_user_when_companion` one opened with someone the message named only as company
("went vegan after a documentary w Jukka").
"""

from __future__ import annotations

import re

from confidante.memory.ingest.relations_said import relation_said
from confidante.memory.ingest.statements import WORD, content_stems, statement_clauses
from confidante.memory.slots import JOB_NOUNS
from confidante.memory.subjects.names import DEMONYMS

_SELF_INTRO = re.compile(
    r"\b(?i:i'm|i am|im|my name is|my name's|call me|this is"
    # the same opening in a greeting of another language ("holaa, soy Majo", "je suis Léa")
    r"|soy|me llamo|je suis|je m'appelle|ich bin|ich heiße|sono|mi chiamo|eu sou|sou|"
    r"ik ben|jag heter|jeg heter)\s+([A-Z][\w-]+)(?=\W|$)"
    # "Mehmet here", opening the message, maybe after a one-word greeting ("Merhaba. Mehmet
    # here, 52")
    r"|^\W*(?:[^\W\d_]+[.!,]*\s+)?([A-Z][\w-]+) (?i:here)\b(?! (?:is|are|was)\b)"
)
#: Capitalised words that open "... here" without being a name ("Come here").
_NOT_NAMES = frozenset("come get stay sit look over right out click tap put go from".split())


#: What follows "I'm X" when X is a job's first word, not a name ("I am QA engineer").
_JOB_FOLLOWS = re.compile(rf"\s+(?:[\w-]+\s+)?(?i:{JOB_NOUNS})(?![\w'-])")


def user_names_in(message: str) -> set[str]:
    """Names the user gives themself ("I'm Amara", "Tomás here"), case-folded.

    Not a job's first word ("I am QA engineer") nor a nationality ("I'm Polish").
    """
    found = set()
    for match in _SELF_INTRO.finditer(message):
        name = (match.group(1) or match.group(2)).casefold()
        if name in DEMONYMS or _JOB_FOLLOWS.match(message, match.end()):
            continue
        found.add(name)
    return found - _NOT_NAMES


def _one_edit_apart(a: str, b: str) -> bool:
    """Whether two words differ by one letter changed, added or removed."""
    if abs(len(a) - len(b)) > 1 or a == b:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1 :] == short for i in range(len(long)))


def _misspelled(text: str, names: set[str], message: str) -> set[str]:
    """Words of a statement that are the user's name misspelled ("Chiaro" for "Chiara").

    Only for names of five letters or more, and only words the message does not say (a
    sister called "Gracie" is not the user "Grace").
    """
    said = {word.casefold() for word in WORD.findall(message)}
    return {
        word
        for word in re.findall(r"\b[A-Z][\w-]{3,}", text)
        if word.casefold() not in said
        and any(len(name) >= 5 and _one_edit_apart(word.casefold(), name) for name in names)
    }


def as_user(text: str, names: set[str], message: str = "") -> str:
    """The statement with the user's own names (or their misspellings) said as "the user"."""
    for name in names | _misspelled(text, names, message):  # not where the name is given
        pattern = re.compile(
            rf"(?<!name is )(?<!called )(?<!named )(?<![\w-]){re.escape(name)}(?![\w-])", re.I
        )
        text = pattern.sub("the user", text)
    return text[0].upper() + text[1:] if text else text


#: Words by which a message may speak of someone other than the user.
_SOMEONE = re.compile(r"\b(?:he|she|they|him|her|his|hers|them|their|we|us|our)\b", re.I)
#: Words by which a message may speak of someone else without the user ("we" has the user).
_SOMEONE_ELSE = re.compile(r"\b(?:he|she|they|him|her|his|hers|them|their)\b", re.I)


def _unmentioned(name: str, relation: str | None, message: str) -> bool:
    """Whether a message says neither a subject's name nor its relation."""
    said = {word.casefold() for word in re.findall(r"[^\W_]+", message)}
    if name.casefold() in said or set(name.casefold().split()) & said:
        return False
    return not (relation and relation_said(relation, message))


def as_user_when_unnamed(text: str, relations: dict[str, str | None], message: str) -> str:
    """A statement opened with someone the message never mentions, said of the user.

    Shown the user's earlier subjects, a small model reads "drew a picture of Pancho, came
    out pretty cute" as "Lucía drew a picture of Pancho.". A message that neither names
    that person, nor says their relation, nor speaks of anyone by a pronoun ("she", "they")
    tells of the user's own doing: "The user drew a picture of Pancho.". So does a message
    that speaks of "we" or "our" only ("started at HUS, commute from our new flat is 20 min"
    is not "Jukka started at HUS."): the user is one of "we".

    Args:
        text: The statement.
        relations: The user's subjects by case-folded name, with their relation.
        message: What the user said.
    """
    match = re.match(r"([A-Z][\w-]*(?: [A-Z][\w-]*)?)(?='s | )", text)
    if match is None or match.group(1).casefold() not in relations:
        return text
    if _SOMEONE_ELSE.search(message) or (
        _SOMEONE.search(message) and re.search(r"\bthe user\b", text, re.I)
    ):  # "we split": "Lucía and the user split." is both of them
        return text
    name = match.group(1)
    if not _unmentioned(name, relations[name.casefold()], message):
        return text
    return "The user" + text[len(name) :]


def names_the_unmentioned(text: str, relations: dict[str, str | None], message: str) -> bool:
    """Whether a statement brings in someone the message never mentions, even by a pronoun.

    "i keep forgetting which one I've already fed" is not "The user has already fed Mere."
    (Mere is the user's wife, whom the model was shown among the user's subjects).
    """
    if _SOMEONE.search(message):
        return False
    return any(
        _unmentioned(name, relation, message)
        for name, relation in relations.items()
        if name and re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text, re.I)
    )


_OPENING = re.compile(r"([A-Z][\w-]*(?: [A-Z][\w-]*)?) (?!(?:is|was|and|or|has)\b)")
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|i've|me|my)\b", re.I)


def as_user_when_doubled(text: str, message: str) -> str:
    """A statement whose subject is also its object said of the user, when the user spoke.

    "i miss Emi so much" is retold by a small model as "Emi misses Emi very much.": the
    message says the name once, and "I", so the first "Emi" was the user.
    """
    match = _OPENING.match(text)
    if match is None or not _FIRST_PERSON.search(message):
        return text
    name = match.group(1)
    again = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w'’-])")
    if not again.search(text, match.end()) or len(again.findall(message)) != 1:
        return text
    return "The user " + text[match.end() :]


#: Words after which a name is company or an object, not who acts: "w Jukka", "for Ana".
_COMPANY = r"(?:w/?|with|for|to|from|about|at|of|by|without|like|after|behind)"
_NAME_OPENS = re.compile(r"([A-Z][\w-]*(?: [A-Z][\w-]*)?) (?!(?:and|&|or)\b)")


def as_user_when_companion(text: str, message: str) -> str:
    """A statement opened with a name the message said only as company, said of the user.

    "also went fully vegan after watching a documentary w Jukka" is retold by a small model
    as "Jukka went fully vegan after watching a documentary.": the clause it retells has no
    subject of its own (the user's, dropped), and names Jukka only after "w". Only when the
    clause of the message that shares most of the statement's words says the name, each time
    after such a word, and speaks of nobody by "he" or "she".
    """
    match = _NAME_OPENS.match(text)
    if match is None or match.group(1) == "The":
        return text
    name = match.group(1)
    said = re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])", re.I)
    rest = content_stems(text[match.end() :])
    best, overlap = None, 1
    for clause in statement_clauses(message, min_words=1):
        shared = len(rest & content_stems(said.sub(" ", clause)))
        if shared > overlap:
            best, overlap = clause, shared
    if best is None or not said.search(best) or re.search(r"\b(?:he|she)\b", best, re.I):
        return text
    companion = re.compile(rf"\b{_COMPANY}\s+{re.escape(name)}(?![\w-])", re.I)
    if len(companion.findall(best)) != len(said.findall(best)):
        return text
    return "The user " + text[match.end() :]
