"""Scoring of the write-path benchmark: what a conversation left in memory, and the answers.

Pure functions over the dev set's gold annotations (see ``data/write_path/FORMAT.md``) and
what the memory holds at the end of a conversation: its current and superseded facts with
their subjects. Matching is by words, as EVAL.md §7 states: a stored fact matches a gold fact
when its subject is the gold subject and its text carries the gold value.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

_WORD = re.compile(r"[\w'-]+")
#: Words that end a fact in ordinary speech: a current fact that says one of them about an old
#: value ("The user quit Infosys.") is not the old value still current.
_ENDED = re.compile(
    r"\b(?:quit|left|leaves|leaving|no longer|not .{0,20}anymore|any ?more|used to|former|"
    r"formerly|ex-|previously|stopped|broke up|moved (?:out|away|from)|was|were|changed|"
    r"switched|instead|before|renamed|not|sold|resigned|retired|dropped out|closed|finished|"
    r"graduated|completed|"
    r"(?:gave|handed|given|handing|giving) (?:in )?(?:my |their |his |her )?(?:notice|resignation)|"
    r"(?:is|are|was) (?:\w+ )?over)\b",
    re.I,
)
_ADMITS = re.compile(
    r"\b(?:don't|do not|didn't|did not|doesn't|haven't|have not|hasn't|can't|cannot|no)\b.{0,40}"
    r"\b(?:know|sure|told|mention|mentioned|said|shared|information|record|recall|remember|idea|"
    r"details?|memory|memories)\b|\bnot sure\b|\bno idea\b|\bunknown\b|\bnot (?:aware|certain)\b|"
    r"\bnothing (?:about|on|in)\b|\bI'm not able to (?:find|recall)\b",
    re.I,
)


@dataclass
class Stored:
    """One fact the memory holds: text, subject (None: the user), whether it is current."""

    text: str
    subject: dict[str, Any] | None
    current: bool


def _words(text: str) -> list[str]:
    return [word.lower().strip("'") for word in _WORD.findall(text)]


def has_value(text: str, value: str) -> bool:
    """Whether ``text`` carries ``value``: its names and numbers, and most of its words.

    Words are compared by their first five letters ("allergic" carries "allergy").
    """
    said = {word[:5] for word in _words(text)}
    lowered = text.lower()
    words = [w for w in _words(value) if len(w) > 2 or w.isdigit()]
    if not words:
        return value.lower() in lowered
    hits = sum(1 for word in words if word[:5] in said or word in lowered)
    names = [w for w in re.findall(r"[A-Z][\w-]+|\d+", value)]
    return all(n.lower() in lowered for n in names) and hits * 3 >= 2 * len(words)


def _relation_words(relation: str | None) -> set[str]:
    text = (relation or "").lower().replace("former ", "ex-").replace("ex ", "ex-")
    return {text, text.split(" ")[-1]} if text else set()


def same_subject(gold: dict[str, Any], stored: dict[str, Any] | None) -> bool:
    """Whether a stored subject (None: the user) is the gold fact's subject."""
    if gold.get("subject", "user") == "user":
        return stored is None
    if stored is None:
        return False
    name = str(gold["subject"]).casefold()
    names = {n.casefold() for n in [stored.get("name"), *stored.get("aliases", [])] if n}
    if name in names or any(name in n.split() or n in name.split() for n in names):
        return True
    if not stored.get("name"):  # known by relation only
        gold_relations = _relation_words(gold.get("relation")) | _relation_words(name)
        return bool(gold_relations & _relation_words(stored.get("relation")))
    return False


def matches(gold: dict[str, Any], fact: Stored) -> bool:
    """Whether a stored fact states a gold fact (subject and value)."""
    if not same_subject(gold, fact.subject):
        return False
    if has_value(fact.text, str(gold["value"])):
        return True
    if gold.get("slot") == "relation" and fact.subject:  # the subject's record says it
        wanted = _relation_words(str(gold["value"]))
        return bool(wanted & _relation_words(fact.subject.get("relation")))
    return False


def current_gold(
    turns: Iterable[dict[str, Any]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The gold facts still true at the end, and all gold facts (in order)."""
    facts = [fact for turn in turns for fact in turn.get("facts", [])]
    replaced: set[tuple[str, str]] = set()
    for fact in facts:
        if fact.get("replaces"):
            replaced.add(
                (str(fact.get("subject", "user")).casefold(), str(fact["replaces"]).lower())
            )
    current = [
        fact
        for fact in facts
        if (str(fact.get("subject", "user")).casefold(), str(fact["value"]).lower()) not in replaced
    ]
    return current, facts


def score_facts(turns: Sequence[dict[str, Any]], stored: Sequence[Stored]) -> dict[str, Any]:
    """Counts for fact recall, precision, wrong subjects and updates of one conversation."""
    current, everything = current_gold(turns)
    now = [fact for fact in stored if fact.current]
    recalled = sum(1 for gold in current if any(matches(gold, fact) for fact in now))
    precise = sum(1 for fact in now if any(matches(gold, fact) for gold in current))
    wrong_subject = sum(
        1
        for fact in now
        if not any(matches(gold, fact) for gold in everything)
        and any(_misplaced(gold, fact) for gold in everything if len(str(gold["value"])) > 3)
    )
    updates = [gold for gold in everything if gold.get("replaces")]
    updated = sum(1 for gold in updates if _update_holds(gold, stored))
    return {
        "gold_current": len(current),
        "recalled": recalled,
        "stored": len(now),
        "precise": precise,
        "wrong_subject": wrong_subject,
        "updates": len(updates),
        "updated": updated,
    }


def _misplaced(gold: dict[str, Any], fact: Stored) -> bool:
    """A gold fact's value stored under another subject, in a text that does not name its own.

    "The user is moving to Berlin." for Ana's move is misplaced; "Grace reminded the user to
    book a flu jab." names the user and is Grace's own fact, not a misplaced one.
    """
    if not has_value(fact.text, str(gold["value"])) or same_subject(gold, fact.subject):
        return False
    subject = str(gold.get("subject", "user"))
    named = "the user" if subject == "user" else subject.lower()
    return named not in fact.text.lower()


def _update_holds(gold: dict[str, Any], stored: Sequence[Stored]) -> bool:
    """New value current, old value no longer current for the subject, old value in history."""
    old = {**gold, "value": gold["replaces"]}
    new_current = any(matches(gold, fact) for fact in stored if fact.current)
    old_current = any(
        matches(old, fact) and not matches(gold, fact) and not _ENDED.search(fact.text)
        for fact in stored
        if fact.current
    )
    kept = any(matches(old, fact) for fact in stored if not fact.current) or any(
        matches(old, fact) and _ENDED.search(fact.text) for fact in stored if fact.current
    )
    return new_current and not old_current and kept


def answer_ok(answer: str, expect: dict[str, Any]) -> bool:
    """Whether an answer meets a question's expectations (``any``/``all``/``none``/type)."""
    lowered = answer.lower()
    if any(str(word).lower() in lowered for word in expect.get("none", [])):
        return False
    if expect.get("all") and not all(str(w).lower() in lowered for w in expect["all"]):
        return False
    if expect.get("any") and not any(str(w).lower() in lowered for w in expect["any"]):
        return False
    if expect.get("type") == "unknown":
        return bool(_ADMITS.search(answer))
    return True


def explain(turns: Sequence[dict[str, Any]], stored: Sequence[Stored]) -> dict[str, Any]:
    """What matched what, for reading a conversation's result: gold facts and stored facts."""
    current, everything = current_gold(turns)
    now = [fact for fact in stored if fact.current]

    def who(fact: Stored) -> str:
        return (
            "user"
            if fact.subject is None
            else str(fact.subject.get("name") or fact.subject.get("relation"))
        )

    return {
        "missed": [
            f"{g.get('subject', 'user')}: {g['value']}"
            for g in current
            if not any(matches(g, fact) for fact in now)
        ],
        "unmatched_stored": [
            f"{who(fact)}: {fact.text}"
            for fact in now
            if not any(matches(g, fact) for g in current)
        ],
        "stored": [f"{'current' if f.current else 'history'} {who(f)}: {f.text}" for f in stored],
        "updates": [
            {
                "gold": f"{g.get('subject', 'user')}: {g['replaces']} -> {g['value']}",
                "ok": _update_holds(g, stored),
            }
            for g in everything
            if g.get("replaces")
        ],
    }
