"""Import a Letta agent file (``.af``) into confidante.

:func:`letta_to_export` turns an agent file into a ``confidante.memory`` document. Two shapes
are read, as Letta writes them:

- the current one (``letta.schemas.agent_file.AgentFileSchema``): ``{"agents": [...],
  "blocks": [...], "groups", "files", "sources", "tools", "mcp_servers", "metadata",
  "created_at"}``; an agent lists its ``block_ids`` and holds its ``messages``;
- the first one (``letta.serialize_schemas.pydantic_agent_schema.AgentSchema``): one agent
  object with ``core_memory`` (blocks with their ``created_at`` / ``updated_at``) and
  ``messages``.

A file whose JSON is a string holding the JSON document (as some published ``.af`` files are)
is read too. Letta's agent file carries no archival memory; archival passages, as Letta's
passage listing returns them (``id``, ``text``, ``created_at``, ``tags``, ``metadata``,
``agent_id``...), are read from a ``passages`` list at the top of the file or in an agent.

Mapping:

- **core memory blocks** become facts, one per line of the block's value (empty lines and
  unfilled template lines such as ``"Last name: ?"`` left out); the ``persona`` block, which
  describes the Letta agent rather than its user, is not imported. A block's time is its own
  (``updated_at``, ``created_at``) when the file has it, else the file's ``created_at``, else
  the time of the agent's last message (the block held then); only a file with no time at all
  gets the import time. Provenance ``letta:block:<id>``; the label and description are kept
  under the attribute ``letta``.
- **archival passages** become facts with their own ``created_at`` (``updated_at`` as the time
  their value holds from); provenance ``letta:passage:<id>``, tags and metadata kept.
- **messages** become raw turns (``events``) of the session ``letta:<agent name>``, with the
  time each was said (``created_at``): the user's messages (the text of a JSON-packed
  ``user_message``; heartbeats, logins and system alerts left out) and the assistant's replies
  (the ``message`` of a ``send_message`` tool call, or its text when it calls no tool or the
  agent is a ``letta_v1_agent``; inner thoughts, tool calls and tool results left out). They
  are marked ``done``: Letta's blocks already hold what was learned from them.

The user: an agent file names its user through the agents' ``identity_ids`` (Letta's
identities, one per end user of an app), the ``sender_id`` of user messages, or an agent's
``metadata.user_id``. A file naming another user than the one imported into is refused unless
``source_user`` names that user; a file naming several is refused unless ``source_user`` picks
one (only its agents and messages are read). Most agent files name nobody: they are imported
into the user named.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from confidante.errors import InvalidInputError
from confidante.integrations.importers._common import (
    choose_user,
    document,
    event_id,
    item,
    optional_time,
    parse_json_text,
    required_time,
)
from confidante.memory.portability.format import iso

__all__ = ["letta_to_export"]

SYSTEM = "Letta agent file"
#: Blocks that describe the agent itself, not its user.
SKIPPED_BLOCKS = frozenset({"persona"})
#: Packed user messages that are the agent runtime talking, not the user.
SKIPPED_PACKED = frozenset({"heartbeat", "login", "system_alert", "system_message"})
_UNFILLED = re.compile(r"^[^:]{1,80}:\s*(\?+|unknown|n/?a)?\s*$", re.IGNORECASE)
_BULLET = re.compile(r"^\s*(?:[-*\u2022]|\d+[.)])\s+")


def _objects(value: Any, where: str) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInputError(f"{where} must be a list")
    for index, entry in enumerate(value):
        if not isinstance(entry, Mapping):
            raise InvalidInputError(f"{where}[{index}] must be an object")
    return list(value)


def _agents(data: Any) -> tuple[list[Mapping[str, Any]], dict[str, Mapping[str, Any]]]:
    """The file's agents (each with its blocks under ``_blocks``) and its blocks by id."""
    data = parse_json_text(data, SYSTEM)
    if not isinstance(data, Mapping):
        raise InvalidInputError(f"not a {SYSTEM}: expected a JSON object")
    if "agents" in data:
        agents = _objects(data["agents"], "agents")
        blocks = {str(b.get("id")): b for b in _objects(data.get("blocks"), "blocks")}
        return agents, blocks
    if "core_memory" in data and "messages" in data:  # the first agent file schema
        return [data], {}
    raise InvalidInputError(
        f"not a {SYSTEM}: expected 'agents' (current schema) or 'core_memory' and 'messages'"
    )


def _agent_blocks(
    agent: Mapping[str, Any], blocks: Mapping[str, Mapping[str, Any]], where: str
) -> list[Mapping[str, Any]]:
    if "core_memory" in agent:
        return _objects(agent["core_memory"], f"{where}.core_memory")
    found = []
    for block_id in agent.get("block_ids") or []:
        if str(block_id) not in blocks:
            raise InvalidInputError(f"{where}.block_ids names a missing block {block_id!r}")
        found.append(blocks[str(block_id)])
    return found + _objects(agent.get("memory_blocks"), f"{where}.memory_blocks")


def _users_of(agent: Mapping[str, Any]) -> set[str]:
    named = {str(i) for i in agent.get("identity_ids") or [] if i}
    metadata = agent.get("metadata") or agent.get("metadata_") or {}
    if isinstance(metadata, Mapping) and metadata.get("user_id"):
        named.add(str(metadata["user_id"]))
    for message in agent.get("messages") or []:
        is_user = isinstance(message, Mapping) and message.get("role") == "user"
        if is_user and message.get("sender_id"):
            named.add(str(message["sender_id"]))
    return named


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [
            str(part["text"])
            for part in content
            if isinstance(part, Mapping) and part.get("type", "text") == "text" and part.get("text")
        ]
    return []


def _user_text(text: str) -> str | None:
    """The user's words of a message text (Letta packs some in JSON), or None for runtime noise."""
    try:
        packed = json.loads(text)
    except json.JSONDecodeError:
        return text
    if not isinstance(packed, Mapping) or "type" not in packed:
        return text
    if packed["type"] in SKIPPED_PACKED:
        return None
    message = packed.get("message")
    return str(message) if message else None


def _sent_message(tool_calls: Any) -> str | None:
    """The ``message`` argument of a ``send_message`` call (how MemGPT-style agents reply)."""
    for call in tool_calls or []:
        function = call.get("function") if isinstance(call, Mapping) else None
        if not isinstance(function, Mapping) or function.get("name") != "send_message":
            continue
        arguments = function.get("arguments")
        try:
            parsed = json.loads(arguments) if isinstance(arguments, str) else arguments
        except json.JSONDecodeError:
            continue
        if isinstance(parsed, Mapping) and parsed.get("message"):
            return str(parsed["message"])
    return None


def _said(message: Mapping[str, Any], replies_in_text: bool) -> str | None:
    """What a message said to or from the user (None: nothing the user saw)."""
    role = message.get("role")
    if role == "user":
        texts = [t for t in (_user_text(text) for text in _texts(message.get("content"))) if t]
    elif role == "assistant":
        sent = _sent_message(message.get("tool_calls"))
        # MemGPT-style agents think in their text and reply through send_message; agents of
        # type letta_v1_agent reply in their text, beside any tool call
        thinking = bool(message.get("tool_calls")) and not replies_in_text
        texts = [sent] if sent else ([] if thinking else _texts(message.get("content")))
    else:
        return None
    text = "\n".join(t.strip() for t in texts if t.strip())
    return text or None


def _events(agent: Mapping[str, Any], where: str, chosen: str | None) -> Iterator[dict[str, Any]]:
    session = f"letta:{agent.get('name') or agent.get('id') or 'agent'}"[:200]
    messages = _objects(agent.get("messages"), f"{where}.messages")
    replies_in_text = agent.get("agent_type") == "letta_v1_agent"
    for index, message in enumerate(messages):
        at = f"{where}.messages[{index}]"
        sender = message.get("sender_id")
        if chosen is not None and sender and str(sender) != chosen:
            continue
        text = _said(message, replies_in_text)
        if text is None:
            continue
        said_at = required_time(message, ("created_at",), at)
        raw_id = message.get("id") or f"{session}#{index}"
        yield {
            "id": event_id("letta", raw_id, session, iso(said_at), text),
            "session_id": session,
            "role": str(message["role"]),
            "text": text,
            "extraction": "done",
            "error": None,
            "created_at": iso(said_at),
            "occurred_at": iso(said_at),
            "speaker": str(message["name"])[:200] if message.get("name") else None,
            "source_id": f"letta:{raw_id}"[:200],
            "position": index,
        }


def _block_lines(value: Any) -> list[str]:
    lines = []
    for line in str(value or "").splitlines():
        text = _BULLET.sub("", line).strip()
        if text and not _UNFILLED.match(text):
            lines.append(text)
    return lines


def _block_items(
    block: Mapping[str, Any], where: str, fallback: datetime, kind: str
) -> Iterator[dict[str, Any]]:
    label = str(block.get("label") or "")
    if label in SKIPPED_BLOCKS:
        return
    created = optional_time(block, "created_at", where)
    updated = optional_time(block, "updated_at", where)
    start = created or updated or fallback
    block_id = str(block.get("id") or label or where)
    kept = {
        "kind": "block",
        "label": label,
        "block_id": block_id,
        "description": block.get("description"),
    }
    for number, line in enumerate(_block_lines(block.get("value"))):
        yield item(
            f"letta:block:{block_id}:{number}",
            line,
            kind=kind,
            created_at=start,
            valid_from=max(updated or start, start),
            provenance=[f"letta:block:{block_id}"],
            attributes={"letta": kept},
        )


def _passage_items(
    passages: list[Mapping[str, Any]], where: str, kind: str
) -> list[dict[str, Any]]:
    items = []
    for index, passage in enumerate(passages):
        at = f"{where}[{index}]"
        text = passage.get("text")
        if not isinstance(text, str) or not text.strip():
            raise InvalidInputError(f"{at} has no 'text'")
        created = required_time(passage, ("created_at",), at)
        updated = optional_time(passage, "updated_at", at)
        passage_id = str(passage.get("id") or f"{where}-{index}")
        kept = {
            name: passage[name]
            for name in ("id", "tags", "metadata", "agent_id", "archive_id", "source_id")
            if passage.get(name) not in (None, [], {})
        }
        items.append(
            item(
                f"letta:{at}:{passage_id}",
                text,
                kind=kind,
                created_at=created,
                valid_from=max(updated or created, created),
                provenance=[f"letta:passage:{passage_id}"],
                attributes={"letta": {"kind": "passage", **kept}},
            )
        )
    return items


def letta_to_export(
    data: Any,
    *,
    user_id: str | None = None,
    source_user: str | None = None,
    kind: str = "fact",
) -> dict[str, Any]:
    """Convert a Letta agent file to a ``confidante.memory`` document.

    Args:
        data: The parsed JSON of the ``.af`` file (see the module docstring for the shapes).
        user_id: The user it is imported into: a file naming someone else is refused.
        source_user: The user of the file to import (an identity id, a ``sender_id``); maps
            that user's agents and messages to ``user_id`` on purpose.
        kind: The kind the imported facts get.

    Returns:
        A document for ``Memory.aimport`` / ``confidante memory import --format letta``.

    Raises:
        InvalidInputError: Not an agent file, a record is malformed (the message names it),
            or the file is another user's (see the module docstring).
    """
    agents, blocks = _agents(data)
    chosen = choose_user(
        (user for agent in agents for user in _users_of(agent)),
        user_id=user_id,
        source_user=source_user,
        system=SYSTEM,
        field="identity / sender_id",
    )
    root = parse_json_text(data, SYSTEM)
    file_time = optional_time(root, "created_at", SYSTEM)
    items: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    seen_blocks: set[int] = set()
    included: set[str] = set()
    for number, agent in enumerate(agents):
        where = f"agents[{number}]" if "agents" in root else "agent"
        named = _users_of(agent)
        if chosen is not None and named and chosen not in named:
            continue
        included.add(str(agent.get("id")))
        said = list(_events(agent, where, chosen))
        last_said = max((e["created_at"] for e in said), default=None)
        fallback = file_time or (datetime.fromisoformat(last_said) if last_said else None)
        for index, block in enumerate(_agent_blocks(agent, blocks, where)):
            if id(block) in seen_blocks:  # a block shared by several agents
                continue
            seen_blocks.add(id(block))
            at = f"{where}.blocks[{index}]"
            items.extend(_block_items(block, at, fallback or datetime.now(UTC), kind))
        own = _objects(agent.get("passages"), f"{where}.passages")
        items.extend(_passage_items(own, f"{where}.passages", kind))
        events.extend(said)
    passages = _objects(root.get("passages"), "passages")
    top = [p for p in passages if p.get("agent_id") is None or str(p["agent_id"]) in included]
    items.extend(_passage_items(top, "passages", kind))
    return document(chosen or user_id, items, events)
