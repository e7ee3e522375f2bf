"""Statements of one message that say the same thing twice: one is kept."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from confidante.memory.ingest.statements import content_stems

if TYPE_CHECKING:  # the statements of extraction, which imports this module
    from confidante.memory.ingest.extraction import Statement


def whom(statement: Statement) -> str:
    """A key for the subject of a statement: its name, else its relation ("" for the user)."""
    if statement.subject is None:
        return ""
    mention = statement.subject.cleaned()
    return (mention.name or mention.relation or "").casefold()


def drop_repeats(statements: list[Statement]) -> list[Statement]:
    """Keep one of two statements about one subject when one says nothing the other lacks.

    And only the first relation statement of each subject.
    """

    def content(statement: Statement) -> frozenset[str]:
        own = {part.lower() for part in re.findall(r"[\w-]+", whom(statement))}
        return content_stems(statement.text, own)

    kept: list[Statement] = []
    related: set[str] = set()
    for statement in statements:
        if statement.slot == "relation":  # one relation per subject: a small model may loop
            if whom(statement) in related:  # ("Vera is the user's uncle's grandmother."...)
                continue
            related.add(whom(statement))
        mine = content(statement)
        twin = next(
            (
                other
                for other in kept
                if mine
                and whom(other) == whom(statement)
                and other.slot == statement.slot
                and (mine <= content(other) or content(other) <= mine)
            ),
            None,
        )
        if twin is None:
            kept.append(statement)
        elif len(content(twin)) < len(mine):
            kept[kept.index(twin)] = statement
    return kept
