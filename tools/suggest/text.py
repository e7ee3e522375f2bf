"""Text handling for query suggestion: normalisation and offline entity extraction.

Entities are extracted without any model, by rules that suit search queries and titles:

- a text is lower-cased, URL affixes are dropped (``www.``, ``http://``, ``.com``...), and it
  is cut into *chunks* at stopwords and punctuation (a chunk approximates a noun phrase:
  "cheap flights to new york" gives ``cheap flights`` and ``new york``);
- chunks of one to :data:`MAX_ENTITY_WORDS` words are entities, and so is every content word
  of a chunk (as a topic: ``surf`` links the queries ``surf lisbon`` and ``ericeira surf camp``);
  bare numbers are not;
- in a text that has capitals (a title, a chat message), runs of capitalised words are named
  entities even across stopwords ("Bank of America").

A chat message also carries the words of the request itself ("what should I *search* for
about..."): :func:`topic_phrases` and :func:`topic_terms` leave out :data:`CHAT_WORDS` as well,
so what remains is what the message is about.

Search queries are short, lower-case keyword strings without grammar, on which taggers and
named-entity recognisers trained on edited prose do little; spaCy's English pipelines are also
not published on PyPI by their authors (only unofficial re-uploads are), so they are not a
dependency here. This choice is argued, not measured against spaCy.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

__all__ = [
    "CHAT_WORDS",
    "MAX_ENTITY_WORDS",
    "STOPWORDS",
    "extract_entities",
    "normalise_query",
    "terms",
    "topic_phrases",
    "topic_terms",
]

MAX_ENTITY_WORDS = 3
#: How many texts' words and entities are remembered (the same candidates recur across calls).
CACHED_TEXTS = 1 << 16
STOPWORDS = frozenset(
    """a about after all also an and any are as at be because been but by can could did do does
    for from had has have he her here his how i if in into is it its just me more most my no not
    of on or our out over she so some than that the their them then there these they this those
    to too up us was we were what when where which while who why will with would you your
    vs www http https com net org html htm""".split()
)
#: Words of a chat message that ask or chat rather than name a topic.
CHAT_WORDS = frozenset(
    """search searches searching searched google googling look looking lookup type typing
    query queries keywords keyword terms term phrases ideas idea suggest suggestions suggestion
    find finding online web internet want wanted know think thinking like tell please help need
    thanks thank maybe really something anything things thing stuff good great some more lot
    i'm im i've i'd i'll let get got go going make give list can't don't should could would
    might much many well yes okay ok hi hello hey just also very""".split()
)
_URL_AFFIX = re.compile(r"https?://|www\.|\.(?:com|net|org|edu|gov|us|html?)\b")
_SPACES = re.compile(r"\s+")
_TOKEN = re.compile(r"[a-z0-9][a-z0-9'&+-]*")
_SPLITTER = re.compile(r"[^\w\s'&+-]+")
_CAPITALISED = re.compile(r"\b[A-Z][\w'&-]*(?:\s+(?:of|the|and|de|la|&)?\s*[A-Z][\w'&-]*)+")


def normalise_query(text: str) -> str:
    """Return the canonical form of a query: lower case, single spaces, trimmed."""
    return _SPACES.sub(" ", text.strip().lower())


def terms(text: str) -> list[str]:
    """Return the content words of a text (lower case, no stopwords, URL affixes dropped)."""
    return list(_terms(text))


@lru_cache(maxsize=CACHED_TEXTS)
def _terms(text: str) -> tuple[str, ...]:
    """:func:`terms`, remembered: the ranker asks it of the same candidates on every call."""
    cleaned = _URL_AFFIX.sub(" ", text.lower())
    return tuple(
        token.strip("'-+&")
        for token in _TOKEN.findall(cleaned)
        if token not in STOPWORDS and len(token.strip("'-+&")) > 1
    )


def _chunks(text: str) -> Iterable[list[str]]:
    cleaned = _URL_AFFIX.sub(" ", text.lower())
    for piece in _SPLITTER.split(cleaned):
        chunk: list[str] = []
        for token in _TOKEN.findall(piece):
            token = token.strip("'-+&")
            if token in STOPWORDS or len(token) < 2:
                if chunk:
                    yield chunk
                chunk = []
            else:
                chunk.append(token)
        if chunk:
            yield chunk


def extract_entities(text: str) -> list[str]:
    """Return the entities and topics of a query, title or message, in order, without repeats.

    Example:
        >>> extract_entities("cheap flights to new york")
        ['cheap flights', 'new york', 'cheap', 'flights', 'new', 'york']
        >>> extract_entities("Deals at Bank of America")
        ['bank of america', 'deals']
    """
    return list(_entities(text))


@lru_cache(maxsize=CACHED_TEXTS)
def _entities(text: str) -> tuple[str, ...]:
    """:func:`extract_entities`, remembered (as :func:`_terms`)."""
    names = [" ".join(_words(match.group(0))) for match in _CAPITALISED.finditer(text)]
    covered = {word for name in names for word in name.split()}
    found = [name for name in names if name]
    words: list[str] = []
    for chunk in _chunks(text):
        if len(chunk) <= MAX_ENTITY_WORDS:
            found.append(" ".join(chunk))
            words.extend(chunk if len(chunk) > 1 else ())
        else:
            found.extend(chunk)
    found.extend(words)
    result: list[str] = []
    for name in found:
        if name.isdigit():  # a bare number (a year, a route) is not a topic of its own
            continue
        if name not in result and (name in names or name not in covered):
            result.append(name)
    return tuple(result)


def _words(text: str) -> list[str]:
    """Return the lower-case words of a name, stopwords kept (``bank of america``)."""
    return [token for token in _TOKEN.findall(_URL_AFFIX.sub(" ", text.lower())) if token]


def topic_terms(text: str) -> list[str]:
    """Return the content words of a chat message that name its topic (see :data:`CHAT_WORDS`)."""
    return [term for term in terms(text) if term not in CHAT_WORDS]


def topic_phrases(text: str) -> list[str]:
    """Return what a chat message is about, as short search phrases, in order.

    Its entities (:func:`extract_entities`) with the request's own words dropped from them.

    Example:
        >>> topic_phrases("What should I search for about surf lessons in Lisbon?")
        ['surf lessons', 'lisbon', 'surf', 'lessons']
    """
    found: list[str] = []
    for name in extract_entities(text):
        phrase = " ".join(word for word in name.split() if word not in CHAT_WORDS)
        if phrase and not phrase.isdigit() and phrase not in found:
            found.append(phrase)
    return found
