"""Ties that grow closer in so many words: an engagement, a wedding.

Part of the write path (:mod:`confidante.memory.ingest.learning`). "Mai and I got engaged!"
leaves "Mai is the user's girlfriend." current unless something replaces it; a small model
rarely writes the new tie itself. When a statement says an engagement or a wedding that has
happened (or a proposal, once accepted), of a partner the memory knows (named in the
statement, or the user's only partner when the message says "we"), the tie becomes
"fiancée", "wife"... : a new relation fact replaces the old one (the history keeps it) and
the subject's record follows.
"""

from __future__ import annotations

import re

from confidante.memory.ingest.extraction import Statement
from confidante.memory.store import Memory
from confidante.memory.subjects.directory import Mention, SubjectView
from confidante.memory.subjects.names import name_pattern

_TIED = re.compile(r"\b(engaged|married|proposed)\b", re.I)
#: A proposal is an engagement once it is accepted: "I proposed and she said YES".
_ACCEPTED = re.compile(r"\b(?:yes|engaged|fianc\w*|ring)\b", re.I)
#: Not yet, or not sure: "we will get married in May", "thinking of getting engaged".
_NOT_YET = re.compile(
    r"\b(?:will|going to|gonna|plans?|planning|thinking|might|may|could|would|should|soon|"
    r"wants?|hopes?|next|about to|if|whether|want|wish|dream\w*|someday|one day|getting|"
    r"anniversary|years? ago|since|ex-|former|divorc\w*|never)\b|\?",
    re.I,
)
#: The closer tie, by the current one: engaged, then married.
_CLOSER = {
    "engaged": {
        "girlfriend": "fiancée",
        "gf": "fiancée",
        "boyfriend": "fiancé",
        "bf": "fiancé",
        "partner": "fiancé",
    },
    "married": {
        "girlfriend": "wife",
        "gf": "wife",
        "fiancée": "wife",
        "fiancee": "wife",
        "boyfriend": "husband",
        "bf": "husband",
        "fiancé": "husband",
        "fiance": "husband",
        "partner": "spouse",
    },
}
_WE = re.compile(r"\b(?:we|we're|we've|us|our)\b", re.I)


def _partner_of(
    text: str, about_user: bool, partners: list[SubjectView], message: str
) -> SubjectView | None:
    named = [s for s in partners if any(name_pattern(n).search(text) for n in s.names())]
    if len(named) == 1:
        return named[0]
    if not named and about_user and len(partners) == 1 and _WE.search(message):
        return partners[0]
    return None


async def closer_ties(
    memory: Memory,
    user_id: str,
    message: str,
    statements: list[Statement],
    ids: list[str | None],
    replaces: list[list[str]],
) -> set[str]:
    """Append the new relation fact of a partner the user got engaged to or married.

    Returns:
        The ids of the subjects whose tie changed.
    """
    partners = [
        s
        for s in await memory.asubjects(user_id)
        if s.name and s.relation and s.relation.lower() in _CLOSER["married"]
    ]
    done: set[str] = set()
    for index, statement in enumerate(list(statements)):
        tied = _TIED.search(statement.text)
        if tied is None or _NOT_YET.search(statement.text) or statement.slot == "relation":
            continue
        about_user = ids[index] is None
        partner = _partner_of(statement.text, about_user, partners, message)
        if partner is None or partner.id in done or not (about_user or ids[index] == partner.id):
            continue
        word = tied.group(1).lower()
        if word == "proposed" and not _ACCEPTED.search(message):
            continue
        new = _CLOSER["married" if word == "married" else "engaged"].get(
            str(partner.relation).lower()
        )
        if new is None or partner.name is None:
            continue
        done.add(partner.id)
        old = await memory.aslot_values(user_id, "relation", partner.id)
        statements.append(
            Statement(
                f"{partner.name} is the user's {new}.",
                Mention(name=partner.name, relation=new),
                "relation",
            )
        )
        ids.append(partner.id)
        replaces.append([hit.id for hit in old])
    return done
