"""Learning from a turn: extract statements, link them to subjects, resolve updates, write.

:func:`learn` is the write path of a chat turn (the graph's ``remember`` node):

1. :func:`~confidante.memory.ingest.extraction.extract` reads the statements of the message, with
   whom each is about and the slot it sets (code decides both, see that module).
2. The statements' subjects become the user's subject rows (found or created). A correction
   of a name ("actually it's Pepper, not Peppa") renames the subject, keeping the old name as
   an alias. A new subject with a relation also gets its relation fact ("Ana is the user's
   sister."), which answers "who is Ana?".
3. **Updates.** A value for a single-valued slot supersedes the subject's current one by
   itself. Other changes are said in ordinary words ("I stopped climbing", "we broke up"):
   the likely pairs of (new statement, current fact of the same subject) are put to the model
   in one call, which answers per pair whether the new fact ``replaced`` the old one, says the
   ``same``, or whether ``both`` hold (:mod:`confidante.memory.ingest.updates` picks the pairs
   and says which answers are taken). Some changes are ended by rule whatever the model
   answers: a breakup or a death said plainly, a place left for good, a retirement, a slot's
   old value said again elsewhere, what the user gave up (:func:`_end_by_rule`). Replaced
   facts are superseded with the write (history kept); "same" ones are not written again.
4. One transaction writes the items and marks the turn ``done`` (or ``failed`` with the
   error, for a later retry); notes on statements kept without a subject are recorded on the
   turn as its ``error`` while it is ``done``. A turn that states nothing (a question, a
   request) is marked ``skipped`` without a model call.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import partial
from typing import Any

from langchain_core.language_models import BaseChatModel

from confidante.memory.ingest.echoes import end_echoes
from confidante.memory.ingest.endings import ended_tie, restates_tie, retire_relation_words
from confidante.memory.ingest.extraction import Statement, extract, states_something
from confidante.memory.ingest.given_up import end_given_up
from confidante.memory.ingest.job_places import end_old_places, end_work, left_for_good
from confidante.memory.ingest.renames import renames_in
from confidante.memory.ingest.rewrites import rewrite_facts
from confidante.memory.ingest.ties import closer_ties
from confidante.memory.ingest.updates import CHANGE, decide_or_keep, says_change, update_pairs
from confidante.memory.items import MemoryHit, MemoryItem
from confidante.memory.store import Memory
from confidante.memory.subjects.directory import SubjectView
from confidante.memory.subjects.names import Mention, name_pattern

logger = logging.getLogger(__name__)

_CALLED = re.compile(r"\bname is ([A-Z][\w-]+)")


async def _user_names(memory: Memory, user_id: str) -> list[str]:
    """The names the user gave themself (their ``name`` slot)."""
    hits = await memory.aslot_values(user_id, "name")
    return [match.group(1) for hit in hits if (match := _CALLED.search(hit.text))]


async def _subject_ids(
    memory: Memory,
    user_id: str,
    message: str,
    statements: Sequence[Statement],
    extra: Sequence[Mention],
) -> tuple[list[str | None], list[SubjectView]]:
    """Resolve each statement's subject to the user's subject id (None for the user).

    ``extra`` are subjects the message relates to the user ("my brother Diego's place") that
    no statement is about; they are resolved too. Returns the ids and the subjects created.
    """
    known = await memory.asubjects(user_id)
    await _apply_renames(memory, user_id, message, statements, known)
    mentions = [s.subject for s in statements if s.subject is not None]
    resolved = iter(
        await memory.aresolve(user_id, [*mentions, *extra]) if mentions or extra else []
    )
    ids: list[str | None] = []
    created: list[SubjectView] = []
    known_ids = {subject.id for subject in known}
    for statement in statements:
        if statement.subject is None:
            ids.append(None)
            continue
        subject = next(resolved)
        ids.append(subject.id)
        if subject.id not in known_ids and subject.id not in {c.id for c in created}:
            created.append(subject)
    for subject in resolved:
        if subject.id not in known_ids and subject.id not in {c.id for c in created}:
            created.append(subject)
    return ids, created


async def _apply_renames(
    memory: Memory,
    user_id: str,
    message: str,
    statements: Sequence[Statement],
    known: Sequence[SubjectView],
) -> None:
    """Rename a known subject whose name the message corrects ("Pepper, not Peppa").

    The old name becomes an alias; the subject's current facts and the user's facts that say
    the old name are replaced by facts that say the new one (the old ones stay in the
    history), and so are this turn's statements, except one that says both ("The user
    renamed Pancho to Chispa.").
    """
    names = [name for subject in known for name in subject.names()]
    relations = {name: subject.relation for subject in known for name in subject.names()}
    for old, new in renames_in(message, names, relations):
        subject = next(s for s in known if any(n.casefold() == old.casefold() for n in s.names()))
        await memory.aupdate_subject(user_id, subject.id, name=new)
        said_old = name_pattern(old)
        renamed = partial(_renamed, said_old, new)
        await rewrite_facts(memory, user_id, subject.id, old, renamed)
        said_new = name_pattern(new)
        for statement in statements:
            if not said_new.search(statement.text):  # "renamed Pancho to Chispa" stays as said
                statement.text = said_old.sub(new, statement.text)
            mention = statement.subject
            if mention is not None and mention.name and said_old.fullmatch(mention.name):
                statement.subject = Mention(name=new, relation=mention.relation)


def _renamed(said_old: re.Pattern[str], new: str, hit: MemoryHit) -> str:
    """A fact with a subject's old name said as its new one."""
    return said_old.sub(new, hit.text)


def _relation_statement(subject: SubjectView) -> Statement | None:
    """The relation fact of a named subject ("Ana is the user's sister.")."""
    if not subject.name or not subject.relation:
        return None
    mention = Mention(name=subject.name, relation=subject.relation)
    relation = subject.relation
    whose = relation if "'s " in relation else f"the user's {relation}"
    return Statement(f"{subject.name} is {whose}.", mention, "relation")


async def learn(
    memory: Memory, model: BaseChatModel, user_id: str, event_id: str, text: str
) -> list[dict[str, Any]]:
    """Learn what a stored turn states and remember it; see the module docstring.

    Returns:
        The items written: ``{"id", "key", "text", "subject_id"}`` each.
    """
    if not states_something(text):  # a question or a request: nothing to learn
        await memory.amark_event(user_id, event_id, "skipped")
        return []
    try:
        known = await memory.asubjects(user_id)
        names = await _user_names(memory, user_id)
        extracted = await extract(model, text, known, memory.slots, names)
        statements = extracted.statements
        ids, created = await _subject_ids(memory, user_id, text, statements, extracted.mentions)
        for subject in created:
            relation = _relation_statement(subject)
            if relation is not None and not any(
                s.slot == "relation" and i == subject.id
                for s, i in zip(statements, ids, strict=True)
            ):
                statements.append(relation)
                ids.append(subject.id)
        replaces: list[list[str]] = [[] for _ in statements]
        skip: set[int] = set()
        pairs = await update_pairs(memory, user_id, statements, ids, text)
        answers = await decide_or_keep(model, statements, pairs, extracted.notes)
        many = memory.slots.multi_valued()
        answers = [  # a "replaced" from a statement that says no news is not taken
            "both" if answer == "replaced" and not says_change(statements[i], hit, many) else answer
            for (i, hit), answer in zip(pairs, answers, strict=True)
        ]
        # a breakup or a death said plainly ends the tie, whatever the model said: "former", "late"
        ends = [
            ended_tie(statements[i].text, hit.text) if hit.key == "relation" else None
            for i, hit in pairs
        ]
        answers = ["replaced" if end else a for a, end in zip(answers, ends, strict=True)]
        answers = [  # "gave notice at Krause" ends the job at Holzbau Krause, whatever was said
            "replaced"
            if ids[i] == hit.subject_id and left_for_good(statements[i].text, hit.text, hit.key)
            else answer
            for (i, hit), answer in zip(pairs, answers, strict=True)
        ]
        if pairs:
            for (index, hit), answer in zip(pairs, answers, strict=True):
                if answer == "replaced":
                    replaces[index].append(hit.id)
                elif answer == "same" and hit.subject_id == ids[index]:
                    skip.add(index)
        # a tie this turn ends is not restated by it ("Devon is the user's boyfriend.")
        ended = {hit.subject_id for (_, hit), end in zip(pairs, ends, strict=True) if end}
        skip |= {
            index
            for index, (statement, subject_id) in enumerate(zip(statements, ids, strict=True))
            if subject_id in ended and statement.slot == "relation" and restates_tie(statement.text)
        }
        _take_over_ended_slots(memory, statements, ids, pairs, answers)
        _carry_over(statements, ids, pairs, answers, replaces)
        await _end_by_rule(memory, user_id, text, statements, ids, replaces, skip)
        items = [
            MemoryItem(
                text=statement.text,
                key=statement.slot,
                subject_id=subject_id,
                provenance=[event_id],
                replaces=replaces[index],
            )
            for index, (statement, subject_id) in enumerate(zip(statements, ids, strict=True))
            if index not in skip
        ]
        note = "; ".join(extracted.notes) or None
        written = await memory.aremember_learned(user_id, event_id, items, note=note)
        await _follow_relations(memory, user_id, items, pairs, replaces, ends)
        return [
            {"id": item_id, "key": item.key, "text": item.text, "subject_id": item.subject_id}
            for item_id, item in zip(written, items, strict=True)
        ]
    except Exception as exc:  # noqa: BLE001 - recorded on the turn for a later retry
        # the error may quote the model's output, hence the user's words: not in the log
        logger.warning("fact extraction failed for event %s: %s", event_id, type(exc).__name__)
        await memory.amark_event(user_id, event_id, "failed", f"{type(exc).__name__}: {exc}")
        return []


async def _end_by_rule(
    memory: Memory,
    user_id: str,
    message: str,
    statements: list[Statement],
    ids: list[str | None],
    replaces: list[list[str]],
    skip: set[int],
) -> None:
    """What the turn ends by rule, beside the model's answers on pairs.

    A new workplace ends the old one said inside a job; a retirement or a lost job ends the
    job or the employer; an engagement or a wedding gives a partner a new tie (and the old tie
    restated this turn is not written); a slot's new value ends the facts that still say the
    old one; what the user gave up ends their facts about it. ``statements``, ``ids``,
    ``replaces`` and ``skip`` are updated in place.
    """
    await end_old_places(memory, user_id, statements, ids, replaces)
    await end_work(memory, user_id, statements, ids, replaces)
    before = len(statements)
    closer = await closer_ties(memory, user_id, message, statements, ids, replaces)
    skip |= {  # the old tie restated this turn ("Mai is the user's girlfriend.")
        index
        for index in range(before)
        if ids[index] in closer and statements[index].slot == "relation"
    }
    await end_echoes(memory, user_id, statements, ids, replaces, skip)
    await end_given_up(memory, user_id, message, statements, ids, replaces, skip)


_PLACED = re.compile(r"\b(?:at|for|with)\b", re.I)


def _take_over_ended_slots(
    memory: Memory,
    statements: Sequence[Statement],
    ids: Sequence[str | None],
    pairs: Sequence[tuple[int, MemoryHit]],
    answers: Sequence[str],
) -> None:
    """Give an ended slot's place to the message's new value said in other words.

    "I left the bakery, I'm at the library now": "The user left the bakery." replaced the
    ``employer`` fact, and "The user is at the library now." is the new employer. The first
    other statement of the same subject with no slot, no word of ending, and a place ("at",
    "for", "with") takes a single-valued slot a statement of the message ended.
    """
    many = memory.slots.multi_valued()
    ended = [
        (index, hit)
        for (index, hit), answer in zip(pairs, answers, strict=True)
        if answer == "replaced" and hit.key and hit.key not in many and hit.key != "relation"
    ]
    for index, hit in ended:
        for other, statement in enumerate(statements):
            if (
                other != index
                and statement.slot is None
                and ids[other] == ids[index] == hit.subject_id
                and not CHANGE.search(statement.text)
                and _PLACED.search(statement.text)
            ):
                statement.slot = hit.key
                break


#: A change said as what it was and what it is: "switching from architecture to urban
#: planning", "urban planning instead of architecture" (groups: old, new / new, old).
_FROM_TO = re.compile(
    r"\bfrom (?:the |a |an )?([\w' -]{2,40}?) to (?:the |a |an )?([\w' -]{2,40}?)"
    r"(?= next| this| in| at| on| for| from| starting|[.,;!]|$)",
    re.I,
)
_INSTEAD_OF = re.compile(
    r"\b(?:is|are|'s|now) ([\w' -]{2,40}?) instead of ([\w' -]{2,40}?)(?=[.,;!]|$)", re.I
)


def _carry_over(
    statements: list[Statement],
    ids: list[str | None],
    pairs: Sequence[tuple[int, MemoryHit]],
    answers: Sequence[str],
    replaces: list[list[str]],
) -> None:
    """Keep the rest of a fact a change replaced part of, with the new part in it.

    "The user is switching from architecture to urban planning." replaces "The user is a
    second year architecture student at Los Andes in Bogotá."; what else that fact said stays
    current: "The user is a second year urban planning student at Los Andes in Bogotá." is
    added, and it is what replaces the earlier fact in the history.
    """
    for (index, hit), answer in zip(pairs, answers, strict=True):
        if answer != "replaced" or hit.id not in replaces[index]:
            continue
        text = statements[index].text
        found = _FROM_TO.search(text)
        old, new = found.group(1, 2) if found else (None, None)
        if found is None and (instead := _INSTEAD_OF.search(text)):
            new, old = instead.group(1, 2)
        if not old or not new or old.lower() in new.lower():
            continue
        said_old = re.compile(rf"(?<![\w-]){re.escape(old.strip())}(?![\w-])", re.I)
        if not said_old.search(hit.text) or said_old.fullmatch(hit.text.strip(" .")):
            continue
        replaces[index].remove(hit.id)
        revised = said_old.sub(new.strip(), hit.text, count=1)
        statements.append(Statement(revised, statements[index].subject, hit.key))
        ids.append(hit.subject_id)
        replaces.append([hit.id])


_RELATION_OF = re.compile(r"\bis (?:now )?the user's ([\w' -]+?)\.?$", re.I)


async def _follow_relations(
    memory: Memory,
    user_id: str,
    items: Sequence[MemoryItem],
    pairs: Sequence[tuple[int, MemoryHit]],
    replaces: Sequence[Sequence[str]],
    ends: Sequence[str | None],
) -> None:
    """Keep each subject's ``relation`` in step with its current relation fact.

    A new relation fact ("Joao is the user's ex-partner.") sets it; a relation fact replaced
    by something else ("The user and Joao broke up.") makes it "former partner", or the word
    ``ends`` gives for that pair ("late grandmother" after a death said plainly).
    """
    stated = set()
    for item in items:
        match = _RELATION_OF.search(item.text) if item.key == "relation" else None
        if match and item.subject_id:
            stated.add(item.subject_id)
            await memory.aupdate_subject(user_id, item.subject_id, relation=match.group(1))
    replaced = {hit_id for ids in replaces for hit_id in ids}
    for (_, hit), end in zip(pairs, ends, strict=True):
        if hit.id in replaced and hit.key == "relation" and hit.subject_id not in stated:
            match = _RELATION_OF.search(hit.text)
            if match and hit.subject_id:
                old = match.group(1)
                word = end or "former"  # "late" after a death said plainly
                new = old if old.startswith(("ex", "former", "late")) else f"{word} {old}"
                await memory.aupdate_subject(user_id, hit.subject_id, relation=new)
                name = hit.text[: match.start()].strip()
                if new != old and name:  # "The user's boyfriend Devon is ..." says "Devon"
                    await retire_relation_words(memory, user_id, hit.subject_id, old, name)
