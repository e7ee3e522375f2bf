"""Reasons for a recommendation that are true or absent.

A reason may cite a remembered fact ("Matches what you told me: The user loves science
fiction.") only when the fact is about the item's content: it shares a meaningful word with
the item's title, genres or other attributes (stopwords and words that name no content, such
as "user", "likes", "movie", left out). Embedding similarity alone does not justify a citation:
it matched "The user lives in Lisbon and has a dog called Biscuit" to *Un chien andalou*
(issue 25). The user's request is never retold as something they told us; when it shares a
word with the item, the reason says the item fits the request. Otherwise there is no reason:
absent is better than false.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from confidante.tools.recommend.catalog import CatalogItem
from confidante.tools.recommend.constraints import words

__all__ = ["content_words", "fact_reason", "item_words", "shared_words"]

#: Words that say nothing about an item's content.
_EMPTY = frozenset(
    """a about above after again all also always am an and any are as at be because been before
    being both but by can could did do does doing don down during each even ever every few for
    from further had has have having he her here hers him his how i if in into is it its just me
    more most my no nor not now of off on once only or other our out over own same she should so
    some such than that the their them then there these they this those through to too under
    until up us very was we were what when where which while who whom why will with would you
    your user user's person people someone told tell says said like likes liked love loves loved
    enjoy enjoys enjoyed adore adores prefer prefers preferred favourite favorite fan into really
    lot lots much many thing things stuff kind kinds sort type types good great best nice new old
    want wants wanted watch watches watched see saw seen read reads something anything everything
    movie film book show serie song music game item one two three lives live living called
    named has have got get gets well""".split()
)
_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_MAX_FACT_CHARS = 160


def _stem(word: str) -> str:
    """Cut a word to its first five letters, so "animated" meets "Animation", "dramas" "Drama"."""
    return word[:5]


def content_words(text: str) -> set[str]:
    """Return the stems of a text's meaningful words (lower case, no empty words, no numbers).

    Example:
        >>> sorted(content_words("The user loves science fiction movies."))
        ['ficti', 'scien']
    """
    return {
        _stem(word)
        for word in words(text)
        if len(word) > 2 and not word.isdigit() and word not in _EMPTY
    }


def item_words(item: CatalogItem) -> set[str]:
    """Return the meaningful words of an item's title, text and attributes (genres...)."""
    return content_words(item.document().replace("-", " "))


def shared_words(text: str, item: CatalogItem) -> set[str]:
    """Return the stems of the meaningful words a text shares with the item's content."""
    return content_words(text.replace("-", " ")) & item_words(item)


def fact_reason(item: CatalogItem, facts: Sequence[str], query: str | None = None) -> str:
    """Return a reason for the item from remembered facts or the request, or ``""``.

    The fact cited is the sentence of a fact that shares the most meaningful words with the
    item (the earlier fact on a tie); with none, the request is named when it shares a word
    with the item; with neither, the answer is empty.

    Args:
        item: The recommended item.
        facts: What the memory says about the user's tastes (statements, summaries).
        query: What the user asked for now; never presented as a remembered fact.

    Example:
        >>> dog = CatalogItem(id="1", title="Un chien andalou (1929)",
        ...                   attributes={"genres": ["Drama", "Fantasy"]})
        >>> fact_reason(dog, ["The user lives in Lisbon and has a dog called Biscuit."])
        ''
    """
    best: tuple[int, str] | None = None
    for fact in facts:
        for sentence in _SENTENCE.split(fact.strip()):
            shared = shared_words(sentence, item)
            if shared and (best is None or len(shared) > best[0]):
                best = (len(shared), sentence.strip())
    if best is not None:
        sentence = best[1]
        if len(sentence) > _MAX_FACT_CHARS:
            sentence = sentence[: _MAX_FACT_CHARS - 1].rstrip() + "…"
        return f"Matches what you told me: {sentence}"
    if query:
        shared = shared_words(query, item)
        named = [w for w in dict.fromkeys(words(query.replace("-", " "))) if _stem(w) in shared]
        if named:
            return f"Fits your request ({', '.join(named)})."
    return ""
