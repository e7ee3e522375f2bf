"""A new workplace ends the old one said inside a job, and a job's new workplace the old employer.

Part of the write path (:mod:`confidante.memory.ingest.learning`). "I'm a nurse at St
Vincent's in Dublin" is one ``job_title`` fact; "I started at Cork University Hospital" sets
the ``employer`` slot and would leave "... at St Vincent's in Dublin" current beside it. The
job stays true, its place does not: the old fact is replaced by the job alone ("The user is a
nurse."). The other way round, "I'm now a QA engineer at Volvo" (a ``job_title``) ends a
current ``employer`` fact that names another place ("The user works at Nokia.").

And a place left for good by its name ("quit Infosys", "gave notice at Krause", "dropped out
of Trinity") ends the job, employer or school that names it, whatever the model answers on
the pair (:func:`left_for_good`), and a retirement or a lost job ends them without a new
place (:func:`end_work`).

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


#: Work that ended without a new place: retirement ends the job and the employer, a lost job
#: the employer ("The user got laid off."); not when only planned or wished.
_RETIRED = re.compile(r"\b(?:retired|went into retirement|in retirement)\b", re.I)
_JOB_LOST = re.compile(
    r"\b(?:laid off|lost (?:my|their|his|her) job|(?:was|got|been|is) fired|made redundant|"
    r"(?:was|got|been) let go|quit (?:my|their|his|her) job|unemployed|out of work|between jobs)\b",
    re.I,
)
_NOT_YET = re.compile(
    r"\b(?:will|going to|gonna|plans?|planning|thinking|might|may|could|would|soon|wants?|"
    r"hopes?|next|about to|if|when|before)\b",
    re.I,
)


async def end_work(
    memory: Memory,
    user_id: str,
    statements: list[Statement],
    ids: list[str | None],
    replaces: list[list[str]],
) -> None:
    """Add to ``replaces`` the job and employer a retirement or a lost job ends.

    "The user's husband Kenji retired last month." ends Kenji's current ``job_title`` and
    ``employer`` facts; "The user got laid off." the user's ``employer``. Only when the
    message sets no new job or employer for that subject itself (then the slot replaces the
    old value anyway), and never from a plan ("will retire next year") or a retired person
    met for the first time ("a retired bus driver" has no earlier job to end).
    """
    ended = {hit_id for ids_ in replaces for hit_id in ids_}
    for index, statement in enumerate(statements):
        text, subject_id = statement.text, ids[index]
        retired = bool(_RETIRED.search(text))
        if not (retired or _JOB_LOST.search(text)) or _NOT_YET.search(text):
            continue
        if any(
            s.slot in ("employer", "job_title") and i == subject_id and s is not statement
            for s, i in zip(statements, ids, strict=True)
        ):
            continue
        keys = ["employer", "job_title"] if retired else ["employer"]
        for hit in await memory.aslot_values(user_id, keys, subject_id):
            if hit.id not in ended and hit.text != text:
                ended.add(hit.id)
                replaces[index].append(hit.id)
