"""Word forms of the write path: crude stems, verbs and statements retold in the third person.

"where did I grow up?" must share a stem with "The user grew up in Cali.", and "I like jazz"
is retold as "The user likes jazz." while "I quit my job in Jan" stays "The user quit ...".
"""

from __future__ import annotations

import re

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

    "allergic" and "allergy" share "aller", "hates" and "hate" share "hate", "cries" and
    "cry" share "cry".
    """
    word = word.removesuffix("'s")
    word = _PAST.get(word, word)
    if len(word) == 5 and word.endswith(("ies", "ied")):  # "cries", "cried" and "cry"
        word = word[:-3] + "y"
    elif len(word) > 4:
        for ending in ("ing", "ed", "s"):
            if word.endswith(ending):
                word = word[: -len(ending)]
                break
    return word[:5]


_IRREGULAR = {"am": "is", "are": "is", "have": "has", "do": "does", "go": "goes", "be": "is"}


#: Verbs whose past is the present's spelling ("I quit my job in Jan").
_SAME_PAST = frozenset("quit put cut split hurt set let shut spread".split())


_NEGATED = {"don't": "doesn't", "haven't": "hasn't", "aren't": "isn't", "weren't": "wasn't"}


def third_person_verb(verb: str) -> str:
    """The third-person singular of a present-tense verb ("like" -> "likes", "go" -> "goes").

    A past form stays as it is ("quit", "left", "moved").
    """
    lowered = verb.lower().replace("’", "'")
    if lowered.endswith("n't"):  # "don't" -> "doesn't", "haven't" -> "hasn't", "can't"
        return _NEGATED.get(lowered, verb)
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


_FIRST_PERSON_WORDS = (
    (re.compile(r"\b(?:I'm|I am)\b"), "the user is"),
    (re.compile(r"\bI've\b"), "the user has"),
    (re.compile(r"\bI'll\b"), "the user will"),
    (re.compile(r"\bI'd\b"), "the user would"),
    (re.compile(r"\bI\b"), "the user"),
    (re.compile(r"\b(?:myself|ourselves)\b", re.I), "themself"),
    (re.compile(r"\b(?:my|our)\b", re.I), "the user's"),
    (re.compile(r"\bme\b", re.I), "the user"),
    # a model that retells the message to the user: "Ammu is cooking for your birthday."
    (re.compile(r"(?<![\w-])your(?![\w-])", re.I), "the user's"),  # not "thank-you"
    (re.compile(r"(?<![\w-])you(?![\w-])", re.I), "the user"),
)
#: "The user" with no verb before what describes them.
_NO_VERB = re.compile(
    r"^The user ((?:originally |also |currently |now )?(?:from|based in|allergic to|single|"
    r"vegan|vegetarian|pregnant)\b)"
)
_LOWER_I = re.compile(r"(?<![\w'’.-])i(?=(?:'m|'ve|'ll|'d)?(?![\w'’.-]))")


def retold(statement: str) -> str:
    """A first-person statement said in the third person, as a sentence.

    "I've got a cat" is "The user has got a cat."; "i keep forgetting" is "The user keeps
    forgetting.".
    """
    text = " ".join(statement.split()).strip()
    text = _LOWER_I.sub("I", text)  # "i keep forgetting" is said as "I keep forgetting"
    if re.match(r"I (?!am\b|'m\b)", text):  # "I like jazz" -> "The user likes jazz"
        text = re.sub(
            r"^I ((?:\w+ly |also |still |just |now )?)(\w+(?:['’]t)?)", _agree, text, count=1
        )
    for pattern, third_person in _FIRST_PERSON_WORDS:
        text = pattern.sub(third_person, text)
    text = _NO_VERB.sub(r"The user is \1", text)  # "The user originally from Pune."
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."


def _agree(match: re.Match[str]) -> str:
    """Retell a first-person statement: "I really like" -> "The user really likes"."""
    return f"The user {match.group(1)}{third_person_verb(match.group(2))}"


#: Verbs of a change, "-ing" form and past: "is moving to" is retold "moved to" when the user
#: said "moved" and never "moving" ("we're all moved in to our new place in Tauranga").
_CHANGE_VERBS = {
    "moving": "moved",
    "starting": "started",
    "joining": "joined",
    "leaving": "left",
    "transferring": "transferred",
    "switching": "switched",
    "quitting": "quit",
}
_GOING_ON = re.compile(rf"\b(?:is|are|'s|'re) ({'|'.join(_CHANGE_VERBS)})\b", re.I)


def in_said_tense(text: str, message: str) -> str:
    """A change the user said as done ("moved") and a model retold as going on, as done."""

    def past(match: re.Match[str]) -> str:
        going = match.group(1).lower()
        done = _CHANGE_VERBS[going]
        said = re.search(rf"\b{done}\b", message, re.I)
        if not said or re.search(rf"\b{going}\b|\bwill\b|\bgoing to\b|\bgonna\b", message, re.I):
            return match.group(0)
        return done

    return _GOING_ON.sub(past, text)
