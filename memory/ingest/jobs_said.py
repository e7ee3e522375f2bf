"""A job the user says in so many words, when the model's statements leave it out.

A small model reading "I'm Seun, a staff nurse on the cardiac ward at Manchester Royal
Infirmary" may keep the ward and the hospital and drop the job; reading "made captain!!!" it
may write "The user is the captain of the team." The job title is a single-valued slot that
later news replaces, so it is read from the message by rule as well: "I'm (Name,) (now) a
<job>", "I work as a <job>", "made / promoted to / became <job>", "took the <job> job",
"starting at <Employer> as a <job>", "(day) job is <job>", or a sentence that opens with
"<job> at <Employer>" ("34, software dev at Rakuten"), where the job's head is one of the
vocabulary's common job nouns (:data:`confidante.memory.slots.JOB_NOUNS`).
"""

from __future__ import annotations

import re

from confidante.memory.ingest.statements import sentences, statement_clauses
from confidante.memory.slots import JOB_NOUNS

_NAME = r"[A-Z][\w'-]+"
#: Up to two words before the job's head ("staff nurse", "first officer", "senior backend
#: engineer"); the words are checked by :func:`_modifiers_only`.
_JOB = rf"(?P<job>(?:[\w-]+\s+){{0,2}}?(?i:{JOB_NOUNS}))(?![\w'’-])"
_ENDS = r"(?=\s*(?:$|[^\w\s'’-]|\s(?i:at|for|with|in|on|of|and|now|today|since|after|here)\b))"
_SAID = (
    re.compile(
        rf"\b(?i:i'm|i am|im)\s+(?:{_NAME},\s*)?(?i:(?:now|still|currently)\s+)?"
        rf"(?i:(?:a|an)\s+)?{_JOB}{_ENDS}"
    ),
    re.compile(rf"\b(?i:i work as|i'm working as|working as)\s+(?i:(?:a|an)\s+)?{_JOB}{_ENDS}"),
    re.compile(
        rf"(?:^|\b(?i:i|i've|i have|just|finally|got)\s+)(?i:made|promoted to|became|been promoted "
        rf"to)\s+(?i:(?:a|an)\s+)?{_JOB}{_ENDS}"
    ),
    # "they made me welding inspector", "the boss made me shift supervisor"
    re.compile(rf"\b(?i:made|making|promoted) (?i:me)\s+(?i:(?:a|an|the)\s+)?{_JOB}{_ENDS}"),
    # a new job's title after its employer: "starting at Swiggy next Monday as a product analyst"
    re.compile(
        rf"(?:^\W*|\b(?i:i|i'm|im|i am|i've|i have|i'll be|just|finally)\s+)"
        rf"(?i:start(?:s|ed|ing)?|join(?:s|ed|ing)?)\s+(?i:at\s+|with\s+)?{_NAME}"
        rf"(?:\s+[\w-]+){{0,3}}?\s+(?i:as)\s+(?i:(?:a|an)\s+)?{_JOB}{_ENDS}"
    ),
    # a job taken: "I took the head chef job in Galway", "got the charge nurse position!"
    re.compile(
        rf"(?:^\W*|\b(?i:i|i've|i have)\s+)(?i:(?:just|finally)\s+)?(?i:took|got|accepted|landed|"
        rf"taking|"
        rf"accepting)\s+(?i:the|a|an)\s+(?i:new\s+)?{_JOB}\s+(?i:job|position|role|post|gig)\b"
    ),
    # "my job is ...", "day job is sound engineer at a little studio"
    re.compile(
        rf"(?:^\W*|[,;]\s*|\b(?i:my)\s+)(?i:(?:day |new |main )?job(?:'s|\s+is))\s+"
        rf"(?i:(?:a|an)\s+)?{_JOB}{_ENDS}"
    ),
    # a bare self-description opening a sentence, with its employer: "34, software dev at Rakuten",
    # "Zainab, pharmacist at the OLVG"
    re.compile(
        rf"^\W*(?:(?i:hi+|hey+|hello+|hiya|heya|yo)\W+)?(?:{_NAME}(?:\s+(?i:here))?[,.!]*\s*(?:\W+\s*)?)?"
        rf"(?:\d{{1,2}}\s*,\s*)?{_JOB}\s+(?i:at|for|with)\s+(?i:the\s+)?{_NAME}"
        # not "Kavya, nurse at Manipal, is visiting": someone else, described
        r"(?![^.]*,\s*(?i:is|was|has|will|came|comes|said|says)\b)"
    ),
)
_NOT_MODIFIERS = frozenset(
    "a an the my your his her our their not no never to with at for in on of and or but so "
    "seeing see visit visiting call calling meet meeting ask asking like love hate".split()
)


#: Fields of work that end in "-ing" yet describe a job ("engineering manager").
_FIELDS = frozenset(
    "engineering marketing nursing accounting teaching training consulting banking publishing "
    "recruiting manufacturing welding plumbing catering landscaping programming building "
    "cleaning cooking tutoring".split()
)


def _modifiers_only(job: str) -> bool:
    """Whether the words before the job's head describe the job ("staff", "first", "senior")."""
    *before, _ = job.split()
    return all(
        w.lower() not in _NOT_MODIFIERS and (not w.lower().endswith("ing") or w.lower() in _FIELDS)
        for w in before
    )


def job_said(message: str) -> str | None:
    """The job title the user gives themself in the message, if any ("staff nurse").

    Only from sentences that state something (not from questions or requests).
    """
    for sentence in sentences(message):
        if not statement_clauses(sentence, min_words=1):
            continue
        for pattern in _SAID:
            match = pattern.search(sentence)
            if match and _modifiers_only(match.group("job")):
                return " ".join(match.group("job").split())
    return None


def job_statement(job: str) -> str:
    """The statement of a job title: "The user is a staff nurse."."""
    article = "an" if job[:1].lower() in "aeiou" else "a"
    return f"The user is {article} {job}."
