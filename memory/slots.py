r"""The closed vocabulary of slots: the stable attributes a fact can set for its subject.

A *slot* is an attribute of a subject (the user, or a person, pet, place or organisation in
the user's life) that has a current value: where they live, who employs them, their diet...
The code owns the list; a chat model never names a slot. The write path asks the model for
plain third-person statements ("Ana lives in Berlin.", "The user is allergic to peanuts.")
and :meth:`SlotVocabulary.slot_of` finds the slot a statement sets from the statement's own
words, so a model cannot file a wedding's city under ``home_city`` or invent a key that
supersedes an unrelated fact.

- A **single-valued** slot (``many=False``) has one current value per subject: remembering a new
  value supersedes the old one (the old one stays in the history).
- A **multi-valued** slot (``many=True``: allergies, medications...) accumulates values; a value
  is removed only by an explicit update.
- A **safety** slot holds facts a reply must respect whatever it is asked (allergies, diet,
  medications, health): the graph checks replies against them.

Applications extend the vocabulary with their own slots::

    from confidante.memory.slots import DEFAULT_SLOTS, Slot

    DEFAULT_SLOTS.register(Slot("shoe_size", r"\bshoe size\b", "their shoe size"))

A slot's ``pattern`` is a regular expression searched (case-insensitively) in the statement;
slots are tried in the order they were registered, the defaults first.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from confidante.errors import ConfigurationError


@dataclass(frozen=True)
class Slot:
    """One stable attribute of a subject.

    Attributes:
        name: The slot's key (``snake_case``), stored as the item's ``key``.
        pattern: A regular expression that finds the slot in a third-person statement.
        description: What the slot holds, for the documentation.
        many: Values accumulate instead of replacing each other.
        safety: Replies must respect it (allergies, diet, medications, health).
        user_only: Only the user has it (``name``: other subjects are named by their record).
        others_only: Only subjects other than the user have it (``relation``).
        asked_by: Words a question about the slot may use without naming its value ("how
            old", "where ... work"): a question with one of them brings the slot's current
            value into the reply's prompt.
    """

    name: str
    pattern: str
    description: str = ""
    many: bool = False
    safety: bool = False
    user_only: bool = False
    others_only: bool = False
    asked_by: str = ""
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,99}", self.name):
            raise ConfigurationError(f"slot name {self.name!r} must be snake_case")
        object.__setattr__(self, "compiled", re.compile(self.pattern, re.IGNORECASE))

    def applies_to(self, about_user: bool) -> bool:
        """Whether a subject (the user, or someone else) can have this slot."""
        return not (self.user_only and not about_user) and not (self.others_only and about_user)


DIETS = (
    r"vegan|vegetarian|pescatarian|keto|paleo|plant-based|gluten-free|dairy-free|halal|"
    r"kosher|carnivore|flexitarian|low-carb|raw food|fruitarian"
)
#: An organisation's name after "to": "moved from Colégio Positivo to Colégio Marista" is
#: a new workplace, not a new home.
_AN_ORGANISATION = (
    r"\s+(?:the\s+)?(?-i:(?:[A-Z][\w'-]*\s+)*?(?:University|College|Colégio|Colegio|Escola|"
    r"School|Academy|Institute|Hospital|Clinic|Bank|Group|Inc|Ltd|LLC|GmbH|Company|Corp|Labs|"
    r"Agency|Department|Ministry|Team)\b)"
)
#: A school's name after "at": "started at Revere Middle School" is no employer.
_A_SCHOOL = (
    r"\s*(?:the )?(?-i:(?:[A-Z][\w'-]* )*(?:University|College|School|Academy|Institute|"
    r"Polytechnic|Uni|Kindergarten|Nursery|Preschool)\b(?! [A-Z]))"
)
#: Head nouns of common jobs: "The user is a backend engineer." says a job title, "The user
#: is a big fan of jazz." does not. Applications with other trades register their own slot.
JOB_NOUNS = (
    r"engineer|developer|dev|programmer|coder|designer|analyst|manager|director|lead|nurse|"
    r"doctor|physician|surgeon|dentist|pharmacist|teacher|professor|lecturer|tutor|chef|cook|"
    r"baker|barista|waiter|waitress|bartender|driver|pilot|officer|captain|accountant|"
    r"lawyer|attorney|solicitor|paralegal|architect|electrician|plumber|carpenter|mechanic|"
    r"technician|scientist|researcher|consultant|writer|editor|journalist|photographer|"
    r"firefighter|paramedic|midwife|librarian|cashier|clerk|receptionist|therapist|"
    r"physio|physiotherapist|psychologist|vet|veterinarian|carer|caregiver|intern|coach|"
    r"instructor|recruiter|banker|trader|freelancer|translator|interpreter|social worker|"
    r"surveyor|administrator|secretary|courier|supervisor|foreman|ceo|cto|cfo|"
    r"artist|painter|ceramicist|potter|sculptor|illustrator|animator|musician|composer|actor|"
    r"actress|dancer|tailor|florist|gardener|farmer|builder|welder|butcher|hairdresser|barber|"
    r"stylist|cleaner|postdoc|entrepreneur|founder|realtor|optometrist|radiographer|"
    r"dietitian|nutritionist|zookeeper|copywriter|programme manager|project manager|tester|"
    r"salaryman|salarywoman|civil servant|office worker|inspector|welder|seamstress|dentist"
)
_JOBS = (
    r"works? as|working as|job as|profession|occupation|promoted to|employed as|"
    # "is a nurse", "is now just a baker", "is QA tester" (the article left out)
    rf"(?:is|became|is now|has become) (?:just |only |still |currently |finally )?"
    rf"(?:(?:a|an) |(?!(?:the|my|his|her|their|our|your|not|no|so|very|too)\b))"
    rf"(?:[\w-]+ ){{0,2}}(?:{JOB_NOUNS})s?(?![\w'’-])"
    rf"|(?:took|got|accepted|landed|is taking) (?:the|a|an) (?:new )?(?:[\w-]+ ){{0,2}}"
    rf"(?:{JOB_NOUNS}) (?:job|position|role|post)\b"
)

_DEFAULTS = (
    Slot(
        "relation",
        r"\bis (?:now )?(?:the user's|their|his|her) [\w -]+",
        "who they are to the user",
        others_only=True,
    ),
    Slot(
        "name",
        r"^the user(?:'s (?:first |full |real |last )?name is|'s name's| is called| is named|"
        r" goes by)\b",
        "the user's name",
        user_only=True,
    ),
    Slot(
        "allergies",
        r"\ballerg",
        "allergies",
        many=True,
        safety=True,
        asked_by="allergic allergy allergies eat",
    ),
    Slot(
        "medications",
        r"\b(?:medications?|(?:takes?|taking|on) (?:\w+ )?medicine|prescri\w*|insulin|inhaler|"
        r"epipen|blood thinners?|antidepressants?|antibiotics?|statins?|pills?|tablets?|"
        r"birth control|chemo\w*|dialysis)\b"
        # "put the user on warfarin", "takes metformin": a drug-like name after on/takes
        r"|\b(?:on|takes?|taking|started|prescribed) (?:\w+ )?[a-z]+(?:arin|formin|olol|pril|"
        r"sartan|statin|azepam|oxetine|aline|cillin|mycin|cycline|prazole|olone|isone|thyroxine|"
        r"ine|mab)\b",
        "medications taken",
        many=True,
        safety=True,
        asked_by="medicine medication medications take taking",
    ),
    Slot(
        "health_conditions",
        r"\b(?:diabet\w*|asthma\w*|pregnan\w*|breastfeed\w*|intoleran\w*|coeliac|celiac|"
        r"hypertension|blood pressure|epilep\w*|seizures?|migraines?|arthritis|injur\w*|"
        r"surgery|sprain\w*|fractur\w*|torn|broke (?:his|her|their|a) \w+|disease|disorder|"
        r"syndrome|medical condition|chronic \w+|cancer|tumou?r|heart (?:problems?|condition|"
        r"trouble)|fibrillation|arrhythmia|cholesterol|anaemi\w*|anemi\w*|thyroid|kidney|"
        r"liver|ulcers?|reflux|crohn\w*|colitis|lupus|sclerosis|hiv|hepatitis|stroke|dementia|"
        r"parkinson\w*|gout|eczema|psoriasis|adhd|autis\w*|depression|anxiety)\b",
        "health conditions, intolerances, pregnancy, injuries",
        many=True,
        safety=True,
        asked_by="health condition conditions",
    ),
    Slot(
        "diet",
        rf"\b(?:diet\b|(?:is|are|became|become|went|gone|going|turned|switched|been|eats?|"
        rf"eating|stays?|stayed) [\w ]{{0,20}}\b(?:{DIETS}))"
        # a food given up: "stopped eating meat", "gave up dairy", "no longer eats fish"
        r"|\b(?:stopped|quit|gave up|given up|giving up|cut out|cutting out|no longer|doesn't|"
        r"does not|don't|do not|not|no more) (?:eat(?:s|ing)? |eat(?:s|ing)? any )?"
        r"(?:meat|red meat|fish|pork|beef|chicken|dairy|gluten|sugar|carbs|eggs|animal products)\b",
        "their diet",
        safety=True,
        asked_by="eat eating food diet",
    ),
    Slot(
        "home_city",
        rf"\b(?:lives?|living|resides?|is based|settled|(?:has |just |recently )?moved|"
        rf"relocat(?:ed|ing|es)|shifted) (?:\w+ ){{0,3}}?(?:in|to|near)\b(?!{_AN_ORGANISATION})"
        r"|\bmoved into (?:\w+ ){0,3}?(?:flat|apartment|studio|house|place|home|room|condo)\b"
        # a new home by where it is: "The user's new flat is above a chippy in Fallowfield."
        r"|\bhas lived (?:\w+ ){0,2}?in\b"
        r"|\bnew (?:flat|apartment|studio|house|place|home|condo|digs|villa|bungalow|cottage|"
        r"townhouse) (?:[\w'-]+ ){0,5}?in "
        r"(?-i:[A-Z])"
        r"|\bis based out of\b|^(?:the user|[A-Z][\w-]*) (?:is|are) (?:now |currently )?based in\b"
        # "now calls Lisbon home", "made the move to Toronto"
        r"|\bcalls? (?-i:[A-Z])[\w'-]*(?: (?-i:[A-Z])[\w'-]*)* home\b|\bmade the move to\b"
        # "The user is in Buenos Aires." said of itself, with nothing after the place ("is in
        # London for a conference" is a trip; "is now in Hue" a traveller's stop)
        r"|^(?:the user|[A-Z][\w-]*) (?:is|are) (?:officially |finally )?in "
        r"(?-i:[A-Z][a-zà-ÿ])[\w'-]*(?: (?-i:[A-Z])[\w'-]+)*(?:,? (?-i:[A-Z])[\w'-]+)?\.?$",
        "where they live now",
        asked_by="live living lives home city town flat apartment house",
    ),
    Slot(
        "location",
        # not "is now a midwife at Bon Secours", nor "is now working at Shopee"
        r"\b(?:currently|right now|now|made it|arrived|landed|just got) (?!(?:a|an) )"
        r"(?!(?:\w+ ){0,2}?(?:working|works|employed|studying|teaching|interning|based)\b)"
        r"(?:\w+ ){0,2}?(?:in|to|at) (?-i:[A-Z])"
        # "The user is in Singapore now." (with nothing after "now")
        r"|^(?:the user|[A-Z][\w-]*) (?:is|are) in (?-i:[A-Z])[\w'-]*(?: (?-i:[A-Z])[\w'-]+)* "
        r"(?:now|right now|at the moment)\.?$",
        "where they are right now (a traveller's current stop)",
        asked_by="right currently staying",
    ),
    Slot(
        "hometown",
        r"\b(?:grew up in|is (?:originally )?from|comes from|was born in|hometown)\b",
        "where they come from",
        asked_by="from grew grow hometown born",
    ),
    Slot(
        "job_title",
        rf"\b(?:{_JOBS})\b",
        "their job or role",
        asked_by="work working works job profession rank title role position",
    ),
    Slot(
        "employer",
        r"\b(?:works?|working|employed|job) (?:\w+ ){0,2}?(?:at|for)\b|"
        # the employer named, not "the user's employer requires a form"
        r"\bemployer (?:is|was|is now) |\bemployer,? (?-i:[A-Z])|"
        # work said by its kind: "a paid research gig at the City Planning dept", "drives long
        # haul for Werner", "started delivery routes for Sysco"
        r"\b(?:gig|position|role|post|internship|placement|contract|shifts?|routes?|drives?|"
        r"driving|delivers|delivering) (?:\w+ ){0,3}?(?:at|for|with) (?:the )?(?-i:[A-Z])|"
        rf"\b(?:joined|started (?:working |a job )?at|hired (?:at|by))\b(?!{_A_SCHOOL})"
        # a transfer to another workplace: "transferred to Tauranga Hospital"
        rf"|\btransferr\w* (?:\w+ ){{0,2}}?to\b(?!{_A_SCHOOL}){_AN_ORGANISATION}"
        r"|\bfirst (?:day|week|shift|month) (?:at|with) (?-i:[A-Z])"
        r"|\baccepted (?:an? |the )?(?:job |position |role )?(?:offer )?(?:from|at|with) "
        r"(?-i:[A-Z])"
        # a new job said as its start: "is starting at Swiggy next Monday"
        rf"|\bstart(?:s|ing)? (?:working |work |a (?:new )?job )?at (?!{_A_SCHOOL})(?-i:[A-Z])"
        # their own business: "is starting their own HR consultancy", "went freelance"
        r"|\b(?:start\w*|launch\w*|open\w*|runs?|running|set(?:ting)? up|owns?|owning) "
        r"(?:their|his|her|a|an) (?:own )?"
        r"(?:[\w-]+ ){0,2}(?:business|company|consultancy|practice|studio|firm|agency|shop|"
        r"startup|clinic|bakery|caf[eé]|restaurant)\b|\b(?:went|gone|going) freelance\b"
        r"|\b(?:is|am|be|become|became|now) (?:their|his|her|my) own boss\b|\bself-employed\b",
        "the organisation they work for",
        asked_by="work working works job company employer",
    ),
    Slot(
        "school",
        r"\b(?:stud(?:y|ies|ying)|enrolled|attends?|goes to school) (?:\w+ ){0,3}?(?:at|in)\b"
        # "a first-year engineering student at Trinity", "got a place at DCU for computer science"
        r"|\b(?:student|freshman|sophomore|undergrad\w*|postgrad\w*|first[- ]year|second[- ]year|"
        r"third[- ]year|final[- ]year|masters?|master's|degree|phd|course) (?:\w+ ){0,3}?(?:at|in) "
        r"(?:the )?(?-i:[A-Z])"
        # a school by its name, reached: "is transferring to the University of Manchester"
        r"|\b(?:transferr\w*|switch\w*|moving|moved|start\w*|got into|accepted|admitted|enrol\w*|"
        r"going|goes|attend\w*) (?:\w+ ){0,2}?(?:to|at|into|in) (?:the )?"
        r"(?-i:(?:[A-Z][\w'-]* )*(?:University|College|School|Academy|Institute|Polytechnic|Uni)"
        r"\b(?! [A-Z]))"
        r"|\bplace (?:at|in) (?-i:[A-Z])[\w'-]*(?: (?-i:[A-Z])[\w'-]*)* (?:for|to study)\b"
        r"|\bexchange (?:\w+ ){0,2}?(?:at|in) (?:the )?(?-i:[A-Z])"
        r"|\b(?:classes|lectures|semester|term|school year) (?:\w+ ){0,2}?(?:at|in) (?:the )?"
        r"(?-i:[A-Z])",
        "where they study",
        asked_by="study studying studies school university uni college course degree",
    ),
    Slot(
        "birthday",
        # the subject's own birthday, not one they attend ("hosting their sister's birthday")
        r"^(?:the user|[A-Z][\w-]*(?: [A-Z][\w-]*)?)'s birthday\b(?! (?:dinner|party|present|gift|"
        r"cake|plans?))|\bborn on\b|^(?:the user|[A-Z][\w-]*) (?:celebrates|has) (?:their|his|her) "
        r"birthday\b",
        "their birthday",
        asked_by="birthday born",
    ),
    Slot(
        "age",
        r"^(?:the user|[A-Z][\w-]*) (?:is|turned|turns|will turn) \d{1,3}\b(?! ?(?:feet|foot|ft|"
        r"cm|m|kg|kilos?|lbs?|pounds|months?|weeks?|days|inches|km|miles|hours|minutes|%))"
        r"|\b\d{1,3} years old\b|\bage(?:d| is) \d",
        "their age",
        asked_by="old age years born",
    ),
    Slot(
        "relationship_status",
        r"\b(?:is|got|are) (?:now )?(?:single|married|engaged|divorced|widowed|separated)\b"
        # "The user is a widow.", "The user has a boyfriend now.", "is dating someone"
        r"|^the user (?:is (?:now )?(?:a )?(?:widow|widower)|has (?:a )?(?:new )?(?:boyfriend|"
        r"girlfriend)|is (?:now )?(?:dating|seeing) (?:someone|somebody)|is (?:now )?in a "
        r"relationship)\b",
        "single, married, engaged...",
        user_only=True,
        asked_by="married single partner",
    ),
    Slot(
        "languages",
        r"\b(?:speaks?|fluent in|native language)\b",
        "languages spoken",
        many=True,
        asked_by="speak speaks language languages",
    ),
)


def _stem(word: str) -> str:
    """Words compared by their first five letters less a plural "s" ("lives" is "live")."""
    return word.removesuffix("s")[:5] if len(word) > 3 else word


class SlotVocabulary:
    """The slots a memory knows, in the order they are tried; see the module docstring."""

    def __init__(self, slots: Iterable[Slot] = _DEFAULTS) -> None:
        self._slots: dict[str, Slot] = {}
        for slot in slots:
            self.register(slot)

    def register(self, slot: Slot) -> None:
        """Add a slot (tried after those already there); its name must be new."""
        if slot.name in self._slots:
            raise ConfigurationError(f"the vocabulary already has a slot {slot.name!r}")
        self._slots[slot.name] = slot

    def __iter__(self) -> Iterator[Slot]:
        return iter(self._slots.values())

    def get(self, name: str | None) -> Slot | None:
        """The slot called ``name``, or None."""
        return self._slots.get(name) if name else None

    def slot_of(self, statement: str, *, about_user: bool) -> Slot | None:
        """The first slot whose pattern the statement matches, for this kind of subject."""
        for slot in self._slots.values():
            if slot.applies_to(about_user) and slot.compiled.search(statement):
                return slot
        return None

    def asked_in(self, question: str, *, about_user: bool) -> list[str]:
        """Names of the slots a question asks about by their ``asked_by`` words.

        "Where do I work?" asks about ``employer`` and ``job_title``; only slots this kind
        of subject can have count.
        """
        question = _FOR_A_LIVING.sub(" work ", question.lower())  # a job, not a home
        words = {_stem(word) for word in re.findall(r"[a-z]+", question)}
        return [
            slot.name
            for slot in self._slots.values()
            if slot.applies_to(about_user) and words & {_stem(w) for w in slot.asked_by.split()}
        ]

    def asked_words(self, name: str | None) -> str:
        """The ``asked_by`` words of a slot ("" for none or an unknown slot)."""
        slot = self.get(name)
        return slot.asked_by if slot else ""

    def multi_valued(self) -> frozenset[str]:
        """Names of the slots whose values accumulate."""
        return frozenset(slot.name for slot in self._slots.values() if slot.many)

    def safety(self) -> frozenset[str]:
        """Names of the slots replies must respect."""
        return frozenset(slot.name for slot in self._slots.values() if slot.safety)


#: "What does Tiago do for a living?" asks about work.
_FOR_A_LIVING = re.compile(
    r"\bfor an? (?:living|job)\b|\b(?:driv\w*|deliver\w*|freelanc\w*|contract\w*) for\b"
)

#: The vocabulary memories use unless given another (extend it with ``register``).
DEFAULT_SLOTS = SlotVocabulary()
