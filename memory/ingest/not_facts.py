"""What a small model writes that is no fact of the user's life, as patterns.

Used by :mod:`confidante.memory.ingest.extraction` on the model's statements (and, for
:data:`MISREAD`, on the message it is shown).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from confidante.memory.ingest.statements import content_stems

#: A model's statement in the first person said to "you", the assistant ("I won't bore you").
TO_YOU = re.compile(r"^(?:I|I'm|I'll|I've|I'd)\b.*\byou\b", re.I)
#: The model's report of the user knowing or saying something ("The user knows about coeliac
#: disease." for "I've got coeliac disease"): taken only when the message says that verb, else
#: the clause is kept in the user's own words (:func:`~confidante.memory.ingest.said.left_out`).
HEARSAY = re.compile(
    r"^the user (?:knows|knew|is aware|learned|heard|mentioned|mentions|said|says|told|talked|"
    r"talks|is talking|shared|shares) (?:about |of |that )?",
    re.I,
)
#: Sentences that are not facts: the user is their own relation, a thing is itself, advice
#: or a question retold ("The user should grab a slice.", "The user wonders whether...").
NOT_A_FACT = re.compile(
    r"\bthe user (?:is|was) the user's\b|^the user's ([\w -]+) is the user's \1\.?$"
    r"|^the user (?:should|could|might|may|would like to know|wants to know|is wondering|"
    r"wonders|asked|asks|is asking|is considering|is interested in the|"
    r"is not sure (?:if|whether|about)|"
    r"is unsure|is uncertain|wants (?:advice|to check|a second opinion)|thank\w* the assistant|"
    r"is (?:thankful|grateful) to the assistant)\b",
    re.I,
)

#: The model's own guess ("The user's friends are likely to be thinking about the lunch.").
_GUESS = re.compile(
    r"\b(?:likely|unlikely|probably|possibly|perhaps|presumably|seems? to|appears? to|"
    r"must be)\b",
    re.I,
)


def guessed(text: str, message: str) -> bool:
    """Whether a statement guesses in words of doubt the message never says."""
    return any(
        not re.search(rf"\b{re.escape(found.group(0))}\b", message, re.I)
        for found in _GUESS.finditer(text)
    )


#: Someone else's doubtful claim about the user ("Chloe swears I told her Vienna", "my mom
#: insists I was a picky eater"): what follows is theirs to claim, not the user's to state.
CLAIMED = re.compile(
    # someone else, not the user ("I swear I'm allergic") nor a carer ("my doctor insists")
    r"\b(?!(?i:I|we|doctor|gp|dentist|nurse|therapist|physio|pharmacist|vet|midwife)\b)"
    r"(?:[A-Z][\w'-]*|(?i:she|he|they|everyone|everybody|people)|(?i:my|our)\s+(?!(?i:doctor|"
    r"gp|dentist|nurse|therapist|physio|pharmacist|vet|midwife)\b)[\w-]+)\s+"
    r"(?i:swears?|swore|claims?|claimed|insists?|insisted|reckons?|is convinced|keeps? "
    r"(?:saying|telling (?:me|people|everyone))|bets?)\s+(?i:that\s+)?(?i:I|I'm|I've|I'd|"
    r"I was|my|me)\b[^.!?;,]*",
)


def without_claims(text: str) -> str:
    """A message without what others claim of the user (see :data:`CLAIMED`)."""
    return CLAIMED.sub(" ", text)


def value_said(text: str, said: str, names: Iterable[str]) -> bool:
    """Whether a word of a safety fact's value was said, past its framing and whom it is of.

    "The user is allergic to shellfish." from "she's allergic to penicillin" has "allergic"
    said, and nothing of its value.
    """
    whom = {name.casefold() for name in names} | {"user"}
    value = _SAFETY_FRAMING.sub(" ", text)
    kept = " ".join(w for w in value.split() if w.casefold().strip(".,!?'’s") not in whom)
    return bool(content_stems(kept) & content_stems(said))


#: The words that frame a safety fact, not its value ("allergic", "takes", "diagnosed with").
_SAFETY_FRAMING = re.compile(
    r"\b(?:allerg\w*|intoleran\w*|sensitiv\w*|tak(?:e|es|ing)|medications?|medicines?|"
    r"conditions?|diagnos\w*|suffer\w*|prescri\w*|us(?:e|es|ing)|severe\w*|serious\w*|mild\w*|"
    r"doctor|put|daily|every day|has|have|had|user|the|is|on|to|with|for|a|an)\b",
    re.I,
)

#: Idioms a small model reads word for word ("heads up: egg allergy" → "The user's head..").
MISREAD = re.compile(r"\bheads?[- ]up\b[\s:,;!.-]*", re.I)


ALLERGY_SAID = re.compile(
    r"\b(?:allerg\w*|intoleran\w*|anaphyla\w*|epi-?pen|hives|react\w*|(?:can't|cannot|can not) "
    r"(?:eat|have|touch|take))",
    re.I,
)
