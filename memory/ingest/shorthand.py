"""Short forms a user types and the long forms a model writes for them.

A small model retells "been doing keto since Jan, down 4kg" as "The user has been doing keto
since January." and "The user has lost 4 kilograms.": the grounding check
(:func:`confidante.memory.ingest.statements.is_grounded`) must count "January" and
"kilograms" as said. Likewise "first year at Trinity" becomes "a student at Trinity College":
a word that only says what kind of place a said name is ("College", "Bank", "Hospital") is
no invented name.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_LONG_FORMS = {
    short: long.split()
    for short, long in {
        "jan": "january",
        "feb": "february",
        "mar": "march",
        "apr": "april",
        "jun": "june",
        "jul": "july",
        "aug": "august",
        "sep": "september",
        "sept": "september",
        "oct": "october",
        "nov": "november",
        "dec": "december",
        "mon": "monday",
        "tue": "tuesday",
        "tues": "tuesday",
        "wed": "wednesday",
        "thu": "thursday",
        "thurs": "thursday",
        "fri": "friday",
        "sat": "saturday",
        "sun": "sunday",
        "kg": "kilogram kilograms kilo kilos",
        "kgs": "kilogram kilograms kilo kilos",
        "km": "kilometer kilometers kilometre kilometres",
        "kms": "kilometer kilometers kilometre kilometres",
        "lb": "pound pounds",
        "lbs": "pound pounds",
        "mi": "mile miles",
        "min": "minute minutes",
        "mins": "minute minutes",
        "hr": "hour hours",
        "hrs": "hour hours",
        "yr": "year years",
        "yrs": "year years",
        "yo": "year years old",
        "wk": "week",
        "wks": "week weeks",
        "uni": "university",
        "dept": "department",
        "govt": "government",
        "gov": "government",
        "hosp": "hospital",
        "appt": "appointment",
        "bday": "birthday",
        "b-day": "birthday",
        "info": "information",
        "meds": "medication medications medicine",
        "med": "medication medicine",
        "doc": "doctor",
        "vet": "veterinarian",
        "pic": "picture",
        "pics": "pictures",
        "grad": "graduate graduated graduation",
        "approx": "approximately",
    }.items()
}
#: Words that say what kind of place or body a name is ("Trinity College", "Zenith Bank").
KIND_OF_PLACE = frozenset(
    """college university school academy institute hospital clinic bank company inc ltd
    llc group department dept office centre center restaurant cafe café bar hotel club studio
    team city council ministry agency foundation church high middle primary""".split()
)


def said_forms(words: Iterable[str]) -> set[str]:
    """The lower-cased words said, with digits parted from units and short forms written out.

    "4kg" says "4" and "kg", hence "kilograms"; "Jan" says "january".
    """
    found = set()
    for word in words:
        found.add(word)
        parts = re.findall(r"\d+|[^\W\d_]+", word)
        for part in parts if len(parts) > 1 else [word]:
            found.add(part)
            found.update(_LONG_FORMS.get(part, ()))
    return found
