"""Name corrections a message makes of names the memory knows.

Part of the write path (:mod:`confidante.memory.ingest.learning`): "Pepper, not Peppa", "not
Peppa, Pepper", "we renamed her Chispa", "Kiwi didn't suit her, she's Miro now", "renaming
the truck to Saffron & Smoke".
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from confidante.memory.ingest.statements import ONE_NAME, TITLE

_RENAMES = (
    # "Pepper, not Peppa", "Kinoko, like mushroom, not Kinako"
    re.compile(
        rf"\b(?:{TITLE})?(?P<new>{ONE_NAME})(?:, [^,.!?;]{{1,30}})?,? (?i:not) (?:{TITLE})?"
        rf"(?P<old>{ONE_NAME})\b"
    ),
    re.compile(
        rf"\b(?i:not) (?:{TITLE})?(?P<old>{ONE_NAME}),? (?i:but |it's |its |it is )?"
        rf"(?:{TITLE})?(?P<new>{ONE_NAME})\b"
    ),
    re.compile(
        rf"\b(?i:renamed|rename|now call|now calling)\s+"
        rf"(?:(?i:him|her|it|them)|(?:{TITLE})?(?P<old>{ONE_NAME}))(?:\s+(?i:to))?\s+(?:{TITLE})?(?P<new>{ONE_NAME})\b"
    ),
    # "Kiwi didn't suit her so she's Miro now", "he's called Bruno now"
    re.compile(
        rf"\b(?i:she|he|it)(?:'s|’s| is) (?:(?i:now )?(?i:called|named) )?(?P<new>{ONE_NAME}) "
        r"(?i:now)\b(?P<old>)"
    ),
    re.compile(
        rf"\b(?i:she|he|it)(?:'s|’s| is) (?i:now) (?i:called|named) (?P<new>{ONE_NAME})\b(?P<old>)"
    ),
)


#: A thing renamed by what it is: "we're renaming the truck!! Saffron & Smoke".
_RENAMING_THING = re.compile(
    r"\b(?i:renam\w*|rebrand\w*)\s+(?i:the|my|our)\s+(?P<thing>[a-z][\w-]*)"
    r"(?:\s+(?i:to|as)\s+|\s*[!:,-]+\s*|\s+)"
    r"(?P<new>[A-Z][\w'-]*(?:\s+(?:&|and|of|the|de|del|la|le)?\s*[A-Z][\w'-]*)*)"
    r"(?![\w\s&'-]*\?)"  # "renaming the truck! What do you think?" names nothing
)
#: Words that open a sentence, never a new name.
_NO_NEW_NAME = frozenset(
    "i i'm what any how why who where when which can could should would do does is are the "
    "a an it we my our not no yes maybe thoughts ideas help please lol haha so and but".split()
)


def renames_in(
    message: str, known_names: Sequence[str], relations: Mapping[str, str | None] | None = None
) -> list[tuple[str, str]]:
    """``(old, new)`` name corrections the message makes of known names.

    "Pepper, not Peppa", "not Peppa, Pepper", "we renamed her Chispa", "she's Miro now" (the
    old name is then the known name the message also says); with the known names'
    ``relations``, "renaming the truck to Saffron & Smoke" renames the one known as the
    user's truck.
    """
    known = {name.casefold(): name for name in known_names}
    found = []
    for match in _RENAMING_THING.finditer(message):
        thing, new = match.group("thing").lower(), match.group("new")
        called = [
            name
            for name, relation in (relations or {}).items()
            if relation and thing in relation.lower().split()
        ]
        if new.split()[0].lower() in _NO_NEW_NAME:
            continue
        if len(called) == 1 and new.casefold() not in known:
            found.append((known.get(called[0].casefold(), called[0]), new))
    for pattern in _RENAMES:
        for match in pattern.finditer(message):
            new, old = match.group("new"), match.group("old")
            if new.casefold() in _NO_NEW_NAME:
                continue
            if not old:
                said = [n for k, n in known.items() if re.search(rf"\b{re.escape(n)}\b", message)]
                old = said[0] if len(said) == 1 else None
            if old and old.casefold() in known and new.casefold() not in known:
                found.append((known[old.casefold()], new))
    return found
