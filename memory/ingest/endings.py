"""Ties that end in so many words: a breakup with a partner, a death.

Part of the write path (:mod:`confidante.memory.ingest.learning`). Asked whether "The user and
Devon split up last week." ends "Devon is the user's boyfriend.", the default local model
often answers "both". A tie whose end is said plainly is ended by rule: a partner's after a
breakup said of the user, anyone's after their death. The subject's record then says
"former boyfriend" or "late grandmother", and facts that called them by the old tie ("The
user's boyfriend Devon is a nurse.") call them by name (:func:`retire_relation_words`).
"""

from __future__ import annotations

import re

from confidante.memory.ingest.relations_said import RELATION_STATEMENT
from confidante.memory.ingest.rewrites import rewrite_facts
from confidante.memory.items import MemoryHit
from confidante.memory.store import Memory
from confidante.memory.subjects.names import name_pattern

_BREAKUP = re.compile(
    r"\b(?:broke up|broken up|split up|split|separated|divorced|dumped|ended (?:it|things)|"
    r"called (?:it|things|the (?:wedding|engagement)) off|(?:are|were) (?:no longer|not) "
    r"together(?: anymore| any more)?)\b",
    re.I,
)
_DEATH = re.compile(
    r"\b(?:passed away|passed on|died|is dead|was killed|lost (?:her|his) "
    r"(?:battle|fight))\b",
    re.I,
)
#: Words that make the end unsure, asked or wished: "might split up", "almost broke up".
_UNSURE = re.compile(
    r"\b(?:might|may|could|would|should|if|whether|almost|nearly|thinking|considering|"
    r"afraid|worried|scared|fear|never|didn't|did not|haven't|hasn't|won't|wouldn't|"
    r"rumou?r\w*|pretend\w*|joked?|movie|film|book|show|series|character)\b|\?",
    re.I,
)
_PARTNERS = frozenset(
    "boyfriend girlfriend partner husband wife spouse fiance fiancé fiancee fiancée bf gf "
    "lover".split()
)


def ended_tie(statement: str, relation_fact: str) -> str | None:
    """The word for a tie the statement ends ("former", "late"), or None.

    Args:
        statement: A new statement ("The user and Devon split up last week.").
        relation_fact: A current relation fact ("Devon is the user's boyfriend.").
    """
    match = RELATION_STATEMENT.match(relation_fact.strip())
    if match is None:
        return None
    who, relation = match.group(1), match.group(2).lower()
    if relation.startswith(("ex", "former", "late")):
        return None
    named = bool(name_pattern(who).search(statement)) or re.search(
        rf"\bthe user's {re.escape(relation)}\b", statement, re.I
    )
    if not named:
        return None
    for pattern, word in ((_DEATH, "late"), (_BREAKUP, "former")):
        found = pattern.search(statement)
        if found is None:
            continue
        rest = statement[: found.start()] + statement[found.end() :]
        if _UNSURE.search(rest.replace("no longer", "").replace("not together", "")):
            return None
        if word == "former" and (
            relation.split(" ")[-1] not in _PARTNERS
            or not re.match(rf"(?:the user\b(?!['’]s)|{re.escape(who)}\b)", statement, re.I)
        ):
            return None
        return word
    return None


def restates_tie(text: str) -> bool:
    """Whether a relation statement says a tie as it was ("Devon is the user's boyfriend.").

    Written in the turn that ends that tie, it would restore it.
    """
    match = RELATION_STATEMENT.match(text.strip())
    return match is not None and not match.group(2).lower().startswith(("ex", "former", "late"))


async def retire_relation_words(
    memory: Memory, user_id: str, subject_id: str, relation: str, name: str
) -> None:
    """Say a subject by name only in the facts that call it by a tie that ended.

    After "Devon and I split up", "The user's boyfriend Devon is a nurse." still says
    "boyfriend": it is replaced by "Devon is a nurse." (the old text stays in the history).
    The subject's own facts and the user's facts that name it are read.
    """
    said = re.compile(
        rf"\bthe user's {re.escape(relation)},? {re.escape(name)}\b,?|"
        rf"\b{re.escape(name)}, the user's {re.escape(relation)},",
        re.I,
    )

    def without_tie(hit: MemoryHit) -> str | None:
        if hit.key == "relation":
            return None
        text = said.sub(name, hit.text)
        return text[0].upper() + text[1:]

    await rewrite_facts(memory, user_id, subject_id, name, without_tie)
