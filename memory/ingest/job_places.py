"""A new workplace ends the old one said inside a job, and a job's new workplace the old employer.

Part of the write path (:mod:`confidante.memory.ingest.learning`). "I'm a nurse at St
Vincent's in Dublin" is one ``job_title`` fact; "I started at Cork University Hospital" sets
the ``employer`` slot and would leave "... at St Vincent's in Dublin" current beside it. The
job stays true, its place does not: the old fact is replaced by the job alone ("The user is a
nurse."). The other way round, "I'm now a QA engineer at Volvo" (a ``job_title``) ends a
current ``employer`` fact that names another place ("The user works at Nokia.").

And a place left for good by its name ("quit Infosys", "gave notice at Krause", "dropped out
of Trinity") ends the job, employer or school that names it, whatever the model answers on
the pair (:func:`left_for_good`).

Only when the message does not set that slot itself (then the slot replaces it anyway), and
only for facts that name a place after "at", "for" or "with" (or an office "in" one: "a data
analyst in Infosys Pune office") other than the new one.
"""

from __future__ import annotations

import re

from confidante.memory.ingest.extraction import Statement
from confidante.memory.store import Memory

_NAMED = r"[A-Z][\w'’&.-]*(?:\s+(?:of\s+)?[A-Z][\w'’&.-]*)*"
#: Where a job is: "at St Vincent's", "joined Flipkart", "in Infosys Pune office".
_PLACE = re.compile(
    rf"\s(?:at|for|with|joined)\s+(?:the\s+)?(?P<place>{_NAMED})"
    rf"|\sin\s+(?:the\s+)?(?P<office>{_NAMED})\s+(?:office|branch|headquarters|HQ|team|store|"
    r"plant|site|campus|department)\b"
)
_FROM_PLACE = re.compile(
    r"\s+(?:(?:at|for|with)\s+(?:the\s+)?[A-Z]|in\s+(?:the\s+)?[A-Z][\w'’&.-]*(?:\s+[A-Z]"
    r"[\w'’&.-]*)*\s+(?:office|branch|headquarters|HQ|team|store|plant|site|campus|"
    r"department)\b).*?(?=\.?$)"
)


def _place(text: str) -> str | None:
    found = _PLACE.search(text)
    if found is None:
        return None
    return (found.group("place") or found.group("office")).rstrip(".").casefold()


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


#: Leaving a place for good, by its name ("left" alone may be for the day: not here).
_LEFT_FOR_GOOD = re.compile(
    r"\b(?:quit|quitting|resigned from|resigning from|dropped out of|dropping out of|"
    r"(?:gave|given|giving|handed|handing) (?:in )?(?:my |their |his |her )?(?:notice|"
    r"resignation) (?:at|to)|no longer (?:works? |working )?(?:at|for|with))\s+(?:the\s+)?"
    r"(?P<place>[A-Z][\w'’&.-]*)"
)


def left_for_good(statement: str, earlier: str, key: str | None) -> bool:
    """Whether a statement leaves for good the place an earlier job, employer or school names."""
    if key not in ("employer", "job_title", "school"):
        return False
    return any(
        re.search(rf"(?<![\w-]){re.escape(found.group('place').rstrip('.'))}(?![\w-])", earlier)
        for found in _LEFT_FOR_GOOD.finditer(statement)
    )
