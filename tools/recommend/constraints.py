"""What the user's memory says about recommending: likes, dislikes and things already owned.

Memory items are read as plain statements ("The user dislikes horror movies.", "Ana already
owns Dune.", "The user likes science fiction."):

- a **dislike** excludes items whose title is named in the statement, and items whose title or
  attribute values (genres, authors...) contain a word of the disliked phrase;
- an **owned** (or already watched/read/seen) statement excludes the items whose title it names;
- a **like** is a stated preference: its text is matched to the catalog by content similarity.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from confidante.tools.recommend.catalog import CatalogItem

_DISLIKE = re.compile(
    r"\b(?:dislikes?|hates?|detests?|avoids?|(?:does not|doesn't|don't|do not|never) "
    r"(?:like|enjoy|want|watch|read)s?|can't stand|cannot stand|not a fan of|is tired of)\b"
    r"\s+(?P<what>[^.;!?]+)",
    re.I,
)
_OWNED = re.compile(
    r"\b(?:owns?|bought|already (?:has|have|owns?|watched|saw|seen|read|bought|played)|"
    r"has (?:already )?(?:watched|seen|read|played))\b\s+(?P<what>[^.;!?]+)",
    re.I,
)
_LIKE = re.compile(
    r"\b(?:likes?|loves?|enjoys?|adores?|is into|favou?rite|fan of|prefers?)\b", re.I
)
#: Words of a disliked phrase that say nothing about the items themselves.
_VAGUE = frozenset(
    "a an the any all of and or with kind kinds sort type types thing things stuff movie movies "
    "film films book books show shows series song songs music game games item items anything "
    "very much really too so that this those these it them lot lots".split()
)


def words(text: str) -> list[str]:
    """Lower-case words of a text, with a plural ``s`` dropped from long words."""
    found = "".join(c.lower() if c.isalnum() else " " for c in text).split()
    return [w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w for w in found]


def _title_core(title: str) -> str:
    """A title without a trailing ``(year)`` or article suffix, lower case."""
    core = re.sub(r"\s*\(\d{4}\)\s*$", "", title).strip()
    core = re.sub(r",\s*(the|a|an)$", "", core, flags=re.I)
    return " ".join(words(core))


@dataclass
class Constraints:
    """Constraints read from a user's memory.

    Attributes:
        disliked_terms: Words of disliked things (matched to titles and attribute values).
        statements: Dislike and ownership statements (matched to titles).
        likes: Stated preferences, as written in memory.
        sources: The memory texts each kind of constraint came from (for explanations).
    """

    disliked_terms: set[str] = field(default_factory=set)
    statements: list[str] = field(default_factory=list)
    likes: list[str] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)

    def excluded(self, items: Sequence[CatalogItem]) -> list[int]:
        """Return the positions of ``items`` the constraints forbid."""
        named = [" ".join(words(s)) for s in self.statements]
        out: list[int] = []
        for position, item in enumerate(items):
            title = _title_core(item.title)
            if title and any(f" {title} " in f" {text} " for text in named):
                out.append(position)
                continue
            if self.disliked_terms and self.disliked_terms & set(words(" ".join(item.terms()))):
                out.append(position)
        return out


def read_constraints(texts: Iterable[str]) -> Constraints:
    """Parse memory texts into :class:`Constraints`."""
    found = Constraints()
    for text in texts:
        dislikes = list(_DISLIKE.finditer(text))
        if dislikes or _OWNED.search(text):
            found.statements.append(text)
            found.sources.append(text)
            for match in dislikes:
                found.disliked_terms |= {w for w in words(match["what"]) if w not in _VAGUE}
        elif _LIKE.search(text):
            found.likes.append(text)
    return found
