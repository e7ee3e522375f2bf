"""Babies and pets named where they are told of: "A girl, 3.2kg, we named her Yuxin".

"we have a hamster. she named him Falafel" makes Falafel the user's hamster.

Part of :func:`~confidante.memory.ingest.statements.relations_in`: a newborn (or a new pet)
the user names in the same breath is related to the user ("daughter" for a girl, "son" for a
boy), unless the message says whose it is ("my sister's baby boy... they named him Leo").
"""

from __future__ import annotations

import re

from confidante.memory.subjects.names import PET_RELATIONS, SOMEONE_ELSES

#: A baby (or a pet) named where it is told of: "A girl, 3.2kg, we named her Yuxin".
_NEWBORN = "|".join(["baby", "girl", "boy", "son", "daughter", *sorted(PET_RELATIONS)])
_NAMED_HER = re.compile(
    rf"\b(?P<what>{_NEWBORN})\b"
    rf"(?:(?!\b(?:{_NEWBORN})\b)[^?]){{0,40}}?\b(?:named|called|naming|calling) "
    r"(?:her|him|them|it) (?P<name>[A-Z][\w-]+)",
    re.I,
)
_NEWBORN_RELATION = {"girl": "daughter", "boy": "son", "baby": "baby"}
_WE = re.compile(r"\b(?:we|i|we've|i've|we're|our|my)\b", re.I)


def newborns_in(message: str) -> dict[str, str]:
    """The babies and pets the user names, by case-folded name: {"yuxin": "daughter"}."""
    found: dict[str, str] = {}
    for match in _NAMED_HER.finditer(message):
        what, name = match.group("what").lower(), match.group("name")
        before = message[max(0, match.start() - 30) : match.start()]
        if SOMEONE_ELSES.search(before) or not _WE.search(message):
            continue  # "my sister's baby boy ... they named him Leo" is no son of the user's
        if not name[:1].isupper():
            continue
        found.setdefault(name.casefold(), _NEWBORN_RELATION.get(what, what))
    return found
