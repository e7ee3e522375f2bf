"""What the user says they gave up ends their facts about it.

Part of the write path (:mod:`confidante.memory.ingest.learning`). "no more badminton for me,
here I started bouldering" tells that "The user plays badminton with their team on Sundays."
is over, but a small model writes only the news ("The user started bouldering.") and shares
no word with the old fact, so no pair of facts is put to it. The user's own words of giving
up ("no more X", "stopped X", "quit X", "gave up X", "done with X") name what ended: the
user's current plain facts (no slot, no negation, not about someone else) that say every
content word of it end with the turn. A slot's facts change through their slot.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from confidante.memory.ingest.extraction import Statement
from confidante.memory.ingest.statements import content_stems, sentences
from confidante.memory.store import Memory

_GAVE_UP = re.compile(
    r"\b(?:no more|stopped|quit|quitting|gave up|given up|giving up|done with)\s+"
    r"(?:doing |playing |going to |going |eating |drinking |my |the )?"
    r"(?P<what>[a-z][\w'-]*(?: [a-z][\w'-]*)?)",
    re.I,
)
#: Not the user's giving up: a plan, a wish, a question, someone else ("she quit smoking").
_NOT_MINE = re.compile(
    r"\b(?:will|going to|gonna|want|wants|should|might|maybe|if|try|trying|thinking|he|she|"
    r"they|his|her|their)\b|\?",
    re.I,
)
_NEGATED = re.compile(r"\b(?:not|no|never|n't|no longer|anymore|any more|stopped|quit)\b", re.I)
#: Words after "no more" that name no activity ("no more than", "no more boss").
_NO_THING = frozenset(
    "than then of for to a an the it that this boss time money excuses worries drama".split()
)


def given_up(message: str) -> list[frozenset[str]]:
    """The content stems of each thing the user's message says they gave up."""
    found = []
    for sentence in sentences(message):
        if _NOT_MINE.search(sentence):
            continue
        for match in _GAVE_UP.finditer(sentence):
            words = match.group("what").split()
            if words[0].lower() in _NO_THING:
                continue
            stems = content_stems(match.group("what"))
            if stems:
                found.append(stems)
    return found


async def end_given_up(
    memory: Memory,
    user_id: str,
    message: str,
    statements: Sequence[Statement],
    ids: Sequence[str | None],
    replaces: list[list[str]],
    skip: set[int],
) -> None:
    """Add to ``replaces`` the user's plain facts about what the message says they gave up.

    They are ended with the turn's first statement about the user that is written.
    """
    host = next((i for i, subject in enumerate(ids) if subject is None and i not in skip), None)
    if host is None:
        return
    ended = {hit_id for ids_ in replaces for hit_id in ids_}
    written = {statement.text for statement in statements}
    for stems in given_up(message):
        query = " ".join(sorted(stems))
        for hit in await memory.aretrieve(user_id, query, k=5, kinds=["fact"], fallback=False):
            if (
                hit.id in ended
                or hit.subject_id is not None
                or hit.key is not None
                or hit.text in written
                or _NEGATED.search(hit.text)
                or not stems <= content_stems(hit.text)
            ):
                continue
            ended.add(hit.id)
            replaces[host].append(hit.id)
