"""Typed values of the graph's state: recalled memories, tool results, approval decisions.

These values cross three boundaries, which is why they are pydantic models:

- the checkpoint: LangGraph's serializer stores a pydantic value as its class and its fields
  and builds it again on load. The types are declared in
  :class:`~confidante.graphs.state.AgentState`, so LangGraph's strict mode
  (``LANGGRAPH_STRICT_MSGPACK=true``) allows them from the schema; a saver that refuses them
  hands back their fields as a dict, which the readers below turn back into the type;
- the wire: :class:`~confidante.agent.TurnResult`, the HTTP API and the custom stream events
  keep the dict shapes they always had (:meth:`RecalledItem.wire`, :meth:`ToolResult.wire`);
- extension nodes: a node added with :class:`~confidante.graphs.builder.GraphBuilder` may
  write plain dicts (as the examples do) and read the values as dicts (``item["text"]``).

Readers go through :func:`recalled_of`, :func:`results_of` and :func:`completed_of`, which
accept a typed value or its dict. So a checkpoint written before these types existed (dicts
in the state) still loads and resumes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from confidante.errors import InvalidInputError
from confidante.memory.items import MemoryHit

__all__ = [
    "DECISIONS",
    "ApprovalDecision",
    "DecisionName",
    "RecalledItem",
    "ToolResult",
    "completed_of",
    "plain_state",
    "recalled_of",
    "results_of",
]

DecisionName = Literal["approve", "edit", "reject"]
DECISIONS: tuple[DecisionName, ...] = ("approve", "edit", "reject")


class _Value(BaseModel):
    """Immutable; unknown keys kept (an extension's own); readable as a mapping.

    ``item["text"]`` and ``item.get("about")`` keep working for code written when these were
    dicts (extension nodes, callers of :meth:`~confidante.Agent.astate` before it).
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    def __getitem__(self, key: str) -> Any:
        if key in type(self).model_fields or key in (self.model_extra or {}):
            return getattr(self, key)
        raise KeyError(key)

    def get(self, key: str, default: Any = None) -> Any:
        """Return the field ``key``, or ``default`` when there is none."""
        try:
            return self[key]
        except KeyError:
            return default


class RecalledItem(_Value, MemoryHit):
    """A memory recalled for the turn: a :class:`~confidante.memory.items.MemoryHit`, plus whom.

    Only ``id`` and ``text`` are required: an extension may add context of its own (the
    calendar in ``examples/custom_subgraph.py``); its missing fields take their defaults.

    Attributes:
        about: The subject the item is about, labeled for the prompt ("Biscuit (the user's
            dog)"); None when it is about the user.
        instead_of: The earlier fact this one replaced, when the turn's words reached that
            one (see :func:`confidante.graphs.recalled.replacements`).
    """

    created_at: datetime | None = None  # type: ignore[assignment]  # optional beside a hit
    about: str | None = None
    instead_of: str | None = None

    @classmethod
    def from_hit(cls, hit: MemoryHit, about: str | None = None) -> RecalledItem:
        """Build a recalled item from a retrieval hit, without its ``attributes``.

        Recalled items are checkpointed at every step of every turn, and no prompt reads an
        item's attributes: they stay in the memory (``Memory.get``), so a user's large
        attributes never multiply into the conversation's checkpoints.
        """
        fields = {**dict(hit), **(dict(hit.model_extra or {})), "attributes": {}}
        item = cls.model_validate(fields)
        return item if about is None else item.model_copy(update={"about": about})

    def wire(self) -> dict[str, Any]:
        """The item as JSON (the hit's fields; ``about`` and ``instead_of`` only when set)."""
        data = self.model_dump(mode="json")
        for optional in ("about", "instead_of"):
            if data.get(optional) is None:
                data.pop(optional, None)
        return data


class ToolResult(_Value):
    """The outcome of one tool step (or of a plan that could not be made: ``tool="plan"``).

    Attributes:
        tool: The tool's name.
        ok: Whether the call returned.
        output: What it returned, or why it failed.
        decision: For a side-effecting call, the user's decision on it.
        arguments: The arguments it was run with, when the user edited them.
    """

    tool: str
    ok: bool
    output: str
    decision: Literal["approved", "edited", "rejected"] | None = None
    arguments: dict[str, Any] | None = None

    def wire(self) -> dict[str, Any]:
        """The result as a dict: ``decision`` and ``arguments`` only when they are set."""
        data = self.model_dump()
        for optional in ("decision", "arguments"):
            if data.get(optional) is None:
                data.pop(optional, None)
        return data


class ApprovalDecision(BaseModel):
    """The user's decision on a paused side-effecting call.

    On the wire (LangGraph's resume value, the HTTP body) it is ``"approve"``, ``"reject"`` or
    ``{"decision": ..., "args": {...}}``; :meth:`parse` reads any of them.

    Attributes:
        decision: ``approve`` runs the call, ``edit`` runs it with ``args``, ``reject`` skips it.
        args: The new arguments (``edit`` only; required there).
    """

    model_config = ConfigDict(frozen=True)

    decision: DecisionName
    args: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _edit_has_args(self) -> ApprovalDecision:
        if self.decision == "edit" and self.args is None:
            raise ValueError("an 'edit' decision needs the new arguments (a dict)")
        return self

    @classmethod
    def parse(cls, value: Any) -> ApprovalDecision:
        """Read a resume value (see the class docstring).

        Raises:
            InvalidInputError: Not one of the three decisions, or ``edit`` without arguments.
        """
        if isinstance(value, ApprovalDecision):
            return value
        fields = {"decision": value} if isinstance(value, str) else value
        if not isinstance(fields, Mapping) or fields.get("decision") not in DECISIONS:
            raise InvalidInputError(f"a decision is one of {DECISIONS}, not {value!r}")
        try:
            return cls.model_validate({"decision": fields["decision"], "args": fields.get("args")})
        except ValidationError as exc:
            raise InvalidInputError(exc.errors()[0]["msg"]) from exc

    def resume_value(self) -> dict[str, Any]:
        """The value LangGraph resumes the paused call with (plain JSON, as checkpointed)."""
        value: dict[str, Any] = {"decision": self.decision}
        if self.decision == "edit":
            value["args"] = dict(self.args or {})
        return value


def _recalled(value: Any) -> RecalledItem:
    if isinstance(value, MemoryHit) and not isinstance(value, RecalledItem):
        return RecalledItem.from_hit(value)
    return RecalledItem.model_validate(value)


def recalled_of(items: Iterable[Any] | None) -> list[RecalledItem]:
    """The recalled memories as :class:`RecalledItem` (from items, dicts or hits)."""
    return [_recalled(item) for item in items or ()]


def results_of(results: Iterable[Any] | None) -> list[ToolResult]:
    """The tool results as :class:`ToolResult` (from results or dicts)."""
    return [ToolResult.model_validate(result) for result in results or ()]


def completed_of(completed: Mapping[str, Any] | None) -> dict[str, ToolResult]:
    """The completed side-effecting calls, by signature, as :class:`ToolResult`."""
    return {key: ToolResult.model_validate(value) for key, value in (completed or {}).items()}


def plain_state(values: Mapping[str, Any]) -> dict[str, Any]:
    """The state with its typed values as their wire dicts (what callers of the API read)."""
    plain = dict(values)
    if "recalled" in plain:
        plain["recalled"] = [item.wire() for item in recalled_of(plain["recalled"])]
    if "results" in plain:
        plain["results"] = [result.wire() for result in results_of(plain["results"])]
    if "completed" in plain:
        plain["completed"] = {k: v.wire() for k, v in completed_of(plain["completed"]).items()}
    return plain


class _OwnTypesAreDeclared(logging.Filter):
    """Drop LangGraph's "unregistered type" warning for the types of this module.

    In its default (permissive) mode LangGraph warns, once per type, on loading any type it
    has no allowlist entry for, saying such types will be blocked. Ours are declared in the
    state schema, which is what its strict mode allows types from, and a refused value is read
    back from its dict anyway; the warning would only alarm the users of the CLI and server.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not (
            str(record.msg).startswith("Deserializing unregistered type")
            and args[:1] == (__name__,)
        )


logging.getLogger("langgraph.checkpoint.serde.jsonplus").addFilter(_OwnTypesAreDeclared())
