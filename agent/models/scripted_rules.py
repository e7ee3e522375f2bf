"""The built-in rules of the scripted model: deterministic answers to the graph's requests.

They recognise each request by its ``response_format`` schema name (``FactExtraction``,
``UpdateDecision``, ``Plan``, ``UserSummary``, ``ImageKeywords``,
``RerankOrder``) and otherwise write a chat reply from the memories and tool results
placed in the system prompt. They cover simple English
first-person statements only; they make the assistant usable offline in tests and examples,
not smart.
"""

from __future__ import annotations

import re
from typing import Any

_NAME = r"([A-Z][\w'-]*(?: [A-Z][\w'-]*)*)"
_FACT_PATTERNS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(rf"\b[Mm]y name is {_NAME}"), "name", "The user's name is {0}."),
    (
        re.compile(rf"\b[Mm]y (\w+)(?:'s name)? is (?:called |named )?{_NAME}"),
        "{0}_name",
        "The user's {0} is called {1}.",
    ),
    (re.compile(rf"\bI (?:live|am living) in {_NAME}"), "home_city", "The user lives in {0}."),
    (
        re.compile(rf"\bI(?: just| recently)? moved to {_NAME}"),
        "home_city",
        "The user lives in {0}.",
    ),
    (re.compile(rf"\bI work (?:at|for) {_NAME}"), "employer", "The user works at {0}."),
    (
        re.compile(r"\bI(?:'m| am) (?:a |an )?(vegetarian|vegan|pescatarian)", re.I),
        "diet",
        "The user is {0}.",
    ),
    (
        re.compile(r"\bI(?:'m| am) allergic to ([a-z][a-z ]{1,30}?)(?:[.,!]|$| and )"),
        "allergy_{0}",
        "The user is allergic to {0}.",
    ),
    (
        re.compile(r"\bI (?:really )?(?:like|love|enjoy) ([a-z][a-z ]{2,40}?)(?:[.,!]|$| and )"),
        "likes_{0}",
        "The user likes {0}.",
    ),
]
_STOPWORDS = frozenset(
    re.findall(
        r"\w+",
        "a an the is are was were am i my me you your what who where when which how do does did "
        "to of in on at for and or with about called named tell know remember please",
    )
)
_WORDS = re.compile(r"[a-z0-9]+")


def _user_text(payload: dict[str, Any]) -> str:
    for message in reversed(payload.get("messages", [])):
        if message.get("role") == "user":
            return str(message.get("content") or "")
    return ""


def _system_text(payload: dict[str, Any]) -> str:
    messages = payload.get("messages", [])
    if messages and messages[0].get("role") == "system":
        return str(messages[0].get("content") or "")
    return ""


_RELATED = re.compile(
    rf"\b[Mm]y ((?:[a-z-]+ )?[a-z-]+),? {_NAME},? (lives in|works at|works for|moved to|"
    rf"is moving to|is called|is named) {_NAME}"
)
_CALLED_RELATION = re.compile(rf"\b[Mm]y ([a-z-]+)(?:'s name)? is (?:called |named )?{_NAME}")


def extract(text: str) -> dict[str, Any]:
    """Find simple first-person facts in ``text`` (the ``FactExtraction`` shape).

    Facts about the user become statements about "The user"; "my sister Ana lives in Porto"
    and "my dog is called Rex" become statements about Ana and Rex, with their relation.
    """
    from confidante.memory.subjects.names import is_relation_word

    facts: list[str] = []
    seen: set[str] = set()
    for match in _RELATED.finditer(text):
        relation, name, verb, place = match.groups()
        if is_relation_word(relation):
            facts += [f"{name} is the user's {relation}.", f"{name} {verb} {place}."]
            seen.add(name)
    for match in _CALLED_RELATION.finditer(text):
        relation, name = match.groups()
        if is_relation_word(relation) and name not in seen:
            facts.append(f"{name} is the user's {relation}.")
            seen.add(name)
    keys: set[str] = set()
    for pattern, key_template, statement_template in _FACT_PATTERNS:
        for match in pattern.finditer(text):
            groups = [group.strip() for group in match.groups()]
            key = key_template.format(*[g.lower().replace(" ", "_") for g in groups])
            if key in keys or key == "name_name" or groups[-1] in seen:
                continue
            keys.add(key)
            facts.append(statement_template.format(*groups))
    return {"facts": facts}


def decide_updates(text: str) -> dict[str, Any]:
    """Answer an ``UpdateDecision`` request: ``replaced`` when both facts set one slot.

    Pairs come as "N. Earlier: ... New: ..." lines; equal texts are ``same``, anything else
    ``both``.
    """
    from confidante.memory.slots import DEFAULT_SLOTS

    answers = []
    for earlier, new in re.findall(r"^\d+\. Earlier: (.*?) New: (.*)$", text, flags=re.M):
        about_user = earlier.lower().startswith("the user ")
        old_slot = DEFAULT_SLOTS.slot_of(earlier, about_user=about_user)
        new_slot = DEFAULT_SLOTS.slot_of(new, about_user=about_user)
        if earlier.strip().lower() == new.strip().lower():
            answers.append("same")
        elif old_slot is not None and old_slot == new_slot and not old_slot.many:
            answers.append("replaced")
        else:
            answers.append("both")
    return {"answers": answers}


def _tool_names(payload: dict[str, Any]) -> list[str]:
    schema = payload["response_format"]["json_schema"]["schema"]
    return [name.removeprefix("Step_") for name in schema.get("$defs", {}) if "Step_" in name]


#: How the planning prompt names the tool the router expects (``graphs.prompts.LIKELY_TOOL``).
_LIKELY = re.compile(r"most likely asks for the tool (\w+)")
#: Tools the rules below plan themselves.
_MEMORY_TOOLS = frozenset({"add_reminder", "list_reminders", "search_memory", "forget_memory"})


def _arguments(payload: dict[str, Any], tool: str, text: str) -> dict[str, Any]:
    """The required arguments of ``tool`` filled with the request: a string, or a list of it."""
    definitions = payload["response_format"]["json_schema"]["schema"].get("$defs", {})
    step = definitions.get(f"Step_{tool}", {}).get("properties", {})
    reference = str(step.get("arguments", {}).get("$ref", "")).rsplit("/", 1)[-1]
    schema = definitions.get(reference, {})
    found: dict[str, Any] = {}
    for name in schema.get("required", []):
        kind = schema.get("properties", {}).get(name, {}).get("type")
        found[name] = [text] if kind == "array" else text
    return found


def plan(payload: dict[str, Any]) -> dict[str, Any]:
    """Plan a request (the ``Plan`` shape).

    The tool the planning prompt says the router expects, with the request as its required
    arguments; else reminder requests with the memory tools.
    """
    text = _user_text(payload)
    tools = _tool_names(payload)
    steps: list[dict[str, Any]] = []
    lowered = text.lower()
    likely = _LIKELY.search(_system_text(payload))
    if likely and likely.group(1) in tools and likely.group(1) not in _MEMORY_TOOLS:
        tool = likely.group(1)
        return {"steps": [{"tool": tool, "arguments": _arguments(payload, tool, text)}]}
    if "reminders" in lowered and "list_reminders" in tools:
        return {"steps": [{"tool": "list_reminders", "arguments": {}}]}
    mine = re.search(r"\bmy (\w+)", text)
    if mine and "search_memory" in tools:
        steps.append({"tool": "search_memory", "arguments": {"query": f"my {mine.group(1)}"}})
    task = re.sub(r"(?i)^.*?\bremind me (?:to )?", "", text).rstrip(".!? ") or text
    if "add_reminder" in tools:
        steps.append({"tool": "add_reminder", "arguments": {"text": task, "when": ""}})
    if not steps and tools:
        steps.append({"tool": tools[0], "arguments": {"query": text}})
    return {"steps": steps}


def _stems(text: str) -> set[str]:
    return {word[:4] for word in _WORDS.findall(text.lower())}


def chat(payload: dict[str, Any]) -> str:
    """Reply from the memories and tool results in the system prompt."""
    system, text = _system_text(payload), _user_text(payload)
    if "Results:" in system:
        results = system.split("Results:", 1)[1].split("\nTell the user", 1)[0].strip()
        return "Here is what I did:\n" + results
    asked = _stems(text) - _stems(" ".join(_STOPWORDS))
    memories = re.findall(r"^\[\d+\] (?:\([a-z ]+\) )?(.+)$", system, flags=re.M)
    best, best_overlap = "", 0
    for memory in memories:
        overlap = len(asked & _stems(memory))
        if overlap > best_overlap:
            best, best_overlap = memory, overlap
    if best and text.rstrip().endswith("?"):
        return f"From what you told me: {best}"
    if extract(text)["facts"]:
        return "Thanks, I will remember that."
    if text.rstrip().endswith("?"):
        return "I don't know that yet."
    return "Okay."


_USER_SUBJECT = re.compile(r"^the user(?='s\b|\s)", re.I)


def _fact_parts(fact: str) -> tuple[str, str]:
    """Split a fact about the user into its predicate and the rest.

    "The user likes jazz" → ("The user likes", "jazz"); "The user's dog is called Rex" →
    ("The user's", "dog is called Rex"). Facts about anything else are their own predicate.
    """
    subject = _USER_SUBJECT.match(fact)
    if subject is None:
        return fact, ""
    rest = fact[subject.end() :]
    if rest.startswith("'s "):
        return fact[: subject.end()] + "'s", rest[3:].strip()
    verb, _, obj = rest.strip().partition(" ")
    return (f"{fact[: subject.end()]} {verb}", obj.strip()) if obj else (fact, "")


def _sentence(predicate: str, objects: list[str]) -> str:
    if not objects:
        return predicate + "."
    listed = objects[0] if len(objects) == 1 else ", ".join(objects[:-1]) + " and " + objects[-1]
    return f"{predicate} {listed}."


def _render(groups: dict[str, list[str]]) -> str:
    return " ".join(_sentence(predicate, objects) for predicate, objects in groups.items())


def summarize(text: str, limit: int = 480) -> dict[str, Any]:
    """Summarise the ``- `` lines of the first block of a summary prompt (``UserSummary`` shape).

    Like a model told to be brief, it states each thing once and groups what shares a
    predicate: "The user likes jazz." and "The user likes hiking." become "The user likes jazz
    and hiking.". Facts about the user come first (in the order given, which puts the task's
    best matches first), then the other lines; a fact is added only while the summary stays
    within ``limit`` characters (the schema's ``maxLength``), so none is cut in the middle.
    """
    block = text.split("\n\n", 1)[0]
    lines = [line[2:].strip().rstrip(".!?").strip() for line in block.splitlines()]
    facts = [line for line, raw in zip(lines, block.splitlines(), strict=True) if raw[:2] == "- "]
    about = [fact for fact in facts if _USER_SUBJECT.match(fact)]
    groups: dict[str, list[str]] = {}
    seen: set[str] = set()
    for fact in about + [fact for fact in facts if not _USER_SUBJECT.match(fact)]:
        predicate, obj = _fact_parts(fact)
        if not fact or obj.lower() in {o.lower() for o in groups.get(predicate, [])}:
            continue  # said already
        if fact.lower() in seen:
            continue
        trial = {**groups, predicate: [*groups.get(predicate, []), *([obj] if obj else [])]}
        if len(_render(trial)) > limit:
            continue  # a shorter fact further down may still fit
        groups = trial
        seen.add(fact.lower())
    summary = _render(groups)
    return {"summary": summary or "Nothing is known about the user yet."}


_LIKED = re.compile(
    r"(?:\b(?:likes?|loves?|enjoys?|prefers?|liked|loved)\b|\bfavou?rite \w+ (?:is|are)\b"
    r"|\bkept a picture:)\s+([^.;]+)",
    re.I,
)


def image_keywords(text: str) -> dict[str, Any]:
    """Pick preference and target keywords from an image-keywords prompt (``ImageKeywords``).

    Preferences are what follows "likes", "loves", "favourite ... is" or "kept a picture:" in
    the ``- `` lines and the summary; targets are the request's words minus stopwords.
    """
    data, _, request = text.rpartition("Request:")
    preference: list[str] = []
    for match in _LIKED.finditer(data):
        for part in re.split(r",| and ", match.group(1)):
            phrase = " ".join(w for w in part.lower().split() if w not in _STOPWORDS)
            if phrase and phrase not in preference:
                preference.append(phrase)
    words = re.findall(r"[a-z0-9][a-z0-9-]*", request.lower())
    target = [w for w in dict.fromkeys(words) if w not in _STOPWORDS]
    return {"preference": preference[:8], "target": target[:8]}


def rerank_order(text: str) -> dict[str, Any]:
    """Order recommendation candidates by overlap with the tastes and request (``RerankOrder``).

    Candidates are the prompt's numbered lines after ``Candidates:``; the rest is what the user
    likes and asks for. Ties keep the offered order.
    """
    known, _, offered = text.partition("Candidates:")
    wanted = _stems(known) - _stems(" ".join(_STOPWORDS))
    scored = [
        (-len(_stems(about) & wanted), int(number))
        for number, about in re.findall(r"^(\d+)\. (.+)$", offered, flags=re.M)
    ]
    return {"order": [number for _, number in sorted(scored)]}


def _summary_limit(payload: dict[str, Any], default: int = 480) -> int:
    """The ``maxLength`` of the summary field of a ``UserSummary`` request (the task's cap)."""
    schema = payload["response_format"]["json_schema"].get("schema") or {}
    limit = (schema.get("properties") or {}).get("summary", {}).get("maxLength")
    return int(limit) if isinstance(limit, int) else default


def default_reply(payload: dict[str, Any]) -> str | dict[str, Any]:
    """Answer one request body by the rules above."""
    response_format = payload.get("response_format") or {}
    name = (response_format.get("json_schema") or {}).get("name")
    if name == "FactExtraction":
        return extract(_user_text(payload))
    if name == "UpdateDecision":
        return decide_updates(_user_text(payload))
    if name == "Plan":
        return plan(payload)
    if name == "UserSummary":
        return summarize(_user_text(payload), _summary_limit(payload))
    if name == "ImageKeywords":
        return image_keywords(_user_text(payload))
    if name == "RerankOrder":
        return rerank_order(_user_text(payload))
    if response_format:
        return {}
    return chat(payload)
