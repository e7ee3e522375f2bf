"""Relations the model's statements give, checked against what the user said.

- :func:`stated_relations`: "Ana is the user's sister." relates Ana to the user;
- :func:`relation_grounded`: a relation must have been said ("Kenji is the user's brother."
  from "yo. kenji. 34" is invented and dropped);
- :func:`as_own_place`: an employer, school or hometown stated as if it were someone ("Delta
  is the user's employer.") is a fact of the user's ("The user works for Delta.");
- :func:`relation_said`: whether a message says a relation, in any familiar form;
- :func:`only_theirs`: whether it says that relation only of someone else ("their mom
  Rachel", "her new husband" are nobody's mother or husband to the user).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from confidante.memory.ingest.statements import WORD
from confidante.memory.slots import JOB_NOUNS
from confidante.memory.subjects.names import (
    DEMONYMS,
    SOMEONE_ELSES,
    Mention,
    in_law,
    is_relation_word,
    name_pattern,
    normalise_relation,
)

#: A statement that relates someone to the user: "Ana is the user's sister.".
RELATION_STATEMENT = re.compile(
    r"^([A-Z][\w-]*(?: [A-Z][\w-]*){0,2}) is (?:now )?the user's ([\w' -]+?)\.?$"
)


#: Any statement that relates someone to the user, whatever its opening.
_ANYONE_RELATED = re.compile(r"^.+? is (?:now )?the user's ([\w' -]+?)\.?$")


def relation_said(relation: str, message: str) -> bool:
    """Whether the message says a relation (any familiar form: "mum" says "mother")."""
    wanted = normalise_relation(relation)
    if not wanted:
        return False
    head = wanted.split(" ")[-1]
    words = {normalise_relation(word) for word in WORD.findall(message.lower())}
    return head in words or wanted in message.lower()


def only_theirs(relation: str, message: str) -> bool:
    """Whether every time the message says a relation it is someone else's, not the user's.

    "their mom Rachel moved to Seattle with her new husband": neither a mother nor a husband
    of the user's. False when the relation is not said at all (see :func:`relation_said`).
    """
    wanted = normalise_relation(relation)
    if not wanted:
        return False
    said = _said_at(wanted, message)
    return bool(said) and all(SOMEONE_ELSES.search(message[max(0, at - 60) : at]) for at in said)


def possessor_of(relation: str, message: str, names: Sequence[str]) -> str | None:
    """Whose relation "his mum Ngozi" is: the last of ``names`` said before "his" or "her".

    "my husband Chidi ..., and his mum Ngozi is flying in" → "Chidi".
    """
    wanted = normalise_relation(relation)
    if not wanted:
        return None
    for at in _said_at(wanted, message):
        if not re.search(
            r"\b(?:his|her)\s+(?:[\w-]+\s+){0,2}$", message[max(0, at - 40) : at], re.I
        ):
            continue
        said = [
            (found.start(), name)
            for name in names
            for found in name_pattern(name).finditer(message[:at])
        ]
        return max(said)[1] if said else None
    return None


def _said_at(relation: str, message: str) -> list[int]:
    """Where the message says a relation's head word, in any familiar form ("mum": mother)."""
    head = relation.split(" ")[-1]
    return [
        word.start()
        for word in re.finditer(r"[\w-]+", message)
        if normalise_relation(word.group(0).lower()) == head
    ]


def stated_relations(statements: Sequence[str]) -> dict[str, str]:
    """Relations the statements give ("Ana is the user's sister." → {"ana": "sister"})."""
    found = {}
    for statement in statements:
        match = RELATION_STATEMENT.match(statement.strip())
        relation = normalise_relation(match.group(2)) if match else None
        if match and relation and is_relation_word(relation):
            found[match.group(1).casefold()] = relation
    return found


#: Relations that are not someone but a place or an organisation of the user's own life:
#: "Delta is the user's employer." is the user's employer.
_OWN_PLACES = {
    "employer": "The user works for {}.",
    "company": "The user works for {}.",
    "workplace": "The user works at {}.",
    "job": "The user works at {}.",
    "school": "The user studies at {}.",
    "university": "The user studies at {}.",
    "college": "The user studies at {}.",
    "uni": "The user studies at {}.",
    "hometown": "The user is from {}.",
    "home town": "The user is from {}.",
    "city": "The user lives in {}.",
    "home city": "The user lives in {}.",
    "home": "The user lives in {}.",
}


def as_own_place(text: str) -> str:
    """Say "Delta is the user's employer." said of the user: "The user works for Delta."."""
    match = RELATION_STATEMENT.match(text.strip())
    pattern = _OWN_PLACES.get(match.group(2).strip().lower()) if match else None
    return pattern.format(match.group(1)) if match and pattern else text


#: A relation said the other way round: "The user's sister is Ana.".
_RELATION_REVERSED = re.compile(
    r"^(?i:the user's) ([\w -]+?) is ([A-Z][\w-]*(?: [A-Z][\w-]*)?)\.?$"
)


def relation_first(text: str) -> str:
    """A relation said the other way round in the usual order: "Sam is the user's boyfriend.".

    "The user's boyfriend is Sam." would stay current after a breakup ends the relation
    fact, which is read in the usual order only.
    """
    found = _RELATION_REVERSED.match(text.strip())
    if found is None or not is_relation_word(found.group(1)):
        return text
    return f"{found.group(2)} is the user's {found.group(1)}."


def relation_grounded(text: str, message: str, relations: dict[str, str | None]) -> bool:
    """A relation statement's relation must be said, or be the one the memory knows.

    "Kenji is the user's brother." from "yo. kenji. 34" is dropped: nothing says brother;
    so is "The user's staff is the user's employer.": a thing of the user's said to be
    another (a person may be two: "The user's sister is the user's roommate.").
    """
    match = RELATION_STATEMENT.match(text.strip())
    anyone = _ANYONE_RELATED.match(text.strip())
    owned = re.match(r"^the user's ([\w -]+?) is", text.strip(), re.I)
    if anyone is not None and owned is not None:  # "The user's wife is the user's mother."
        return is_relation_word(owned.group(1)) and relation_said(anyone.group(1), message)
    if match is None and anyone is not None:  # "Rachel's new husband is the user's husband."
        relation = normalise_relation(anyone.group(1))  # said, and of the user's own
        if relation and is_relation_word(relation):  # ("Finn's wife is the user's partner.")
            return relation_said(relation, message) and not only_theirs(relation, message)
        return True
    named = match.group(1, 2) if match else None
    if (reverse := _RELATION_REVERSED.match(text.strip())) is not None:
        named = reverse.group(2, 1)  # "The user's daughter is Nuvola."
    relation = normalise_relation(named[1]) if named else None
    if named is None or relation is None or not is_relation_word(relation):
        return True
    known = relations.get(named[0].casefold())
    if known is not None and known == relation:
        return True
    return relation_said(relation, message) and not only_theirs(relation, message)


def said_as_theirs(mention: Mention, message: str, relations: Mapping[str, str | None]) -> bool:
    """Whether a mention's relation is only said of someone else's ("their mom Rachel").

    A relation the memory already knows the named subject by is the user's.
    """
    relation = mention.relation or ""
    if not relation or "'s " in relation:
        return False
    known = relations.get((mention.name or "").casefold())
    return known != normalise_relation(relation) and only_theirs(relation, message)


def whose_relation(
    mention: Mention, message: str, relations: Mapping[str, str | None]
) -> str | None:
    """The relation of someone said as another's, told from the user.

    "my husband Chidi ..., his mum Ngozi" makes Ngozi the user's "mother-in-law"; "my friend
    Ana ..., her brother Tom" makes Tom "Ana's brother". Else the relation the memory knows
    the subject by (None when it knows none).
    """
    relation = normalise_relation(mention.relation) or ""
    names = [name for name, rel in relations.items() if rel]
    owner = possessor_of(relation, message, names) if relation else None
    if owner is None:
        return relations.get(str(mention.name).casefold())
    spelled = name_pattern(owner).search(message)
    owned = f"{spelled.group(0) if spelled else owner}'s {relation}"
    return in_law(str(relations[owner]), relation) or owned


def as_the_users(mention: Mention | None, relations: Mapping[str, str | None]) -> Mention | None:
    """A relation of someone's told from the user, when the user has a word for it.

    "Lin's mother" is the user's mother-in-law when Lin is the user's wife; "Rita's grandson"
    is the user's grandson when the user calls him "my grandson".
    """
    if mention is None:
        return None
    own = relations.get(mention.name.casefold()) if mention.name else None
    if own and "'s " not in own and "'s " in (mention.relation or ""):
        # "Rita's grandson is Tomás." of "... with her husband and my grandson Tomás"
        return Mention(name=mention.name, relation=own, kind=mention.kind)
    owner, _, rest = (mention.relation or "").rpartition("'s ")
    spouse = relations.get(owner.casefold()) if owner else None
    found = in_law(spouse, normalise_relation(rest) or "") if spouse else None
    return Mention(name=mention.name, relation=found, kind=mention.kind) if found else mention


_JOB = re.compile(rf"^(?:{JOB_NOUNS}|student)$", re.I)
#: "The user is a neighbour.": the user called by a relation word.
_USER_IS_RELATION = re.compile(r"^the user is (?:a|an|the) (?:[\w-]+ )?([\w-]+)\.?$", re.I)


def self_relation_unsaid(text: str, message: str) -> bool:
    """Whether a statement calls the user a relation the message never says of them.

    "The user is a neighbour." from "a neighbour asked if I'd help": the neighbour is someone
    else; "I'm a mother of two" says it of the user.
    """
    match = _USER_IS_RELATION.match(text.strip())
    if match is None or not is_relation_word(match.group(1)) or _JOB.match(match.group(1)):
        return False  # "The user is a retired teacher.": a job, said in many ways
    word = re.escape(match.group(1))
    said = rf"\b(?:i'm|i am|im|as)\s+(?:a|an|the)?\s*(?:[\w-]+\s+)?{word}"
    return re.search(said, message, re.I) is None


def is_stranger(mention: Mention | None, message: str, known_names: set[str]) -> bool:
    """Whether a statement's subject is someone the message names with no tie to the user.

    What a model says of them ("Fela Kuti and Tinariwen are musical artists.") must then be
    said word for word.
    """
    if mention is None or not mention.name or mention.relation:
        return False
    name = mention.name
    return name.casefold() not in known_names and bool(name_pattern(name).search(message))


def names_someone(mention: Mention | None, message: str, known_names: set[str]) -> bool:
    """Whether a mention names a subject: said in the message or already known."""
    if mention is None:
        return False
    cleaned = mention.cleaned()
    if cleaned.name:  # a new name said only in lower case with no tie is a word ("keto is over")
        name, tied = cleaned.name, bool(cleaned.relation)
        said = name_pattern(name).search(message)
        cased = tied or re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", message)
        if name.casefold() in DEMONYMS:  # "Japanese is my language"
            return False
        return name.casefold() in known_names or bool(said and cased)
    relation = cleaned.relation or ""
    if not relation:
        return False
    words = {normalise_relation(w) for w in WORD.findall(message.lower())}
    head = relation.split(" ")[-1]
    return head in words or relation in message.lower() or "'s " in relation
