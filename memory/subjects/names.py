"""Names and relations of subjects, read from text: the rules behind ``subjects.directory``.

- :func:`normalise_relation` and :func:`is_relation_word`: "mum" is "mother", "twin sister"
  is a relation, "Chidi's mum" keeps its possessor;
- :func:`clean_name`: a usable name or None ("she", "the user" are not names);
- :class:`Mention`: a reference to a subject by name and/or relation;
- :func:`find_subject`: which of a user's subjects a mention is;
- :func:`mentioned_in`: the subjects a text names or calls by relation ("my sister").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from pydantic import BaseModel

#: Relations of pets (a subject with one of them is of kind ``pet``).
PET_RELATIONS = frozenset(
    "dog cat puppy kitten pet parrot bird hamster rabbit bunny horse fish turtle tortoise "
    "guinea pig lizard snake ferret budgie gecko chicken goat pony".split()
)
#: Relations of people, as single words (the last word of a relation: "twin sister").
PERSON_RELATIONS = frozenset(
    "mother father parent parents sister brother sibling siblings son daughter child children "
    "kid kids baby wife husband partner spouse boyfriend girlfriend fiance fiancé fiancee "
    "fiancée ex ex-partner ex-wife ex-husband ex-boyfriend ex-girlfriend grandmother "
    "grandfather grandparents grandson granddaughter grandchild aunt uncle cousin nephew niece "
    "mother-in-law father-in-law sister-in-law brother-in-law son-in-law daughter-in-law "
    "in-laws stepmother stepfather stepson stepdaughter stepbrother stepsister godmother "
    "godfather godson goddaughter twin friend friends bestie roommate flatmate housemate "
    "neighbour neighbor boss manager coworker colleague co-worker teammate bandmate classmate "
    "teacher professor tutor student mentor coach doctor therapist dentist landlord landlady "
    "client customer employee assistant trainer physio nanny babysitter caregiver carer "
    "pastor priest rabbi imam vet lawyer accountant".split()
)
_RELATION_WORDS = {
    "mom": "mother",
    "mum": "mother",
    "mama": "mother",
    "mommy": "mother",
    "mam": "mother",
    "mammy": "mother",
    "mamma": "mother",
    "mummy": "mother",
    "mom-in-law": "mother-in-law",
    "dad-in-law": "father-in-law",
    "pops": "father",
    "nana": "grandmother",
    "nan": "grandmother",
    "gran": "grandmother",
    "oma": "grandmother",
    "opa": "grandfather",
    "grandad": "grandfather",
    "granddad": "grandfather",
    "wifey": "wife",
    "missus": "wife",
    "dad": "father",
    "papa": "father",
    "daddy": "father",
    "sis": "sister",
    "bro": "brother",
    "hubby": "husband",
    "bf": "boyfriend",
    "gf": "girlfriend",
    "grandma": "grandmother",
    "granny": "grandmother",
    "grandpa": "grandfather",
    "colleague": "coworker",
    "mate": "friend",
    "pal": "friend",
    "buddy": "friend",
    "bestie": "best friend",
    "bff": "best friend",
    "co-worker": "coworker",
    "neighbor": "neighbour",
    "pup": "puppy",
    "doggo": "dog",
    "kitty": "cat",
    # a pet called by its breed ("our old beagle Biscuit") is a dog or a cat
    **dict.fromkeys(
        "beagle labrador poodle terrier spaniel collie husky shiba corgi dachshund pug "
        "chihuahua retriever bulldog greyhound whippet schnauzer rottweiler dalmatian "
        "labradoodle cockapoo cavapoo pomeranian akita doberman mutt sheepdog "
        # the last word of a breed of two ("shiba inu", "german shepherd", "jack russell")
        "inu shepherd russell setter pointer hound mastiff goldendoodle bernedoodle tzu "
        "bichon".split(),
        "dog",
    ),
    **dict.fromkeys("tabby siamese ragdoll sphynx moggy shorthair longhair coon".split(), "cat"),
}
#: How a parent speaks of a child in a question ("how old is my girl?"), past the relation.
_CALLED_ALSO = {
    "daughter": ("girl", "little girl", "baby girl", "kid", "eldest", "youngest"),
    "son": ("boy", "little boy", "baby boy", "lad", "kid", "eldest", "youngest"),
}


def relation_aliases(relation: str) -> list[str]:
    """Other words a user may call a relation by ("hubby", "mum", "my girl").

    Args:
        relation: A normalised relation ("husband", "daughter").
    """
    informal = [word for word, meant in _RELATION_WORDS.items() if meant == relation]
    return [*informal, *_CALLED_ALSO.get(relation, ())]


#: Nationalities, languages and faiths: never a subject's name ("I'm Polish", "Japanese is
#: my language").
DEMONYMS = frozenset(
    """american british english irish scottish welsh canadian mexican brazilian argentinian
    chilean colombian peruvian venezuelan cuban spanish portuguese french german dutch belgian
    swiss austrian italian greek polish czech slovak hungarian romanian bulgarian serbian
    croatian ukrainian russian turkish kurdish danish swedish norwegian finnish icelandic
    estonian latvian lithuanian chinese japanese korean vietnamese thai filipino filipina
    indonesian malaysian singaporean indian pakistani bangladeshi nepalese sri lankan iranian
    iraqi syrian lebanese egyptian moroccan algerian tunisian nigerian ghanaian kenyan
    ethiopian somali sudanese senegalese congolese african asian european australian kiwi
    jewish muslim catholic hindu buddhist sikh arab arabic hebrew""".split()
)
#: Common words that are also first names: matched only when capitalised.
_WORDLIKE_NAMES = frozenset(
    "will may june april august rose grace bill mark art rich pat sue joy hope faith summer "
    "autumn dawn max sky river rain page hunter chase frank earl jack ray sunny lily ivy "
    "pepper ginger honey coco buddy lucky".split()
)
_NOT_NAMES = frozenset(
    "user i me myself we us you he she him her they them it someone somebody everyone "
    "nobody the a an my our his their".split()
)
#: Words before a relation that make it someone else's: "their mom", "her new husband",
#: "Chidi's sister" ("told her my brother" is the user's brother).
SOMEONE_ELSES = re.compile(
    r"(?:\b(?:his|her|their|its|your)|\b(?!(?:it|that|what|there|here|who|where|he|she|let|"
    r"how)['’]s\b)\w+['’]s|s['’])\s+(?:(?!(?:my|our)\b)[\w-]+\s+){0,2}$",
    re.I,
)
#: Words before a relation that say nothing of it ("new boyfriend"; an "old boss" is not the
#: boss).
_MERE_WORDS = frozenset("new current dear lovely sweet beloved good fluffy".split())
_SPACES = re.compile(r"\s+")
_FOR_NOW = re.compile(r"\s+(?:right now|now|currently|these days|at the moment|for now)$")


def normalise_relation(relation: str | None) -> str | None:
    """Lower-case a relation and map familiar forms to one word ("mum" → "mother")."""
    if not relation:
        return None
    possessor, _, rest = relation.strip().rpartition("'s ")
    if possessor and rest and " " not in possessor.strip():  # "Chidi's mother": keep the name
        tail = normalise_relation(rest)
        owner = normalise_relation(possessor.strip().lower().removeprefix("user's "))
        if tail and owner and in_law(owner, tail):  # "husband's mother" is a mother-in-law
            return in_law(owner, tail)
        return f"{possessor.strip()}'s {tail}"[:100] if tail else None
    words = _SPACES.sub(" ", relation.strip().lower()).removeprefix("my ").removeprefix("the ")
    words = words.removeprefix("user's ").strip(" .,;:!?'\"")
    words = _FOR_NOW.sub("", words)  # "biggest client right now" is a client
    if not words or words in {"none", "user", "self", "n/a", "unknown", "other"}:
        return None
    parts = words.split(" ")
    mapped = _RELATION_WORDS.get(parts[-1], parts[-1])
    if mapped in ("dog", "cat") and mapped != parts[-1]:
        parts = [mapped]  # a breed ("shiba inu", "german shepherd") is a dog or a cat
    else:
        parts[-1] = mapped
    while len(parts) > 1 and parts[0] in _MERE_WORDS:  # "my new boyfriend" is a boyfriend
        parts.pop(0)
    return " ".join(parts)[:100]


#: Whose family are the user's in-laws, and which of their family.
_SPOUSES = frozenset("husband wife partner spouse fiance fiancé fiancee fiancée".split())
_IN_LAWS = frozenset("mother father sister brother son daughter parents".split())


def in_law(whose: str, relation: str) -> str | None:
    """The user's relation to a relative's relative, when it is an in-law.

    ("husband", "mother") → "mother-in-law"; ("daughter", "husband") → "son-in-law";
    ("sister", "husband") → "brother-in-law".
    """
    head = whose.split(" ")[-1]
    if head in _SPOUSES and relation in _IN_LAWS:
        return "in-laws" if relation == "parents" else f"{relation}-in-law"
    if relation not in {"husband", "wife"}:
        return None
    if head in {"daughter", "son", "child", "kid"}:
        return "son-in-law" if relation == "husband" else "daughter-in-law"
    if head in {"sister", "brother", "sibling"}:
        return "brother-in-law" if relation == "husband" else "sister-in-law"
    return None


def clean_name(name: str | None) -> str | None:
    """Tidy a subject's name as written; None when it is empty or not a name ("she", "user")."""
    if not name:
        return None
    text = _SPACES.sub(" ", name.strip().strip(" .,;:!?'\"()"))
    text = re.sub(r"^(?:my|our|the user's|the) ", "", text, flags=re.I)
    if not text or text.lower() in _NOT_NAMES or len(text) > 200:
        return None
    return text


def is_relation_word(words: str) -> bool:
    """Whether ``words`` name a relation to the user ("sister", "best friend", "cat")."""
    relation = normalise_relation(words)
    if not relation:
        return False
    head = relation.split(" ")[-1]
    return head in PERSON_RELATIONS or head in PET_RELATIONS


def kind_of(relation: str | None) -> str:
    """``pet`` for a pet's relation ("cat", "dog"), else ``person``."""
    if relation and relation.split(" ")[-1] in PET_RELATIONS:
        return "pet"
    return "person"


class Mention(BaseModel):
    """A reference to a subject by name and/or relation ("Ana", "sister").

    ``name`` may be the relation word itself when the user gave no name ("mother").
    """

    name: str | None = None
    relation: str | None = None
    kind: str | None = None

    def cleaned(self) -> Mention:
        """Return the mention with its name and relation normalised."""
        relation = normalise_relation(self.relation)
        name = clean_name(self.name)
        if name is not None and normalise_relation(name) == relation:
            name = None  # "mother" (mother): known only by the relation
        return Mention(name=name, relation=relation, kind=self.kind or kind_of(relation))


def same_name(a: str | None, b: str | None) -> bool:
    """Whether two names are the same, ignoring case."""
    return bool(a and b) and str(a).casefold() == str(b).casefold()


class _SubjectLike(Protocol):
    name: str | None
    relation: str | None
    aliases: list[str]
    updated_at: datetime


SubjectT = TypeVar("SubjectT", bound=_SubjectLike)


class _Named(Protocol):
    relation: str | None

    def names(self) -> list[str]: ...


NamedT = TypeVar("NamedT", bound=_Named)


def find_subject(subjects: Sequence[SubjectT], mention: Mention) -> SubjectT | None:
    """The subject of ``subjects`` that ``mention`` (already cleaned) refers to, or None.

    Works on rows and on :class:`SubjectView` values alike.
    """
    if mention.name:
        for subject in subjects:
            if any(same_name(mention.name, name) for name in [subject.name, *subject.aliases]):
                return subject
        if mention.relation:  # "my mother" known by relation only, now named
            for subject in sorted(subjects, key=lambda s: s.updated_at, reverse=True):
                if subject.name is None and subject.relation == mention.relation:
                    return subject
        return None
    if mention.relation:
        matches = [s for s in subjects if s.relation == mention.relation]
        return max(matches, key=lambda s: s.updated_at) if matches else None
    return None


def name_pattern(name: str) -> re.Pattern[str]:
    """A pattern that finds ``name`` as whole words (case-insensitive unless it is word-like)."""
    flags = 0 if name.lower() in _WORDLIKE_NAMES else re.IGNORECASE
    return re.compile(rf"(?<![\w-]){re.escape(name)}(?![\w-])", flags)


def _singular(word: str) -> str:
    """A relation word in the singular ("dogs" → "dog", "children" → "child")."""
    irregular = {"children": "child", "people": "person", "wives": "wife"}
    if word in irregular:
        return irregular[word]
    return str(normalise_relation(word[:-1])) if word.endswith("s") and len(word) > 3 else word


def mentioned_in(subjects: Sequence[NamedT], text: str) -> list[NamedT]:
    """The subjects ``text`` names ("Ana") or refers to by relation ("my sister"), in order."""
    found: list[NamedT] = []
    possessed: set[str] = set()
    for match in re.finditer(r"\b(?:my|our)\s+([\w-]+(?:\s+[\w-]+){0,2})", text, re.I):
        words = match.group(1).split()
        possessed |= {
            str(normalise_relation(" ".join(words[:n]))) for n in range(1, len(words) + 1)
        }
    heads = {relation.split(" ")[-1] for relation in possessed if relation}
    heads |= {_singular(head) for head in heads}  # "my dogs" are each of the user's dogs
    for subject in subjects:
        by_name = any(name_pattern(name).search(text) for name in subject.names())
        relation = subject.relation or ""
        head = relation.split(" ")[-1]
        by_relation = bool(relation) and (
            relation in possessed
            or head in heads
            or bool(possessed & set(_CALLED_ALSO.get(head, ())))
        )  # "my girl" is the user's daughter
        if by_name or by_relation:
            found.append(subject)
    return found
