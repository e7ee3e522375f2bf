"""What the model's statements left out of a message: kept in the user's words, never lost.

A small model reading "yo. kenji. 34, software dev at Rakuten in Osaka" may write down the
employer and drop the job, or skip "based out of Atlanta" altogether. After the model's
statements are checked (:mod:`confidante.memory.ingest.extraction`), each stating clause of
the message is compared with them: a clause whose names, numbers and most of whose content
words no statement carries is kept as a fact of its own, in the user's words:

- a clause that opens in the first person ("I'm backpacking SE Asia for 6 months") is retold
  in the third person ("The user is backpacking SE Asia for 6 months.");
- a clause that opens with someone in the user's life ("my mum reminded me ...", "Léa says
  ...") is a fact about them, and so is one that opens with "she" or "he" after them ("My
  daughter is Rita, she lives in Luxembourg" is Rita's, unless her relation says "he");
- any other clause is quoted as the user said it ('The user said "first officer with
  Delta".'), which a reply can read and a search can find.

Clauses with fewer than two content words after fillers ("lol", "honestly", "so tired tbh")
are left out: they carry no fact. :func:`opening_name` finds a name the user gives
themself as a bare first word.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from confidante.memory.ingest.shorthand import said_forms
from confidante.memory.ingest.statements import clauses, content_stems, names_in, subject_opening
from confidante.memory.ingest.verbs import stem
from confidante.memory.subjects.names import Mention, name_pattern

#: Words that carry no fact of their own ("honestly", "lol", greetings, intensifiers).
FILLERS = frozenset(
    """lol lmao haha hahaha tbh honestly basically literally actually just really ok okay yeah
    yep yes nope oh ah ugh hmm wow omg btw fyi anyway anyways thanks thank cheers hi hello hey
    yo hiya morning evening night good great cool nice awesome amazing sweet sure bit news
    kinda sorta pretty stuff thing things lot lots guess think mean know well though tho
    totally super quite bad big little today tonight yesterday tomorrow lately right now
    again else ever never always feel feeling sure fine glad happy sad tired our ours my mine
    me i'm i've i'd we're we've you your out off over back down away came come him her them
    his hers their theirs she he they""".split()
)
#: Words of naming: "we're calling him Pancho" says what "The user's dog is named Pancho." says.
_NAMING = frozenset("call calling called calls name named names naming".split())
_LEADING = re.compile(
    r"^\W*(?:(?:and|but|so|oh|ok|okay|also|then|hey|btw|well|anyway|lol|honestly|tbh|plus|"
    r"fyi|bit of news|big news|news|(?:just )?so you know|you know|for the record|"
    r"(?:it )?turns out|apparently|guess what)\b\W*)*",
    re.I,
)
_TRAILING = re.compile(r"(?:\W+(?:lol|haha\w*|lmao|tbh|tho|though|honestly))+\W*$", re.I)
#: Clauses the retelling says in the third person ("we ..." is quoted: who is "we"?).
_OPENS_FIRST_PERSON = re.compile(r"^(?:i|i'm|i've|i'll|i'd|my)\b", re.I)
_SAID_BY_I = re.compile(r"^(?:i|i'm|im|i've|i'll|i'd)\b", re.I)
_ABOUT_THE_USER = re.compile(r"^the user\b(?!['’]s)", re.I)
#: A clause that opens with a verb of the speaker's own doing ("quit my job in Jan and I'm
#: backpacking SE Asia"): said in the first person with its "I" left out.
_DROPPED_I = re.compile(
    r"^(?:quit|left|got|made|took|went|moved|started|finished|lost|met|bought|sold|broke|tore|"
    r"signed|joined|switched|stopped|finally|just)\b.*\b(?:my|me|I'm|I)\b",
)
#: A clause that goes on describing the speaker with no subject of its own ("I'm Jamal, first
#: officer with Delta, based out of Atlanta"): said of the user while no one else was named.
#: "been doing keto since Jan": said with its "I've" left out.
_DROPPED_IVE = re.compile(r"^(?:just |really |finally )?been \w+ing\b(?!.*\bI(?:'m|'ve)?\b)", re.I)
_GOES_ON = re.compile(
    r"^(?:based|living|located|settled|working|studying|originally from|born|raised|"
    r"married|engaged|single|retired|allergic|vegan|vegetarian|pescatarian|pregnant|"
    # "going vegetarian instead", "doing keto these days", "trying to cut sugar"
    r"going|doing|trying|learning|training|expecting|"
    # "from Cebu", not "from August I'm taking the under-12s"
    r"from(?! (?:january|february|march|april|may|june|july|august|september|october|"
    r"november|december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|next|now|"
    r"then|today|tomorrow|time)\b))\b(?!.*\bI(?:'m)?\b)",
    re.I,
)
_BARE_AGE = re.compile(r"^\d{2}$")
_GREETING = (
    r"(?:hi|hey|hello|yo|hiya|heya|howdy|sup|morning|evening|ok|okay|alright|oi|greetings|"
    r"bonjour|bonsoir|salut|hola|holaa+|ola|olá|oi|ciao|hallo|hej|hei|moin|servus|salam|salaam|"
    r"sawubona|namaste|aloha|shalom|merhaba|privet|konnichiwa|kia ora|g'day|ahoj|szia|sveiki|"
    r"hoi|moi|tere|salve|selam|jambo|habari|kumusta|halo|xin chào|annyeong|ni hao|sawasdee|"
    r"good (?:morning|afternoon|evening|day)|bom dia|boa tarde|boa noite|buenos d[ií]as|"
    r"buenas(?: tardes| noches)?|guten (?:tag|morgen|abend)|buongiorno|buonasera|goedemorgen|"
    r"goedemiddag|dag|god morgen|dzie[nń] dobry|cze[sś][cć]|zdravo|yassou|geia sou)"
)
#: Whom a greeting is said to ("hey there", "hi all", "hello again").
_ADDRESSEE = r"(?:\s+(?:there|all|everyone|everybody|guys|folks|friend|again|y'all|you))?"
_OPENING_WORD = re.compile(
    rf"^\W*(?:{_GREETING}{_ADDRESSEE}\W+)*([^\W\d_][\w'-]*)\s*[.,!]+(?:\s|$)", re.I
)


def _content(text: str) -> frozenset[str]:
    return content_stems(text, FILLERS)


#: A self-introduction in lower case: "heyyy im yasmin 💅 22" (the word after it).
_INTRO_LOWER = re.compile(r"\b(?:i'm|im|i am|my name is|my name's|call me)\s+([a-z][\w'-]+)\b")


def opening_name(message: str, statements: Sequence[str]) -> str | None:
    """A name the user gives themself in lower case ("yo. kenji. 34, ...", "im yasmin").

    As the message's first word, or after "I'm" or "my name is"; only when the model's
    statements spell that word as a name (capitalised): "ok. cool." opens with no name, and
    "im tired" is never retold as "Tired ...".
    """
    match = _OPENING_WORD.match(message)
    opening = match.group(1) if match else ""
    named = len(opening) > 1 and _spelled_as_name(opening, statements, opening=False)
    if named and opening.lower() not in FILLERS:
        return opening.casefold()
    for found in _INTRO_LOWER.finditer(message):  # "The user is Polish." names nobody
        if _spelled_as_name(found.group(1), statements, opening=True):
            return found.group(1).casefold()
    return None


def _spelled_as_name(word: str, statements: Sequence[str], *, opening: bool) -> bool:
    """Whether the statements spell ``word`` capitalised, as a name (opening one of them)."""
    spelled = word[:1].upper() + word[1:]
    named = re.compile(rf"{'^' if opening else ''}(?<![\w-]){re.escape(spelled)}(?![\w-])")
    return any(named.search(text) for text in statements)


#: Words of when: a clause of a verb and a time ("starts next month") is no fact to quote.
_WHEN = _content(
    "next last this coming month months week weeks weekend year years day days morning "
    "evening night today tomorrow yesterday soon later early late ago monday tuesday wednesday "
    "thursday friday saturday sunday"
)
_PRONOUNS = frozenset({"i", "i'm", "im", "i've", "i'll", "i'd"})
#: Clauses said to the assistant ("testing you", "please forget ..."), not about a life.
_TO_THE_ASSISTANT = re.compile(r"\b(?:you|your|you're|u|please|pls|forget)\b", re.I)


_THANKS = re.compile(r"^(?:many |so much )?(?:thanks|thank you|thank u|thx)\b", re.I)


_THANKED = re.compile(r"\b(?:thank\w*|grateful|gratitude)\b", re.I)


def from_thanks(statement: str, message: str) -> bool:
    """Whether a statement retells the message's thanks to the assistant.

    "thank you for listening to me moan" says no "The user listened to Mango moan.". The
    statement's source is the clause sharing most content words with it.
    """
    said = [clause for clause, _ in clauses(message)]
    if _THANKED.search(statement) and any(_THANKS.match(_LEADING.sub("", c)) for c in said):
        return True  # "Mateus thanks Mateus for the information." from "thanks, that helped"
    words = _content(statement)
    best, overlap = "", 0
    for clause in said:
        shared = len(words & _content(clause))
        if shared > overlap:
            best, overlap = clause, shared
    return bool(_THANKS.match(_LEADING.sub("", best)))


def _names(clause: str) -> set[str]:
    """The clause's names and numbers ("I've" is not a name)."""
    return names_in(clause) - _PRONOUNS


def _covered(clause: str, carried: str, carried_stems: frozenset[str]) -> bool:
    """Whether the statements carry the clause: its names and numbers, and half its words.

    A clause that names someone or something only to say what they are called ("we're
    calling him Pancho") is carried by any statement that carries the name.
    """
    lowered = carried.lower()
    names = _names(clause)
    if any(not _carries_name(lowered, name) for name in names):
        return False
    words = _content(clause)
    if names and not words - _content(" ".join([*_NAMING, *names])):
        return True
    carried_words = {w for w in words if {stem(f) for f in said_forms([w])} & carried_stems}
    return len(carried_words) * 2 >= len(words)


def _carries_name(lowered: str, name: str) -> bool:
    """Whether lower-cased statements say a name or number ("4kg" as "4 kilograms")."""
    if name in lowered:
        return True
    parts = re.findall(r"\d+|[^\W\d_]+", name)
    said = set(re.findall(r"\w+", lowered))
    return len(parts) > 1 and all(said & said_forms([part]) for part in parts)


def _in_questions(message: str) -> set[str]:
    """The clauses of the message's sentences that end with a question mark."""
    return {
        clause
        for sentence in re.findall(r"[^.!?\n]+[.!?]*", message)
        if sentence.strip().endswith("?")
        for clause, _ in clauses(sentence)
    }


def left_out(
    message: str,
    statements: Sequence[str],
    relations: dict[str, str],
    retell: Callable[[str], str],
    self_named: bool = False,
) -> list[tuple[str, Mention | None]]:
    """The message's stating clauses no statement carries, as ``(fact text, subject)``.

    Args:
        message: What the user said.
        statements: The checked statements kept from the model's answer.
        relations: Names the message or memory relates to the user (case-folded).
        retell: Says a first-person clause in the third person ("I'm" → "The user is").
        self_named: The message gives the user's name (a bare two-digit number in it is an
            age: "kenji. 34, software dev").
    """
    carried = " ".join(statements)
    stems: frozenset[str] = frozenset().union(*(_content(text) for text in statements))
    # a clause of the user's own is carried only by statements about the user: "Wei Jie is
    # joining the vegetarian diet." does not carry "going vegetarian instead"
    own = [text for text in statements if _ABOUT_THE_USER.match(text)]
    own_stems: frozenset[str] = frozenset().union(*(_content(text) for text in own))
    found: list[tuple[str, Mention | None]] = []
    asking = _in_questions(message)
    someone_else = False  # an earlier clause of the message opened with someone else
    last: Mention | None = None  # the last one named, whom "she"/"he" may be
    for raw, kind in clauses(message):
        clause = _TRAILING.sub("", _LEADING.sub("", raw)).strip(" .!,;:-")
        subject = subject_opening(clause, relations)
        pronoun = _PRONOUN_OPENS.match(clause)
        if subject is None and pronoun and last is not None and _may_be(pronoun.group(1), last):
            name = str(last.name)  # "My daughter is Rita, she lives in Luxembourg"
            verb = " is" if pronoun.group(2) else ""
            clause, subject = f"{name}{verb}{clause[pronoun.end() :]}", last
        last = named_last(clause, relations) or last
        someone_else = someone_else or subject is not None
        if kind != "statement" or _TO_THE_ASSISTANT.search(clause):
            continue
        if raw in asking and not _OPENS_FIRST_PERSON.match(clause):
            continue  # "plain or sesame" in a question is not a fact
        if self_named and _BARE_AGE.match(clause) and clause not in carried:
            found.append((f"The user is {clause} years old.", None))
            continue
        mine = _with_its_i(clause) if subject is None and not someone_else else None
        users = mine or (subject is None and _SAID_BY_I.match(clause))
        by = (" ".join(own), own_stems) if users else (carried, stems)
        if len(_content(clause)) < 2 or _covered(clause, *by):
            continue
        if _OPENS_FIRST_PERSON.match(clause):  # "I ...", "my sister Ana ..."
            found.append((retell(clause), subject))
        elif mine:
            found.append((retell(mine), None))  # "quit my job in Jan", "based out of Atlanta"
        elif subject is not None:  # "Léa says the bus is hell"
            found.append((retell(clause[0].upper() + clause[1:]), subject))
        elif len(_content(clause) - _WHEN) >= 3 or _names(clause):
            found.append((f'The user said "{clause}".', None))  # not "starts next month"
    return found


def _with_its_i(clause: str) -> str | None:
    """A clause of the speaker's own said with the "I" it left out, or None.

    "quit my job in Jan" → "I quit my job in Jan", "been doing keto" → "I've been doing
    keto", "based out of Atlanta" → "I'm based out of Atlanta".
    """
    if _DROPPED_I.match(clause):
        return f"I {clause}"
    if _DROPPED_IVE.match(clause):
        return f"I've {clause}"
    if _GOES_ON.match(clause):
        return f"I'm {clause}"
    return None


#: A clause that opens with "she" or "he" ("she's in Leeds"): group 2 is a contracted "is".
_PRONOUN_OPENS = re.compile(r"^(she|he)(['’]s)?\b", re.I)
_FEMALE = frozenset(
    "mother sister daughter wife girlfriend aunt niece grandmother granddaughter fiancee "
    "fiancée mother-in-law sister-in-law daughter-in-law stepmother stepsister".split()
)
_MALE = frozenset(
    "father brother son husband boyfriend uncle nephew grandfather grandson fiance "
    "father-in-law brother-in-law son-in-law stepfather stepbrother".split()
)


def _may_be(pronoun: str, someone: Mention) -> bool:
    """Whether "she"/"he" may be ``someone``: named, and no relation that says otherwise."""
    if not someone.name:
        return False
    relation = (someone.relation or "").split(" ")[-1]
    other = _MALE if pronoun.lower() == "she" else _FEMALE
    return relation not in other


def named_last(clause: str, relations: dict[str, str]) -> Mention | None:
    """The last person the clause names that the message relates to the user."""
    found: tuple[int, Mention] | None = None
    for name, relation in relations.items():
        if not relation:
            continue
        matches = list(name_pattern(name).finditer(clause))
        if matches and (found is None or matches[-1].start() > found[0]):
            found = (matches[-1].start(), Mention(name=matches[-1].group(0), relation=relation))
    return found[1] if found else None
