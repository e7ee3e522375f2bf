"""Reading a user's message and the model's statements about it, with rules, not a model.

These checks make the write path robust to a small model (see
:mod:`confidante.memory.ingest.extraction`):

- :func:`clauses` splits a message into statements, questions and requests; only statements
  may be learned from ("remind me to buy milk" is not a fact).
- :func:`is_grounded`: a statement's names and numbers were said, and most of its words.
- :func:`head_of`: whom a third-person statement is about, from its opening words.
- :func:`relations_in`: relations the message states ("my sister Ana", "Ana, my sister",
  "a cat named Tom"), so a subject gets its relation even when the model gives none.
- :func:`speaker_of`: the subject of the message's clause that says a statement, so a fact
  the model put on the user ("The user hates anything scary") goes back to whom the clause is
  about ("Ngozi hates anything scary").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from confidante.memory.ingest.newborns import newborns_in
from confidante.memory.ingest.shorthand import KIND_OF_PLACE, said_forms
from confidante.memory.ingest.verbs import stem
from confidante.memory.subjects.names import (
    Mention,
    is_relation_word,
    name_pattern,
    normalise_relation,
)

WORD = re.compile(r"[a-z0-9à-ÿ]+")
NAME = r"[A-Z][\w-]*(?: [A-Z][\w-]*){0,2}"
ONE_NAME = r"[A-Z][\w-]+"
#: A title before a name, not part of it: "Mrs. Tanaka" is Tanaka.
TITLE = (
    r"(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Dona|Don|Doña|Sr|Sra|Srta|Herr|Frau|Madame|Mme|Mlle|"
    r"Monsieur|Signora|Signor)\.?\s+)"
)
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
#: Clauses end at commas, colons, dashes, brackets and emoji ("im yasmin 💅 22, ...").
_CLAUSE = re.compile(r"[^,;:\n—–()\U0001F300-\U0001FAFF\u2600-\u27BF]+")
_LEAD = r"^\W*(?:(?:and|but|so|oh|ok|okay|also|then|hey|btw|well|anyway|lol)\W+)*"
_QUESTION = re.compile(
    _LEAD + r"(?:what|what's|whats|where|where's|when|who|who's|whom|whose|why|how|which|is|are|"
    r"am|do|does|did|can|could|would|should|will|shall|any|anything)\b",
    re.I,
)
_REQUEST = re.compile(
    _LEAD + r"(?:please\W+|pls\W+|can you|could you|would you|will you|can u|could u|would u|"
    r"i want you to|i need you to|i'd like you to|remind|recommend|suggest|draw|paint|sketch|"
    r"generate|create|make me|show|tell me|give me|find|help|list|forget|delete|erase|remove|"
    r"set|add|book|send|write|search|look up|google|note|save|let me know|don't let me)\b"
    r"|\bremind me\b|\bcan you\b|\bcould you\b",
    re.I,
)
FIRST_PERSON = re.compile(r"\b(?:i|i'm|im|i've|i'll|i'd|we|we're|we've|me|us)\b", re.I)
STOPWORDS = frozenset(
    "the a an and or but of to in on at for with from by about as is are was were be been being "
    "has have had do does did not no this that these those there their they them he she his her "
    "its it user user's who which what when where than then also just very really now still "
    "some any all more most much many one two into over after before while because since until "
    "will would can could should may might must get got gets going goes went".split()
)


def clauses(message: str) -> list[tuple[str, str]]:
    """Split a message into ``(clause, kind)``, kind ``statement``, ``question`` or ``request``.

    A sentence ending in "?" makes its last clause a question; other clauses are questions
    when they open like one, requests when they ask the assistant to do something.
    """
    found = []
    for sentence in _SENTENCE.findall(message):
        parts = [part.strip() for part in _CLAUSE.findall(sentence) if part.strip()]
        asks = sentence.strip().endswith("?")
        kind = "statement"
        for index, part in enumerate(parts):
            if index and not asks and _RELATIVE.match(part):
                pass  # "my grandson Tomás, who is 4": goes on with the clause before
            elif (asks and index == len(parts) - 1) or _QUESTION.match(part):
                kind = "question"
            elif _REQUEST.search(part):
                kind = "request"
            elif not (kind != "statement" and _GOES_ON_ASKING.match(part)):
                kind = "statement"  # "..., for the fridge" goes on with the request
            found.append((part, kind))
    return found


#: A relative clause in a sentence that asks nothing ("..., who is 4", "..., where she grew up").
_RELATIVE = re.compile(
    r"^(?:who|which|whose|whom|where|when)\b(?!['’])(?!\s+(?:do|does|did|is|are|am|was|were|can|"
    r"could|will|would|should|have|has|had)\s+(?:(?:i|you|my|your|we|our|he|she|they|it|the|"
    r"this|that)\b|(?-i:[A-Z])))",
    re.I,
)
#: A clause that only goes on with the one before it ("make me a picture, for the fridge").
_GOES_ON_ASKING = re.compile(r"^(?:for|with|without|to|at|in|on|about|like|from|by|as)\b", re.I)


def sentences(message: str) -> list[str]:
    """The sentences of a message (split at ".", "!", "?" and line breaks)."""
    return list(_SENTENCE.findall(message))


def statement_clauses(message: str, *, min_words: int = 2) -> list[str]:
    """The clauses of ``message`` that state something (of at least ``min_words`` words)."""
    return [
        text
        for text, kind in clauses(message)
        if kind == "statement" and len(WORD.findall(text.lower())) >= min_words
    ]


def only_asked(message: str) -> frozenset[str]:
    """Content stems the message says only in its questions and requests."""
    stated: set[str] = set()
    asked: set[str] = set()
    for text, kind in clauses(message):
        (stated if kind == "statement" else asked).update(content_stems(text))
    return frozenset(asked - stated)


def names_in(text: str) -> set[str]:
    """Capitalised words (not the first) and numbers, lower-cased: what must not be invented."""
    words = re.findall(r"[\w'’-]+", text)
    found = set()
    for index, word in enumerate(words):
        bare = word.removesuffix("'s").removesuffix("’s")
        if any(ch.isdigit() for ch in bare) or (index > 0 and bare[:1].isupper()):
            found.add(bare.lower())
    return found - {"user"}


def content_stems(text: str, drop: Iterable[str] = ()) -> frozenset[str]:
    """Stems of a text's content words, without stopwords, relation words and ``drop``."""
    dropped = set(drop)
    return frozenset(
        stem(word)
        for word in WORD.findall(text.lower())
        if len(word) > 2
        and word not in STOPWORDS
        and word not in dropped
        and not is_relation_word(word)
    )


#: An age's unit after its number: words a model adds to "who is 4".
_AGE_UNIT = re.compile(r"\b(\d+)[ -]years?[ -]old\b", re.I)


def is_grounded(text: str, said: str, known_names: set[str], every_word: bool = False) -> bool:
    """Whether a statement's names and numbers were said, and at least half of its words.

    Args:
        text: The statement.
        said: The stating clauses of the message.
        known_names: Lower-cased names of the user's subjects (a statement may name them).
        every_word: Every content word must have been said ("The pelican is a bird." from
            "a picture of a pelican" is the model's own knowledge, no fact of the user's).
    """
    said_words = said_forms(WORD.findall(said.lower()))  # "Jan" says "January"
    said_stems = {stem(word) for word in said_words}
    text = _AGE_UNIT.sub(r"\1", text)  # "Tomás is 4 years old." of "Tomás, who is 4"
    names = names_in(text)
    unsaid = {
        name
        for name in names
        if name not in known_names and not all(p in said_words for p in WORD.findall(name))
    }
    # "Trinity College" of "Trinity": a word for the kind of place a said name is
    if unsaid - KIND_OF_PLACE or (unsaid and not names - unsaid):
        return False
    content = [w for w in WORD.findall(text.lower()) if len(w) > 2 and w not in STOPWORDS]
    if not content:
        return False
    hits = sum(1 for word in content if stem(word) in said_stems)
    return hits == len(content) if every_word else hits * 2 >= len(content)


def _relation_at(words: Sequence[str]) -> tuple[str, int] | None:
    """The relation that opens ``words`` (two words, else one), and its length."""
    for size in (2, 1):
        if len(words) >= size:
            relation = " ".join(words[:size]).strip(",.").removesuffix("'s").removesuffix("’s")
            if is_relation_word(relation):
                return relation, size
    return None


def _named_after(rest: str) -> str | None:
    named = re.match(rf",? ?(?:{TITLE})?({NAME})\b", rest)
    return named.group(1) if named else None


_NOT_A_NAME = frozenset(
    "the a an i my our we you he she they it his her their its this that there these those "
    "someone everyone nobody if when after before because since while once as so but and or "
    "then also maybe".split()
)


def head_of(text: str) -> tuple[str, Mention | None] | None:
    """Whom a statement's opening words name: ``("user", None)``, ``("other", mention)``.

    "The user ..." is the user; "The user's sister Ana ..." and "The user's cat ..." are
    someone else; "Ana ..." names someone; "Chidi's mum Ngozi ..." names Ngozi. None when
    the statement opens otherwise (a pronoun, "The vet ...").
    """
    lowered = text.lower()
    if lowered.startswith("the user's "):
        words = text[len("the user's ") :].split()
        found = _relation_at(words)
        if found is None:
            return "user", None
        relation, size = found
        rest = " ".join(words[size:])
        return "other", Mention(name=_name_in(rest), relation=relation)
    if lowered.startswith("the user ") or lowered == "the user.":
        return "user", None
    named = re.match(rf"(?:{TITLE})?({NAME})(['’]s)?\b", text)
    if not named or named.group(1).split(" ")[0].lower() in _NOT_A_NAME:
        return None
    if not named.group(2):
        return "other", Mention(name=named.group(1))
    words = text[named.end() :].split()
    found = _relation_at(words)
    if found is None:
        return "other", Mention(name=named.group(1))
    relation, size = found
    possessed = f"{named.group(1)}'s {relation}"
    return "other", Mention(name=_name_in(" ".join(words[size:])), relation=possessed)


def _name_in(rest: str) -> str | None:
    """The name after a relation: "called Ana", "name is Ana", ", Ana", "is Pierre." (whole)."""
    called = re.match(
        rf"(?:is |was )?(?:called|named) (?:{TITLE})?({NAME})|name is (?:{TITLE})?({NAME})"
        rf"|is (?:{TITLE})?({NAME})\.?$",
        rest,
    )
    if called:
        return called.group(1) or called.group(2) or called.group(3)
    return _named_after(rest)


#: A second capitalised word that goes on a name ("Mama Bisi", "Ana Maria"), not "I" or a day.
_MORE_NAME = (
    r"(?: (?!(?:I|I'm|I've|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b)"
    r"[A-Z][\w-]+)?"
)
_MY_RELATION_NAME = re.compile(
    rf"\b(?i:my|our)\s+((?:[\w-]+\s+){{0,2}}?[\w-]+?)\s*,?\s+(?:{TITLE})?({ONE_NAME}{_MORE_NAME})\b"
)
_NAME_MY_RELATION = re.compile(
    rf"\b(?:{TITLE})?({ONE_NAME}),\s+(?i:my|our)\s+((?:[\w-]+\s+)?[\w-]+)"
)
_MY_RELATION_CALLED = re.compile(
    rf"\b(?i:my|our)\s+((?:[\w-]+\s+)?[\w-]+?)(?i:'s name is| is called| is named| named| called)"
    rf"\s+(?:{TITLE})?({ONE_NAME})"
)
_PET_NAMED = re.compile(
    rf"\b(?i:a|an|the|our|my)\s+(?:(?i:new|little|second|rescue|adopted|old)\s+)*"
    rf"((?:[A-Za-z-]+\s+)?[a-z-]+)\s+"
    rf"(?i:named|called)\s+(?:{TITLE})?({ONE_NAME})"
)


_A_RELATION_NAME = re.compile(
    rf"\b(?i:a|an|have|has|got)\s+(?:(?i:new|little|second|third|rescue|baby|adopted)\s+)*"
    rf"(?:[A-Za-z-]+\s+)?([a-z-]+),\s+"
    rf"(?:{TITLE})?({ONE_NAME})\b"
)


#: A second relation and name joined to a first: "my son Tobi and daughter Kemi".
_AND_RELATION_NAME = re.compile(
    rf"\b(?i:my|our)\s+[\w-]+\s+{ONE_NAME}\s*,?\s+(?i:and|&)\s+(?:(?i:my|our)\s+)?"
    rf"([a-z-]+)\s+(?:{TITLE})?({ONE_NAME})\b"
)


#: Relations given to a list of names: "two roommates, Jordan and Bea", "my sisters Ana and Eva".
_AGED = r"(?:\s+(?:is|aged)\s+\d{1,2})?"  # "two kids: Max is 9 and Lily is 6"
_RELATION_LISTED = re.compile(
    rf"\b(?i:my|our|two|three|four|both)\s+([a-z-]+?)s[,:]?\s+"
    rf"((?:{ONE_NAME}{_AGED},\s+)*{ONE_NAME}{_AGED}),?\s+(?i:and|&)\s+(?:{TITLE})?({ONE_NAME})\b"
)


def relations_in(message: str) -> dict[str, str]:
    """Relations the message states, by case-folded name: {"ana": "sister"}."""
    found: dict[str, str] = {}
    found.update(newborns_in(message))
    for match in _RELATION_LISTED.finditer(message):
        relation = _relation_at([match.group(1)])
        names = [*re.findall(ONE_NAME, match.group(2)), match.group(3)]
        if relation is not None:
            for name in names:
                found.setdefault(name.casefold(), str(normalise_relation(relation[0])))
    for pattern, name_first in (
        (_MY_RELATION_NAME, False),
        (_NAME_MY_RELATION, True),
        (_MY_RELATION_CALLED, False),
        (_PET_NAMED, False),
        (_A_RELATION_NAME, False),
        (_AND_RELATION_NAME, False),
    ):
        for match in pattern.finditer(message):
            name, words = (match.group(1), match.group(2)) if name_first else match.group(2, 1)
            relation = _relation_at(words.split())
            if relation is not None and relation[1] == len(words.split()):
                found.setdefault(name.casefold(), str(normalise_relation(relation[0])))
    return found


def subject_opening(clause: str, relations: dict[str, str]) -> Mention | None:
    """The subject a clause opens with: a name the message relates, or "my <relation>"."""
    text = re.sub(_LEAD, "", clause).strip()
    mine = re.match(r"(?i:my|our)\s+([\w-]+(?:\s+[\w-]+)?)", text)
    if mine:
        found = _relation_at(mine.group(1).split())
        if found is not None:
            after = text[mine.start(1) + len(found[0]) :]
            return Mention(name=_named_after(after), relation=found[0])
    named = re.match(rf"(?:{TITLE})?({ONE_NAME})\b", text)
    if named and named.group(1).casefold() in relations:
        return Mention(name=named.group(1), relation=relations[named.group(1).casefold()] or None)
    return None


def speaker_of(
    statement: str, message: str, relations: dict[str, str], earlier: str = ""
) -> Mention | None:
    """The subject of the clause that says ``statement``, when it is not the user.

    A statement is left with the user when any first-person clause of the message shares a
    content word with it ("My sister Ana loves hiking, I hate it."). Otherwise the clause
    sharing most content words is taken; when it opens with someone ("my sister Ana ...",
    "Ngozi ...", a name the message relates), that someone is returned. ``earlier`` is what
    was said before the message (the name of whom the user spoke of last): "she takes
    levodopa" after "my mother Greet has Parkinson's" is about Greet.
    """
    words = content_stems(statement)
    best, overlap, at = None, 0, 0
    for sentence in _SENTENCE.finditer(message):
        for clause in _CLAUSE.finditer(sentence.group(0)):
            shared = len(words & content_stems(clause.group(0)))
            if shared and FIRST_PERSON.search(clause.group(0)):
                return None
            if shared > overlap:
                best, overlap, at = clause.group(0), shared, sentence.start() + clause.start()
    if best is None:
        return None
    before = f"{earlier} {message[:at]}"
    return subject_opening(best, relations) or _pronoun_subject(best, before, relations)


_THIRD_PERSON_OPENING = re.compile(r"(?:he|she|he's|she's|his|her)\b", re.I)
#: "he" or "she" past the opening ("if a dose is late she freezes up"), not "me" or "I".
_THIRD_PERSON_IN = re.compile(r"\b(?:he|she|he's|she's)\b(?!.*\b(?:i|me|my|i'm)\b)", re.I)


def _pronoun_subject(clause: str, before: str, relations: dict[str, str]) -> Mention | None:
    """The person a clause opening with "he"/"she"/"his"/"her" is about: the last one named.

    "cooking for my boyfriend Ivan's parents. he's allergic to shellfish": the allergy is
    Ivan's, never the user's. Only a name the message relates to the user is taken.
    """
    opening = re.sub(_LEAD, "", clause).strip()
    if not _THIRD_PERSON_OPENING.match(opening) and not _THIRD_PERSON_IN.search(opening):
        return None
    last: tuple[int, str] | None = None
    for name in relations:
        for match in name_pattern(name).finditer(before):
            if last is None or match.start() > last[0]:
                last = (match.start(), match.group(0))
    if last is None:
        return None
    return Mention(name=last[1], relation=relations[last[1].casefold()])
