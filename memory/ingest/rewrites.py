"""Facts said again in new words, the old ones kept in the history.

Part of the write path (:mod:`confidante.memory.ingest.learning`). A subject renamed ("Pepper,
not Peppa") or a tie that ended ("The user's boyfriend Devon is a nurse." after a breakup)
leaves current facts that say the old words; :func:`rewrite_facts` replaces each with its
new wording.
"""

from __future__ import annotations

from collections.abc import Callable

from confidante.memory.items import MemoryHit, MemoryItem
from confidante.memory.store import Memory


async def rewrite_facts(
    memory: Memory,
    user_id: str,
    subject_id: str,
    name: str,
    rewrite: Callable[[MemoryHit], str | None],
) -> None:
    """Replace the facts about a subject that ``rewrite`` words anew.

    Read are the subject's current facts and the user's own facts that say ``name`` ("The
    user got a kitten named Mimmi."); ``rewrite`` gives a fact's new text, or None to leave
    it. Each new fact replaces its old one, whose text stays in the history.
    """
    facts = await memory.asubject_facts(user_id, [subject_id], limit=100)
    facts += await memory.aretrieve(user_id, name, k=8, kinds=["fact"], fallback=False)
    items = []
    for hit in {hit.id: hit for hit in facts}.values():
        text = rewrite(hit) if hit.subject_id in (None, subject_id) else None
        if text is not None and text != hit.text:
            items.append(
                MemoryItem(
                    text=text,
                    key=hit.key,
                    subject_id=hit.subject_id,
                    replaces=[hit.id],
                    provenance=list(hit.provenance),
                )
            )
    if items:
        await memory.aremember_many(user_id, items)
