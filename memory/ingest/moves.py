"""A move said of a group: the others who moved too.

"Emi's husband got a new job, so they moved from Osaka to Fukuoka": a small model writes
"Emi's husband moved from Osaka to Fukuoka.", and "Emi lives in Osaka." would stay current.
When the message says that *they* (or *we*) moved, a statement of a move from a place may
end the current facts of anyone else that say they live in that place; the write path
(:mod:`confidante.memory.ingest.learning`) then asks the model about each pair and keeps the
rest of an ended fact with the new place ("Emi lives in Fukuoka.").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from confidante.memory.items import MemoryHit

_MOVED_TOGETHER = re.compile(
    r"\b(?:they|we|both of (?:them|us)|all of (?:them|us)|the (?:whole )?family)\s+"
    r"(?:\w+\s+)?(?:moved|relocated|have moved|'ve moved|are moving|'re moving|are relocating)\b",
    re.I,
)
_MOVED_FROM = re.compile(
    r"\b(?:moved|moving|relocat\w*)\b.*?\bfrom (?:the )?"
    r"((?-i:[A-Z])[\w'-]*(?: (?-i:[A-Z])[\w'-]*)*) to\b",
    re.I,
)
_LIVES = re.compile(r"\b(?:lives?|living|based|resides?|home is)\b", re.I)


def moved_with(
    statement: str, message: str, subject_id: str | None, hits: Sequence[MemoryHit]
) -> list[MemoryHit]:
    """Others' current facts of living where a group move said "they" or "we" left.

    Args:
        statement: A statement of the message ("Emi's husband moved from Osaka to Fukuoka.").
        message: What the user said.
        subject_id: The statement's subject (its own facts are paired the usual way).
        hits: The facts retrieved for the statement.
    """
    left = _MOVED_FROM.search(statement)
    together = _MOVED_TOGETHER.search(message)
    if left is None or together is None:
        return []
    place = re.compile(rf"(?<![\w-]){re.escape(left.group(1))}(?![\w-])")
    we = together.group(0).lower().startswith(("we", "both of us", "all of us"))
    return [
        hit
        for hit in hits
        if hit.subject_id != subject_id
        and hit.key in (None, "home_city")
        and place.search(hit.text)
        and _LIVES.search(hit.text)
        and (_names_said(place.sub("", hit.text), message) or (we and hit.subject_id is None))
    ]


def _names_said(text: str, message: str) -> bool:
    """Whether the message says a name the fact says ("Emi" of "Emi lives in Osaka.")."""
    names = re.findall(r"(?<![\w-])([A-Z][\w-]+)", text)
    return any(
        re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", message)
        for name in names
        if name.lower() not in ("the", "user")
    )
