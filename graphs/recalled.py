"""The turn's recalled memories: fuse the hits of several queries, add linked facts, cite.

Used by the ``recall`` and ``respond`` nodes (:mod:`confidante.graphs.nodes`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from confidante.graphs.grounding import asks_about_the_user
from confidante.graphs.values import RecalledItem
from confidante.memory.items import MemoryHit
from confidante.memory.store import Memory
from confidante.memory.subjects.directory import SubjectView

__all__ = [
    "cited",
    "current_and_ended",
    "merge_hits",
    "replacements",
    "slot_facts",
    "with_links",
]


def merge_hits(lists: Sequence[Sequence[MemoryHit]], k: int) -> list[MemoryHit]:
    """Fuse the hits of several queries: each item once, at its best score, best first."""
    best: dict[str, MemoryHit] = {}
    for hits in lists:
        for hit in hits:
            if hit.id not in best or hit.score > best[hit.id].score:
                best[hit.id] = hit
    return sorted(best.values(), key=lambda hit: -hit.score)[:k]


def current_and_ended(
    found: Sequence[Sequence[MemoryHit]], k: int, top: int = 3
) -> tuple[list[list[MemoryHit]], list[MemoryHit]]:
    """Split rankings that include history into current items and superseded facts.

    Returns each query's ``k`` current items, and the superseded facts ranked in a query's
    first ``top`` (what replaced them is what is true now: see :func:`replacements`).
    """
    current = [[hit for hit in hits if hit.valid_to is None][:k] for hits in found]
    ended: dict[str, MemoryHit] = {}
    for hits in found:
        for hit in hits[:top]:
            if hit.valid_to is not None and hit.kind == "fact":
                ended.setdefault(hit.id, hit)
    return current, list(ended.values())


async def replacements(
    memory: Memory, user_id: str, ended: Sequence[MemoryHit], limit: int = 4
) -> list[RecalledItem]:
    """What replaced each superseded fact, as recalled items that say what they replaced.

    "The user is doing Saturday mornings at the food bank now." comes with ``instead_of``
    "The user volunteers Tuesdays at the lighthouse museum." (see
    :meth:`~confidante.memory.store.Memory.asuccessors`).
    """
    found: dict[str, RecalledItem] = {}
    for old in ended:
        for hit in await memory.asuccessors(user_id, [old.id], limit=limit):
            item = RecalledItem.from_hit(hit).model_copy(update={"instead_of": old.text})
            found.setdefault(hit.id, item)
        if len(found) >= limit:
            break
    return list(found.values())[:limit]


def with_links(
    recalled: Sequence[RecalledItem], linked: Sequence[RecalledItem], extra: int = 6
) -> list[RecalledItem]:
    """The retrieved memories, then up to ``extra`` linked facts.

    Linked facts are the current values of the slots the message asks about and the facts of
    the subjects it names. A linked fact already retrieved keeps its place; the others follow
    the retrieved ones (so "where does my sister live?" carries the sister's facts even when
    the words differ).
    """
    present = {item.id for item in recalled}
    added = [item for item in linked if item.id not in present][:extra]
    return [*recalled, *added]


async def slot_facts(
    memory: Memory, user_id: str, text: str, named: Sequence[SubjectView]
) -> list[MemoryHit]:
    """The current values of the slots a question asks about, for the user or whom it names.

    "What's my diet these days?" brings the user's ``diet`` even when no word of it is in the
    fact ("The user has gone vegan."); "what does Ffion do for work?" brings Ffion's job.
    """
    found: list[MemoryHit] = []
    mine = memory.slots.asked_in(text, about_user=True) if asks_about_the_user(text) else []
    if mine:
        found += await memory.aslot_values(user_id, mine)
    theirs = memory.slots.asked_in(text, about_user=False) if named else []
    for subject in named[:2] if theirs else []:
        found += await memory.aslot_values(user_id, theirs, subject.id)
    return found


def cited(reply: str, carried: Sequence[RecalledItem]) -> list[RecalledItem]:
    """The memories a reply used: those it cites as ``[n]``, else those whose text it quotes.

    When the reply cites and quotes nothing, every memory its prompt carried is returned.
    """
    numbers = {int(n) for n in re.findall(r"\[(\d+)\]", reply)}
    chosen = [item for index, item in enumerate(carried, 1) if index in numbers]
    chosen = chosen or [item for item in carried if item.text in reply]
    return chosen or list(carried)
