"""Fact extraction: what a user's message states, about whom, checked against the message.

The model answers with JSON constrained by :class:`FactExtraction`: a list of short
third-person statements, one per fact, each opening with whom it is about ("The user ...",
"Ana ...", "The user's mother ..."), and relations said as statements of their own ("Ana is
the user's sister."). A list of plain sentences costs a small model few tokens. Everything
after that is decided by code, not by the model:

- **Who a fact is about** is read from the statement's opening words; a name must be said in
  the message or be one the user's memory knows, and a statement the model put on the user
  goes back to whom the message's clause is about ("Ngozi hates anything scary").
- **Relations** come from the message ("my sister Ana", "Ana, my sister") and from
  statements of the form "Ana is the user's sister.".
- **Grounding**: the names and numbers of a statement must have been said (in a statement of
  the message, not in its questions or requests), and most of its content words too, so a
  small model cannot invent "weather: sunny" from a question, or store "remind me to buy
  milk" as a fact; nor a fact in words said only in a question ("Can I take ibuprofen?"),
  a safety fact with no word of its value said ("allergic to shellfish" of "she's allergic
  to penicillin"), or what others claim ("Chloe swears I told her Vienna").
- **Slots** come from the closed vocabulary (:mod:`confidante.memory.slots`), matched on the
  statement's words.

A statement whose subject cannot be resolved is kept as a plain fact of the turn (no subject,
no slot) and the reason is returned with it, to be recorded on the turn.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Annotated

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel, Field, StringConstraints

from confidante.memory.ingest.jobs_said import job_said, job_statement
from confidante.memory.ingest.not_facts import (
    ALLERGY_SAID,
    HEARSAY,
    MISREAD,
    NOT_A_FACT,
    TO_YOU,
    guessed,
    value_said,
    without_claims,
)
from confidante.memory.ingest.pronouns import named_pronoun, spoken_of_last
from confidante.memory.ingest.relations_said import (
    as_own_place,
    as_the_users,
    is_stranger,
    names_someone,
    relation_first,
    relation_grounded,
    said_as_theirs,
    self_relation_unsaid,
    stated_relations,
    whose_relation,
)
from confidante.memory.ingest.repeats import drop_repeats, whom
from confidante.memory.ingest.said import from_thanks, left_out, opening_name
from confidante.memory.ingest.self_names import (
    as_user,
    as_user_when_companion,
    as_user_when_doubled,
    as_user_when_unnamed,
    names_the_unmentioned,
    user_names_in,
)
from confidante.memory.ingest.spelling import respelled
from confidante.memory.ingest.statements import (
    content_stems,
    head_of,
    is_grounded,
    only_asked,
    relations_in,
    speaker_of,
    statement_clauses,
)
from confidante.memory.ingest.verbs import in_said_tense, retold
from confidante.memory.slots import SlotVocabulary
from confidante.memory.subjects.directory import SubjectView
from confidante.memory.subjects.names import Mention, name_pattern
from confidante.models.structured import ask_structured

logger = logging.getLogger(__name__)

EXTRACTION_PROMPT = """You write down what the user's message states about the user and \
about the people, pets, places and organisations in the user's life.
Answer in JSON: {"facts": [...]}, one short sentence per fact, in the third person, with the \
message's own key words. Start each sentence with whom it is about: "The user", a name, or \
"The user's <relation>" when no name is given. Say how someone is related to the user in a \
sentence of its own. Nothing from questions, or from requests to you.

Message: "My brother Tom lives in Leeds and works as a chef. I'm allergic to shellfish. Remind \
me to call him."
Answer: {"facts": ["Tom is the user's brother.", "Tom lives in Leeds.", "Tom works as a chef.", \
"The user is allergic to shellfish."]}
Message: "Quit the gym job, I'm teaching yoga at Lotus Studio now. My mum is thrilled."
Answer: {"facts": ["The user quit the job at the gym.", "The user teaches yoga at Lotus \
Studio.", "The user's mother is thrilled about the new job."]}"""


#: Facts one message may give, and the characters of one: a grammar-constrained model cannot
#: loop past them, and :data:`EXTRACTION_TOKENS` always holds a whole answer.
MAX_FACTS = 10
MAX_FACT_CHARS = 200
EXTRACTION_TOKENS = 640


class FactExtraction(BaseModel):
    """The facts stated in one message, one third-person sentence each."""

    facts: list[Annotated[str, StringConstraints(max_length=MAX_FACT_CHARS)]] = Field(
        max_length=MAX_FACTS, description="one short third-person sentence per fact"
    )


@dataclass
class Statement:
    """A fact ready to be remembered.

    Attributes:
        text: The third-person statement.
        subject: Whom it is about (None: the user).
        slot: The vocabulary's slot it sets, if any.
    """

    text: str
    subject: Mention | None = None
    slot: str | None = None


@dataclass
class Extracted:
    """What one message gave.

    Statements to remember, notes on what went wrong on the way, and subjects the message
    relates to the user that no statement is about.
    """

    statements: list[Statement] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mentions: list[Mention] = field(default_factory=list)


def states_something(message: str) -> bool:
    """Return True when the message has at least one clause that states something."""
    return bool(statement_clauses(message))


def _retell(text: str, mention: Mention) -> str:
    """A statement of "The user" told of someone else instead ("If ..., the user freezes")."""
    cleaned = mention.cleaned()
    who = cleaned.name or f"The user's {cleaned.relation}"
    if text.startswith("The user"):
        return re.sub(r"^The user\b", who, text, count=1)
    return re.sub(r"\bthe user\b", who if cleaned.name else who.lower(), text, count=1)


def _subject_of(text: str, relations: dict[str, str | None]) -> tuple[str, Mention | None]:
    """("user", None), ("other", mention) or ("unknown", None) for one statement."""
    head = head_of(text)
    if head is None:
        return "unknown", None
    if head[0] == "user" or head[1] is None:
        return "user", None
    mention = head[1]
    if mention.name and not mention.relation:
        mention.relation = relations.get(mention.name.casefold())
    return "other", mention


@dataclass
class _Reading:
    """What the statements of one message are checked against."""

    message: str
    slots: SlotVocabulary
    said: str
    mine: set[str]
    known_names: set[str]
    relations: dict[str, str | None]
    earlier: str = ""
    asked: frozenset[str] = frozenset()

    def _grounded(self, text: str, about_no_one: bool) -> bool:
        """Its names and most words said, none only asked (see the module docstring)."""
        if not is_grounded(text, self.said, self.known_names):
            return False
        if content_stems(text) & self.asked or self_relation_unsaid(text, self.message):
            return False  # "The user is taking ibuprofen." of "Can I take some ibuprofen?"
        slot = self.slots.slot_of(text, about_user=True)
        if slot is not None and slot.name == "allergies" and not ALLERGY_SAID.search(self.message):
            return False  # "The user is allergic to grapes." from "pink grapefruits"
        if slot is not None and slot.safety and not value_said(text, self.said, self.relations):
            return False  # "The user is allergic to shellfish." of "she's allergic to penicillin"
        if about_no_one:
            return is_grounded(text, self.message, self.known_names, every_word=True)
        return True

    def _no_fact(self, text: str) -> bool:
        """Not a fact: a remark, thanks retold, the model's guess ("... likely to be ...")."""
        return (
            bool(NOT_A_FACT.search(text))
            or from_thanks(text, self.message)
            or guessed(text, self.message)
        )

    def statement(self, text: str, notes: list[str]) -> Statement | None:
        """One model statement checked and resolved (None when it is dropped)."""
        if not text or len(text) > 500 or self._no_fact(text):
            return None
        hearsay = HEARSAY.match(text)
        if hearsay and not re.search(
            rf"\b(?:i|we)\b(?:\W+\w+){{0,2}}?\W+{hearsay.group(0).split()[2][:4]}",
            self.message,
            re.I,
        ):
            return None
        text = respelled(text, self.message)
        text = named_pronoun(text, self.message, self.relations, self.earlier)
        text = as_user_when_doubled(text, self.message)  # "Emi misses Emi" of "I miss them"
        whose, mention = _subject_of(text, self.relations)
        if whose == "user" or (whose == "unknown" and re.search(r"\bthe user\b", text)):
            named = {name: rel for name, rel in self.relations.items() if rel}
            other = speaker_of(text, self.message, named, self.earlier)
            if (  # not onto whom it names: "The user has a shiba inu named Hana."
                other is not None
                and (other.name or "").casefold() not in self.mine
                and not (other.name and name_pattern(other.name).search(text))
            ):
                text, whose, mention = _retell(text, other), "other", other
        mentions_user = re.search(r"\bthe user\b", text, re.I)
        stranger = not mentions_user and is_stranger(mention, self.message, self.known_names)
        if not self._grounded(text, (whose == "unknown" and not mentions_user) or stranger):
            logger.info("dropped an ungrounded statement")
            return None
        if whose == "unknown" and mentions_user and _user_safety(text, self.slots):
            whose = "user"  # "The doctor put the user on warfarin."
        if whose == "other" and not names_someone(mention, self.message, self.known_names):
            who = mention.name or mention.relation if mention else "?"
            notes.append(f"subject {who!r} is not in the message: kept as a plain fact")
            whose, mention = "unknown", None
        elif whose == "unknown":
            notes.append("a statement names no subject: kept as a plain fact")
        elif mention is not None and said_as_theirs(
            mention, self.message, self.relations
        ):  # "their mom Rachel": not the
            if not mention.name:  # user's mother; "the user's husband" of "her new husband"
                return None
            text = re.sub(rf"^The user's .*?\b(?={re.escape(mention.name)}\b)", "", text)
            mention = Mention(
                name=mention.name, relation=whose_relation(mention, self.message, self.relations)
            )
        if whose == "other" and _user_safety(text, self.slots):  # "The user's doctor put the
            whose, mention = "user", None  # user on warfarin": the user's health
        slot = self.slots.slot_of(text, about_user=whose == "user") if whose != "unknown" else None
        return Statement(text, as_the_users(mention, self.relations), slot.name if slot else None)


def interpret(
    result: FactExtraction,
    message: str,
    known: Sequence[SubjectView],
    slots: SlotVocabulary,
    user_names: Sequence[str] = (),
) -> Extracted:
    """Turn the model's answer into checked statements (see the module docstring).

    Args:
        result: The model's answer.
        message: What the user said.
        known: The user's subjects.
        slots: The slot vocabulary.
        user_names: Names the user is known by (a statement about them is about the user).
    """
    # "I won't bore you": a remark to the assistant, no fact of the user's life
    tidied = [retold(fact) for fact in result.facts if not TO_YOU.search(fact)]
    introduced = user_names_in(message)
    if not user_names and not introduced and (opening := opening_name(message, tidied)):
        introduced.add(opening)
    mine = {name.casefold() for name in user_names} | introduced
    relations: dict[str, str | None] = {
        name.casefold(): subject.relation for subject in known for name in subject.names()
    }
    texts = [relation_first(as_own_place(as_user(text, mine, message))) for text in tidied]
    texts = [
        as_user_when_companion(as_user_when_unnamed(text, relations, message), message)
        for text in texts
    ]
    texts = [in_said_tense(text, message) for text in texts]  # "moved" retold "is moving"
    texts = [text for text in texts if not names_the_unmentioned(text, relations, message)]
    texts = [text for text in texts if relation_grounded(text, message, relations)]
    relations.update({k: v for k, v in stated_relations(texts).items() if k not in mine})
    relations.update(relations_in(message))
    reading = _Reading(
        message=message,
        slots=slots,
        said=" ".join(statement_clauses(without_claims(message), min_words=1)),
        mine=mine,
        known_names={n.casefold() for subject in known for n in subject.names()} | mine,
        relations=relations,
        earlier=spoken_of_last(known, message),
        asked=only_asked(message),
    )
    out = Extracted()
    for text in texts:
        statement = reading.statement(text, out.notes)
        if statement is not None:
            out.statements.append(statement)
    for name in introduced - {n.casefold() for n in user_names}:
        if not any(s.slot == "name" and s.subject is None for s in out.statements):
            out.statements.append(
                Statement(f"The user's name is {_spelled(name, message)}.", None, "name")
            )
    job = job_said(message)
    if job and not any(s.slot == "job_title" and s.subject is None for s in out.statements):
        out.statements.append(Statement(job_statement(job), None, "job_title"))
    kept = [statement.text for statement in out.statements]
    named = {name: rel for name, rel in relations.items() if rel}
    for statement in out.statements:  # "Eitan is 17 and ..." is Eitan's when he has facts
        if statement.subject is not None and statement.subject.name:
            named.setdefault(statement.subject.name.casefold(), statement.subject.relation or "")
    for text, mention in left_out(without_claims(message), kept, named, retold, bool(introduced)):
        quoted = text.startswith("The user said ")
        slot = None if quoted else slots.slot_of(text, about_user=mention is None)
        out.statements.append(Statement(text, mention, slot.name if slot else None))
    out.statements = drop_repeats(out.statements)
    about = {whom(statement) for statement in out.statements}
    for name, relation in relations_in(message).items():
        if name not in about and name not in reading.known_names:
            out.mentions.append(Mention(name=_spelled(name, message), relation=relation))
    return out


def _spelled(name: str, message: str) -> str:
    """A case-folded name as the message spells it (capitalised when it is not)."""
    spelled = next((m for m in re.findall(r"[\w-]+", message) if m.casefold() == name), name)
    return spelled[:1].upper() + spelled[1:] if spelled.islower() else spelled


def _user_safety(text: str, slots: SlotVocabulary) -> bool:
    """Whether a statement about someone else states a safety fact of the user's."""
    rest = re.sub(r"^the user's [\w -]+?\b(?= )", "", text, count=1, flags=re.I)
    if not re.search(r"\bthe user\b|\btheir\b", rest, re.I):
        return False
    slot = slots.slot_of(text, about_user=True)
    return slot is not None and slot.safety


async def extract(
    model: BaseChatModel,
    message: str,
    known: Sequence[SubjectView],
    slots: SlotVocabulary,
    user_names: Sequence[str] = (),
    retries: int = 1,
) -> Extracted:
    """Extract checked statements from a user message.

    Args:
        model: A chat model supporting ``with_structured_output``.
        message: What the user said.
        known: The user's subjects (named in the prompt, so "we broke up" can find the partner).
        slots: The slot vocabulary.
        user_names: Names the user is known by.
        retries: Extra attempts when the output does not validate.

    Raises:
        StructuredOutputError: The output never validated.
    """
    if not states_something(message):
        return Extracted()
    system = EXTRACTION_PROMPT
    if known:
        labels = ", ".join(
            f"{s.name} ({s.relation})" if s.name else str(s.relation) for s in known[-30:]
        )
        system += f"\n\nPeople and things the user mentioned before: {labels}."
    prompt = [SystemMessage(system), HumanMessage(MISREAD.sub("", message))]
    return await ask_structured(
        model,
        FactExtraction,
        prompt,
        lambda result: interpret(result, message, known, slots, user_names),
        retries=retries,
        what="fact extraction",
        max_tokens=EXTRACTION_TOKENS,
    )
