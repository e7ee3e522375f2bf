"""A new value of a slot ends the other current facts that still say the old one.

Part of the write path (:mod:`confidante.memory.ingest.learning`). A single-valued slot's new
value supersedes the slot's current fact by itself, but a small model often says the old
value in other facts too: "The user is still living in Rotorua." beside "The user lives in
Rotorua.", a quoted clause ("The user said "2nd year nursing student at King's College
London"."), "The user has lived in Tampere all her life.". Left current, they keep answering
with the old value. When a statement sets a new value, every current fact of the same subject
with no slot (or the same slot) that says the old value's name, and not the new one, is ended
with it, when it speaks of the slot's topic (a word of the slot's questions, or its
pattern: "The user's favourite cafe is in Rotorua." stays); the history keeps them.

The old value's name is what the old slot fact names and the new statement does not ("Rotorua
Hospital" for "Tauranga Hospital"; "pescatarian" for "vegan"). Facts of another slot keep
their own value ("The user is from Rotorua." is the hometown), and so do facts that say a past
("was born in", "grew up", "used to").
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from confidante.memory.ingest.extraction import Statement
from confidante.memory.items import MemoryHit
from confidante.memory.slots import DIETS, Slot
from confidante.memory.store import Memory

#: Slots whose old value is not said again elsewhere, or is still true when said.
_NOT_ECHOED = frozenset({"relation", "name", "birthday", "age", "hometown", "location"})
_NAME_RUN = re.compile(r"(?<![\w'’-])[A-Z][\w'’&.-]*(?:\s+(?:of\s+|de\s+|da\s+)?[A-Z][\w'’&.-]*)*")
_A_DIET = re.compile(rf"\b(?:{DIETS})\b", re.I)
_FROM_NAME = re.compile(r"\bfrom\s+(?:the\s+)?[A-Z][\w'’&.-]*(?:\s+[A-Z][\w'’&.-]*)*")
#: A fact that tells of a past or an origin stays true when the value changes.
_PAST = re.compile(
    r"\b(?:born|grew up|raised|was|were|used to|ago|former|formerly|ex-|previously|"
    r"originally|from)\b",
    re.I,
)
MAX_ECHOES = 8


def _names(text: str) -> list[str]:
    """The names a fact says (not the one it opens with) and the diets it names."""
    runs = [m.group(0).rstrip(".") for m in _NAME_RUN.finditer(text) if m.start() > 0]
    runs = [run for run in runs if run.casefold() not in {"the user", "user"}]
    return runs + [m.group(0) for m in _A_DIET.finditer(text)]


def _on_topic(text: str, slot: Slot) -> bool:
    """Whether a fact speaks of the slot's topic.

    By the slot's pattern, a word its questions use ("The user has lived in Tampere all her
    life." is of ``home_city``), or as a quoted clause.
    """
    if slot.compiled.search(text) or text.startswith("The user said "):
        return True
    topic = {word[:4] for word in slot.asked_by.split()}
    return bool(topic & {word[:4] for word in re.findall(r"[a-z]+", text.lower())})


def _says(text: str, name: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text, re.I) is not None


def old_names(old: str, new: str) -> list[str]:
    """What the old slot fact names that the new statement does not ("from X" aside)."""
    now = _FROM_NAME.sub(" ", new)
    return [name for name in _names(old) if not _says(now, name)]


async def _candidates(
    memory: Memory, user_id: str, subject_id: str | None, names: list[str]
) -> list[MemoryHit]:
    """The facts that may say one of ``names``: the user's found by each, another's all."""
    if subject_id is not None:
        return await memory.asubject_facts(user_id, [subject_id], limit=50)
    found = await memory.aretrieve_many(
        user_id, names, k=MAX_ECHOES, kinds=["fact"], fallback=False
    )
    return list({hit.id: hit for hits in found for hit in hits}.values())


async def end_echoes(
    memory: Memory,
    user_id: str,
    statements: Sequence[Statement],
    ids: Sequence[str | None],
    replaces: list[list[str]],
    skip: set[int],
) -> None:
    """Add to ``replaces`` the current facts that still say a slot's old value (see module).

    Statements at ``skip`` are not written, and end nothing.
    """
    many = memory.slots.multi_valued()
    ended = {hit_id for ids_ in replaces for hit_id in ids_}
    for index, statement in enumerate(statements):
        slot = memory.slots.get(statement.slot)
        if slot is None or slot.name in many or slot.name in _NOT_ECHOED or index in skip:
            continue
        subject_id = ids[index]
        olds = await memory.aslot_values(user_id, slot.name, subject_id)
        gone = list(dict.fromkeys(n for old in olds for n in old_names(old.text, statement.text)))
        if not gone:
            continue
        ended |= {old.id for old in olds}  # the slot supersedes them anyway
        news = _names(statement.text)
        for hit in await _candidates(memory, user_id, subject_id, gone):
            if (
                hit.id in ended
                or hit.subject_id != subject_id
                or hit.key not in (None, slot.name)
                or not _on_topic(hit.text, slot)
                or not any(_says(hit.text, name) for name in gone)
                or any(_says(hit.text, new) for new in news)
                or _PAST.search(hit.text)
            ):
                continue
            ended.add(hit.id)
            replaces[index].append(hit.id)
