"""A new workplace ends the old one said inside a job, and a job's new workplace the old employer.

Part of the write path (:mod:`confidante.memory.ingest.learning`). "I'm a nurse at St
Vincent's in Dublin" is one ``job_title`` fact; "I started at Cork University Hospital" sets
the ``employer`` slot and would leave "... at St Vincent's in Dublin" current beside it. The
job stays true, its place does not: the old fact is replaced by the job alone ("The user is a
nurse."). The other way round, "I'm now a QA engineer at Volvo" (a ``job_title``) ends a
current ``employer`` fact that names another place ("The user works at Nokia.").

Only when the message does not set that slot itself (then the slot replaces it anyway), and
only for facts that name a place after "at", "for" or "with" other than the new one.
"""

from __future__ import annotations

import re

from confidante.memory.ingest.extraction import Statement
from confidante.memory.store import Memory

_PLACE = re.compile(
    r"\s(?:at|for|with)\s+(?:the\s+)?(?P<place>[A-Z][\w'’&.-]*(?:\s+(?:of\s+)?[A-Z][\w'’&.-]*)*)"
)
_FROM_PLACE = re.compile(r"\s+(?:at|for|with)\s+(?:the\s+)?[A-Z].*?(?=\.?$)")


def _place(text: str) -> str | None:
    found = _PLACE.search(text)
    return found.group("place").rstrip(".").casefold() if found else None


async def end_old_places(
    memory: Memory,
    user_id: str,
    statements: list[Statement],
    ids: list[str | None],
    replaces: list[list[str]],
) -> None:
    """Add to ``statements`` and ``replaces`` what a new workplace ends (see the module)."""
    ended = {hit_id for ids_ in replaces for hit_id in ids_}
    for index, statement in list(enumerate(statements)):
        if statement.slot not in ("employer", "job_title"):
            continue
        place = _place(statement.text)
        other = "job_title" if statement.slot == "employer" else "employer"
        subject_id = ids[index]
        if place is None or any(
            s.slot == other and i == subject_id for s, i in zip(statements, ids, strict=True)
        ):
            continue
        for hit in await memory.aslot_values(user_id, other, subject_id):
            old = _place(hit.text)
            if hit.id in ended or old is None or old in place or place in old:
                continue
            ended.add(hit.id)
            if other == "employer":  # "The user works at Nokia." ended by the new job's place
                replaces[index].append(hit.id)
                continue
            job = _FROM_PLACE.sub("", hit.text)  # "The user is a nurse at St Vincent's."
            if job != hit.text and len(job.split()) >= 4:
                statements.append(Statement(job, statement.subject, "job_title"))
                ids.append(subject_id)
                replaces.append([hit.id])
