"""Which earlier facts a turn's statements may end, and the model's word on each pair.

Part of the write path (:mod:`confidante.memory.ingest.learning`). A statement that says a
change in ordinary words ("I stopped climbing", "we're Low Tide Club now") may end a current
fact of the same subject that no slot links to it. :func:`update_pairs` picks the likely
pairs; :func:`decide_or_keep` asks the model about them in one call; :func:`says_change`
decides which of its "replaced" answers are taken.

Measured on the default local model (a 1.5B model), the decision alone is weak: asked about
pairs of unrelated facts it answers "replaced" for most of them. So code makes both ends
likely: a pair is asked about only when the facts share a content word or a name, or when
the earlier fact is the nearest in meaning of the subject's plain facts to a statement that
says something changed; and a "replaced" answer is taken only from a statement that says a
change or sets the earlier fact's slot.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from typing import Literal

import numpy as np
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from confidante.errors import StructuredOutputError
from confidante.memory.ingest.extraction import Statement
from confidante.memory.ingest.moves import moved_with
from confidante.memory.ingest.statements import STOPWORDS, content_stems, sentences
from confidante.memory.items import MemoryHit
from confidante.memory.store import Memory
from confidante.memory.subjects.directory import SubjectView
from confidante.memory.subjects.names import name_pattern
from confidante.models.structured import ask_structured

logger = logging.getLogger(__name__)

UPDATE_PROMPT = """You compare facts about a user's life. In each pair, the earlier fact was \
true before and the new fact was just said.
Answer "replaced" when the new fact makes the earlier one no longer true (it changed, ended or \
was corrected), "same" when both say the same thing, "both" when both can be true.
Earlier: The user works at the bakery. New: The user works at the library now. -> replaced
Earlier: The user is vegetarian. New: The user is vegan. -> replaced
Earlier: The user goes climbing every weekend. New: The user stopped climbing. -> replaced
Earlier: Mia is the user's girlfriend. New: The user and Mia broke up. -> replaced
Earlier: The user has a cat named Tom. New: The user got a dog named Rex. -> both
Earlier: The user likes jazz. New: The user likes hiking. -> both
Earlier: The user lives in Oslo. New: The user lives in Oslo with a roommate. -> same
Answer with {"answers": [...]}, one answer per pair, in order."""

_GENERIC = STOPWORDS | frozenset(
    "likes like love loves enjoys enjoy wants want need needs feels feel thinks think said "
    "says told lot lots thing things time today week year day really recently "
    # verbs any two facts may share ("started Spanish classes" ends no "started on atorvastatin")
    "start started starting starts began begun get got getting gets make made making take "
    "took taking takes go went going gone come came coming "
    # words of time and of living any two facts may share ("for 20 years", "lives alone")
    "years weeks days months hours minutes ago since every live lives living lived".split()
)
MAX_PAIRS = 6
#: Slots whose value changes only by a new value of the slot, never by a decision on other
#: words ("the sponsor made us change the name" does not end the user's name).
_SLOT_ONLY = frozenset({"name", "birthday", "age", "hometown"})


class UpdateDecision(BaseModel):
    """The model's answer on pairs of (earlier fact, new fact)."""

    answers: list[Literal["replaced", "same", "both"]]


_ENDING = re.compile(
    r"\b(?:broke up|split up|separated|divorc\w*|passed away|died|no longer|anymore|ex-|"
    r"moved out|moving out|moved away|"
    r"former|left (?:me|him|her|them)|not together|dumped)\b",
    re.I,
)
#: Words that say something ended, changed or was corrected ("now", "new" or "started" alone
#: do not: "the new job takes my evenings" ends nothing).
CHANGE = re.compile(
    r"\b(?:any ?more|no longer|no more|stopped|quit|gave up|given up|giving up|done with|used to|"
    r"switched|changed|laid off|fired|let go|made redundant|resign\w*|retired|dropped out|"
    r"(?:gave|given|giving|handed|handing) (?:in )?(?:my |their |his |her )?(?:notice|resignation)|"
    r"moved|instead|renamed|not \w+ anymore|got promoted|promoted|actually|correction|"
    r"replaced|dropped|sold|lost|change|changing|switch(?:ed|ing|es)?|moving|transferr\w*|"
    # what was missing, away or ill is so no more ("Mango came home", "I've recovered")
    r"came (?:back|home)|(?:is|was|are|were|got|'s) (?:back|found)|been found|turned up|"
    r"showed up|returned|recovered|healed)\b"
    r"|\bdone \w+ing\b|\b(?:is|am|are|'m) off\b|\bfrom next (?:week|month|year|semester|term)\b"
    # "left the bakery", "is leaving Liceo", "left." (not "left wrist", "left turn")
    r"|\b(?:left|leaving)(?= (?:the|my|his|her|their|our|a|an|for|home|work|school|town|him|"
    r"them|me|it|"
    r"(?-i:[A-Z])\w*)\b|\s*[.,;!]|$)",
    re.I,
)
_NAMED = re.compile(r"[A-Z][\w-]+")
#: The name of what a statement says ended: "left Libreria Ulisse", "quit Low Tide Club".
_LEFT_NAMED = re.compile(
    r"\b(?:left|quit|leaving|leaves|quitting|no longer (?:at|with|in|for)|not (?:at|with|in|"
    r"for)|resigned from|dropped out of|notice (?:at|to)) (?:the )?([A-Z][\w-]+)"
)


#: A statement that says a name changed ("The user renamed Pancho to Chispa.").
_RENAMING = re.compile(r"\brenam\w*|\bnow call\w*|\b(?:is|are) now called\b", re.I)


def _stems(text: str) -> frozenset[str]:
    """Content stems of a text, without names (two facts about Ana share "Ana")."""
    names = {word.lower() for word in _NAMED.findall(text)}
    return content_stems(text, names | _GENERIC)


async def update_pairs(
    memory: Memory,
    user_id: str,
    statements: Sequence[Statement],
    ids: Sequence[str | None],
    message: str = "",
) -> list[tuple[int, MemoryHit]]:
    """(statement index, earlier fact) pairs that may be updates, at most :data:`MAX_PAIRS`.

    A statement that says a change is also paired by the words of the ``message`` sentence
    it came from: "The user rented a casita in Mazatlán instead." lost the "This winter" of
    "This winter I'm renting a casita in Mazatlán instead" that "spends winters in Puerto
    Vallarta" shares.
    """
    if not statements:
        return []
    found = await memory.aretrieve_many(
        user_id, [s.text for s in statements], k=6, kinds=["fact"], fallback=False
    )
    subjects = await memory.asubjects(user_id)
    subject_names = {name.casefold() for subject in subjects for name in subject.names()}
    kinds = [_stems(memory.slots.asked_words(s.slot)) if s.slot else None for s in statements]
    nearest = await _nearest_plain(memory, statements, ids, found, kinds)
    pairs: list[tuple[int, MemoryHit]] = []
    for index, (statement, subject_id, hits) in enumerate(zip(statements, ids, found, strict=True)):
        relations: list[MemoryHit] = []
        if _ENDING.search(statement.text):  # "we broke up": the relation may have ended
            ended = [
                s
                for s in subjects
                if s.id == subject_id
                or any(name_pattern(n).search(statement.text) for n in s.names())
            ]
            facts = await memory.asubject_facts(user_id, [s.id for s in ended])
            relations = [hit for hit in facts if hit.key == "relation"]
            relations += await _shared_with(memory, user_id, ended)
        said = _source_words(statement.text, message) if CHANGE.search(statement.text) else None
        near = _candidates(
            statement, subject_id, hits, nearest[index], subject_names, kinds[index], said
        )
        near += moved_with(statement.text, message, subject_id, hits)  # "they moved from ..."
        for hit in [*relations, *near]:
            if all(hit.id != other.id or i != index for i, other in pairs):
                pairs.append((index, hit))
    return pairs[:MAX_PAIRS]


async def _shared_with(
    memory: Memory, user_id: str, ended: Sequence[SubjectView]
) -> list[MemoryHit]:
    """The user's own plain facts that name a subject whose tie to the user ended.

    "Felix and I split up" may end "The user shares a flat with her boyfriend Felix.".
    """
    found: list[MemoryHit] = []
    for subject in ended:
        if not subject.name:  # known by relation only: no name to find
            continue
        hits = await memory.aretrieve(user_id, subject.name, k=8, kinds=["fact"], fallback=False)
        found += [
            hit
            for hit in hits
            if hit.subject_id is None
            and hit.key is None
            and name_pattern(subject.name).search(hit.text)
            and all(hit.id != other.id for other in found)
        ]
    return found[:2]


def _candidates(
    statement: Statement,
    subject_id: str | None,
    hits: Sequence[MemoryHit],
    nearest: str | None,
    subject_names: set[str],
    kind: frozenset[str] | None = None,
    said: frozenset[str] | None = None,
) -> list[MemoryHit]:
    """The subject's current facts a new statement may replace.

    Those that share a content word or a name with it (the names of the user's subjects
    excepted: two facts about Ana share "Ana"); and, when it says that something changed ("I
    stopped climbing", "I'm at the library now"), the plain fact of the same subject whose
    meaning is nearest (``nearest``: an earlier value may be worded otherwise, "I boulder"
    before "I stopped climbing"), with the plain facts that share a content word with that
    one ("The user boulders 3 times a week." beside "Bouldering is the user's personality.").
    No more: a small model asked about a pair tends to answer "replaced" whatever the pair, so
    a candidate must be likely before it is asked about. A fact in a slot changes through its
    slot: it is a candidate only when the statement shares a content word with it ("I'm no
    longer allergic to cats"), never for being near, so news about a new job cannot end the
    user's allergy or name, and a statement that sets one slot never ends a fact of an
    unrelated slot ("settled in Galway" does not end "took the head chef job in Galway"; a
    new employer may end "works as a nurse at St Mary's"). Facts the
    statement's own slot supersedes anyway are left out.
    A statement that sets a slot is paired by nearness only with a fact of the slot's kind
    (``kind``: the stems of its ``asked_by`` words): a move into a studio may end "shares a
    flat with Felix", never "works in Munich".
    """
    words = _stems(statement.text) | _names(statement.text, subject_names)
    changes = bool(CHANGE.search(statement.text))
    # a statement that names what ended ("I left Libreria Ulisse") is paired by that name, not
    # by nearness ("going to Rome next week" is near "left ... last week")
    # the rename of someone the memory knows is carried by their record: nothing near it ends
    renamed = _RENAMING.search(statement.text) and any(
        name_pattern(name).search(statement.text) for name in subject_names
    )
    near = next((hit for hit in hits if hit.id == nearest), None) if changes else None
    near = None if renamed else near
    ended = {name.lower() for name in _LEFT_NAMED.findall(statement.text)}
    if ended and near is not None and not ended & _names(near.text, subject_names):
        near = None
    if kind is not None and near is not None and not kind & _stems(near.text):
        near = None
    near_words = _stems(near.text) if near is not None else frozenset()
    found, nearby = [], []
    for hit in hits:
        if hit.subject_id != subject_id or hit.key == "relation" or hit.text == statement.text:
            continue
        if (statement.slot is not None and hit.key == statement.slot) or hit.key in _SLOT_ONLY:
            continue
        if _other_kinds(statement.slot, hit.key):  # a move ends no job
            continue
        shared = words & (_stems(hit.text) | _names(hit.text, subject_names))
        if said and hit.key is None:  # the sentence's words pair plain facts only
            shared |= said & _stems(hit.text)
        alike = hit.key is None and bool(near_words & _stems(hit.text))  # the same thing
        if shared:
            found.append(hit)
        elif near is not None and hit.key is None and (hit.id == near.id or alike):
            nearby.append(hit)
    # nearness stands in for shared words, never beside them: "taking the under-12s instead"
    # shares "coach" with the coaching it ends, and is merely near "visits Arvid"
    return found if any(hit.key is None for hit in found) else [*found, *nearby]


#: Slots one fact often says together ("works as a nurse at St Mary's": a job and its employer).
_KINDRED = (frozenset({"employer", "job_title", "school"}),)


def _other_kinds(slot: str | None, key: str | None) -> bool:
    """Whether a statement in ``slot`` and a fact in ``key`` are of unrelated slots."""
    if slot is None or key is None or slot == key:
        return False
    return not any(slot in kin and key in kin for kin in _KINDRED)


def _source_words(statement: str, message: str) -> frozenset[str]:
    """The content stems of the message sentence that says most of the statement."""
    wanted = _stems(statement)
    best: frozenset[str] = frozenset()
    for sentence in sentences(message):
        stems = _stems(sentence)
        if len(stems & wanted) > len(best & wanted):
            best = stems
    return best


def _names(text: str, subject_names: set[str]) -> frozenset[str]:
    """The names a fact says past its opening, less the names of the user's subjects."""
    return frozenset(
        name.lower()
        for name in _NAMED.findall(text.split(" ", 1)[-1])
        if name.lower() not in subject_names and name.lower() not in _GENERIC
    )


async def _nearest_plain(
    memory: Memory,
    statements: Sequence[Statement],
    ids: Sequence[str | None],
    found: Sequence[Sequence[MemoryHit]],
    kinds: Sequence[frozenset[str] | None],
) -> list[str | None]:
    """For each statement, the id of its subject's plain fact nearest in meaning, if any.

    Of the facts of the statement's slot's kind when it sets a slot (see :func:`_candidates`).
    """
    nearest: list[str | None] = []
    for statement, subject_id, hits, kind in zip(statements, ids, found, kinds, strict=True):
        plain = [  # the user's words quoted are no state to be near ('The user said "..."')
            hit
            for hit in hits
            if hit.subject_id == subject_id
            and hit.key is None
            and hit.text != statement.text
            and not hit.text.startswith('The user said "')
            and (kind is None or kind & _stems(hit.text))
        ]
        if not plain:
            nearest.append(None)
            continue
        vectors = await asyncio.to_thread(
            memory.embedder.embed_documents, [statement.text, *(hit.text for hit in plain)]
        )
        matrix = np.asarray(vectors, dtype=np.float32)
        matrix /= np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-12)
        scores = matrix[1:] @ matrix[0]
        nearest.append(plain[int(np.argmax(scores))].id)
    return nearest


#: Words of news that may replace an earlier fact, past those of :data:`CHANGE` ("I'm at
#: Stripe now", "started at Stripe as an engineering manager", "made captain").
_NEWS = re.compile(
    r"\b(?:now|these days|nowadays|from now on|any ?more|start(?:ed|ing|s)?|new|became|"
    r"become|joined|promoted|took|taking|got the job|got a job|hired)\b"
    # "made captain", "made partner" (not "made them a card", "made a cake")
    r"|\bmade (?!(?:me|him|her|them|us|you|it|a|an|the|some|my|our|their|his|its)\b)",
    re.I,
)


def says_change(statement: Statement, earlier: MemoryHit, many: frozenset[str]) -> bool:
    """Whether a statement can end an earlier fact: it says news, or sets a stable slot.

    A small model asked about a pair answers "replaced" for most pairs it is shown ("The user
    likes jazz festivals" would end "The user likes jazz"); a replacement is taken only from
    a statement that says something changed, ended or began ("quit", "broke up", "now",
    "started"), or that sets a single-valued slot (news about a job, a home, a diet).

    Args:
        statement: The new statement.
        earlier: The fact the model said it replaced.
        many: The vocabulary's multi-valued slots.
    """
    relation = statement.slot == "relation"  # says who someone is: ends no other fact by that
    if statement.slot is not None and (
        statement.slot == earlier.key or (statement.slot not in many and not relation)
    ):
        return True
    text = statement.text
    return bool(CHANGE.search(text) or _ENDING.search(text) or _NEWS.search(text))


async def _decide(
    model: BaseChatModel, statements: Sequence[Statement], pairs: Sequence[tuple[int, MemoryHit]]
) -> list[str]:
    lines = [
        f"{n}. Earlier: {hit.text} New: {statements[index].text}"
        for n, (index, hit) in enumerate(pairs, 1)
    ]
    prompt = [SystemMessage(UPDATE_PROMPT), HumanMessage("\n".join(lines))]

    def accept(result: UpdateDecision) -> list[str] | None:
        if not result.answers:
            return None
        answers: list[str] = [str(answer) for answer in result.answers][: len(pairs)]
        return answers + ["both"] * (len(pairs) - len(answers))

    return await ask_structured(
        model, UpdateDecision, prompt, accept, retries=1, what="update decision"
    )


async def decide_or_keep(
    model: BaseChatModel,
    statements: Sequence[Statement],
    pairs: Sequence[tuple[int, MemoryHit]],
    notes: list[str],
) -> list[str]:
    """The model's answer on each pair; "both" for all when it gives none usable.

    A failed decision must not lose the turn's facts: they are written, nothing is
    superseded by it, and a note says so on the turn.
    """
    if not pairs:
        return []
    try:
        return await _decide(model, statements, pairs)
    except StructuredOutputError as exc:
        logger.warning("update decision failed: %s", type(exc).__name__)
        notes.append("the update decision failed: nothing was superseded")
        return ["both"] * len(pairs)
