"""Near-duplicate detection for remembered facts: the same fact said in other words merges.

"Ana's dog is called Biscuit." and "Ana has a dog named Biscuit." are one memory: remembering
the second adds its provenance to the first instead of storing a second item. Two tests must
both pass:

1. The texts' embeddings are nearly parallel (cosine at least the memory's threshold; with the
   default E5 embedder, paraphrases score 0.976-0.998 and different facts about the same
   subject up to about 0.965, see ``tests/test_memory_merge.py``).
2. They name the same specifics: the same capitalised words (names, places, days), the same
   numbers and number words, and the same negations. Embeddings are weak exactly there —
   "call mom on Friday" and "call mom on Saturday" score 0.979 — and a merge that lost a
   different name or date would lose a fact.

Only kinds that hold standalone facts merge (:data:`MERGEABLE_KINDS`); conversation turns,
episodes and document chunks are records of what was said and stay as they are.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from sqlmodel import Session

from confidante.memory.index.base import Vector, VectorIndex

#: Kinds of items that merge with a near-duplicate of the same kind.
MERGEABLE_KINDS = frozenset({"fact", "preference"})
#: Default cosine threshold (tuned on the default E5 embedder; stricter is safer).
DEFAULT_THRESHOLD = 0.97

_NUMBER_WORDS = frozenset(
    "zero one two three four five six seven eight nine ten eleven twelve twenty thirty forty "
    "fifty hundred thousand million first second third once twice".split()
)
_NEGATIONS = frozenset("no not never none nothing nobody neither nor n't dislike dislikes".split())


def specifics(text: str) -> frozenset[str]:
    """Return the words a paraphrase must keep: names, numbers and negations.

    Capitalised words count except the first word of a sentence; a possessive ``'s`` is
    dropped ("Ana's" and "Ana" are the same name).
    """
    found: set[str] = set()
    sentence_start = True
    for match in re.finditer(r"[^\W_]+(?:'[^\W_]+)?|[.!?:;]", text):
        token = match.group()
        if token in ".!?:;":
            sentence_start = True
            continue
        word = token.removesuffix("'s").removesuffix("’s")
        lower = word.lower()
        if any(ch.isdigit() for ch in word) or lower in _NUMBER_WORDS:
            found.add(lower)
        elif lower in _NEGATIONS or lower.endswith("n't"):
            found.add("¬")
        elif word[:1].isupper() and not sentence_start:
            found.add(lower)
        sentence_start = False
    return frozenset(found)


def same_fact(new_text: str, old_text: str, cosine: float, threshold: float) -> bool:
    """Whether two texts state the same fact (see the module docstring)."""
    return cosine >= threshold and specifics(new_text) == specifics(old_text)


def nearest_each(
    index: VectorIndex, session: Session, user_id: str, vectors: Vector
) -> list[tuple[str, float] | None]:
    """Return, for each row of ``vectors``, the user's most similar stored item, if any.

    Uses the index's ``nearest_many`` when it has one (one pass over the user's vectors for a
    whole batch), else one ``search`` per vector.
    """
    many: Any = getattr(index, "nearest_many", None)
    if many is not None:
        found: list[tuple[str, float] | None] = many(session, user_id, vectors)
        return found
    results: list[tuple[str, float] | None] = []
    for vector in np.atleast_2d(vectors):
        hits = index.search(session, user_id, np.asarray(vector, dtype=np.float32), 1)
        results.append(hits[0] if hits else None)
    return results
