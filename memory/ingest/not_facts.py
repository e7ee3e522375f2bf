"""What a small model writes that is no fact of the user's life, as patterns.

Used by :mod:`confidante.memory.ingest.extraction` on the model's statements (and, for
:data:`MISREAD`, on the message it is shown).
"""

from __future__ import annotations

import re

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


#: Idioms a small model reads word for word ("heads up: egg allergy" → "The user's head..").
MISREAD = re.compile(r"\bheads?[- ]up\b[\s:,;!.-]*", re.I)


ALLERGY_SAID = re.compile(
    r"\b(?:allerg\w*|intoleran\w*|anaphyla\w*|epi-?pen|hives|react\w*|(?:can't|cannot|can not) "
    r"(?:eat|have|touch|take))",
    re.I,
)
