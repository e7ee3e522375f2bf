"""Word forms of the write path: crude stems, and verbs retold in the third person.

"where did I grow up?" must share a stem with "The user grew up in Cali.", and "I like jazz"
is retold as "The user likes jazz." while "I quit my job in Jan" stays "The user quit ...".
"""

from __future__ import annotations

#: Common irregular past forms and their present: "where did I grow up?" asks about "The
#: user grew up in Cali.", "what did I buy?" about "The user bought a bike.".
_PAST = {
    past: present
    for present, forms in {
        "grow": "grew grown",
        "buy": "bought",
        "teach": "taught",
        "meet": "met",
        "leave": "left",
        "eat": "ate eaten",
        "drive": "drove driven",
        "write": "wrote written",
        "run": "ran",
        "swim": "swam swum",
        "sing": "sang sung",
        "fly": "flew flown",
        "give": "gave given",
        "take": "took taken",
        "make": "made",
        "find": "found",
        "lose": "lost",
        "sell": "sold",
        "tell": "told",
        "think": "thought",
        "bring": "brought",
        "catch": "caught",
        "fall": "fell fallen",
        "break": "broke broken",
        "speak": "spoke spoken",
        "begin": "began begun",
        "win": "won",
        "see": "saw seen",
        "know": "knew known",
        "get": "got gotten",
        "go": "went gone",
        "tear": "tore torn",
    }.items()
    for past in forms.split()
}


def stem(word: str) -> str:
    """A crude stem: a common ending off, then the first five letters.

    "allergic" and "allergy" share "aller", "hates" and "hate" share "hate".
    """
    word = word.removesuffix("'s")
    word = _PAST.get(word, word)
    if len(word) > 4:
        for ending in ("ing", "ed", "s"):
            if word.endswith(ending):
                word = word[: -len(ending)]
                break
    return word[:5]


_IRREGULAR = {"am": "is", "are": "is", "have": "has", "do": "does", "go": "goes", "be": "is"}


#: Verbs whose past is the present's spelling ("I quit my job in Jan").
_SAME_PAST = frozenset("quit put cut split hurt set let shut spread".split())


def third_person_verb(verb: str) -> str:
    """The third-person singular of a present-tense verb ("like" -> "likes", "go" -> "goes").

    A past form stays as it is ("quit", "left", "moved").
    """
    lowered = verb.lower()
    if lowered in _PAST or lowered in _SAME_PAST or (lowered.endswith("ed") and lowered[-3] != "e"):
        return verb
    if lowered in _IRREGULAR:
        return _IRREGULAR[lowered]
    if lowered.endswith(("s", "sh", "ch", "x", "z", "o")):
        return verb + "es"
    if len(lowered) > 1 and lowered.endswith("y") and lowered[-2] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def second_person_verb(verb: str) -> str:
    """The second-person form of a third-person present verb ("takes" -> "take")."""
    lowered = verb.lower()
    irregular = {"is": "are", "has": "have", "does": "do", "goes": "go", "was": "were"}
    if lowered in irregular:
        return irregular[lowered]
    if lowered.endswith("ies") and len(lowered) > 4:
        return verb[:-3] + "y"
    if lowered.endswith(("shes", "ches", "xes", "zes", "sses", "oes")):
        return verb[:-2]
    if lowered.endswith("s") and not lowered.endswith("ss"):
        return verb[:-1]
    return verb
