"""Typed values of the graph state: validation, the wire shapes kept, and real SQLite checkpoints.

The state holds :class:`RecalledItem` and :class:`ToolResult`; :class:`TurnResult`, ``astate``
and the stream events still give the dicts they always gave. A checkpoint written by the
SQLite saver brings the typed values back; one written before they existed (dicts), or by a
saver that refuses our types, still resumes.
"""

from __future__ import annotations

import copy
import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiosqlite
import pytest
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from langgraph.types import Command
from pydantic import ValidationError

from confidante import Agent, InvalidInputError
from confidante.agent import TurnResult
from confidante.graphs.builder import GraphBuilder
from confidante.graphs.nodes import GraphDeps
from confidante.graphs.values import (
    ApprovalDecision,
    RecalledItem,
    ToolResult,
    plain_state,
    recalled_of,
    results_of,
)
from confidante.memory.items import MemoryHit
from confidante.memory.retrieval.candidates import NO_FILTERS, Filters
from confidante.memory.store import Memory
from confidante.models.scripted import ScriptedChatModel
from confidante.models.scripted_rules import default_reply
from confidante.settings import Settings
from confidante.tools.memory_tools import forget_tool, memory_tools

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
#: The keys of a recalled memory on the wire (``about`` only when it is about someone).
HIT_KEYS = [
    "id",
    "text",
    "key",
    "kind",
    "scope",
    "score",
    "provenance",
    "attributes",
    "importance",
    "created_at",
    "valid_from",
    "valid_to",
    "image_path",
    "subject_id",
    "expires_at",
]


# ----------------------------------------------------------------------------- validation
def test_a_recalled_item_needs_an_id_and_a_text_and_keeps_an_extensions_keys() -> None:
    with pytest.raises(ValidationError):
        RecalledItem.model_validate({"id": "x"})
    item = RecalledItem.model_validate({"id": "cal-0", "text": "Dentist at 9.", "source": "cal"})
    assert item.score == 0.0 and item.created_at is None and item["source"] == "cal"
    assert item["text"] == "Dentist at 9." and item.get("about") is None and item.get("no") is None
    with pytest.raises(KeyError):
        item["no"]
    with pytest.raises(ValidationError):
        item.text = "changed"  # type: ignore[misc]  # frozen: nodes share state values


def test_a_recalled_item_from_a_hit_is_the_hit_on_the_wire_plus_whom() -> None:
    hit = MemoryHit(id="m1", text="Biscuit is the user's dog.", created_at=WHEN, score=0.5)
    assert RecalledItem.from_hit(hit).wire() == hit.model_dump(mode="json")
    labeled = RecalledItem.from_hit(hit, about="Biscuit (the user's dog)").wire()
    assert list(labeled) == [*HIT_KEYS, "about"] and labeled["about"] == "Biscuit (the user's dog)"
    assert recalled_of([hit, labeled])[0] == RecalledItem.from_hit(hit)


def test_a_tool_result_is_checked_and_keeps_its_optional_keys_off_the_wire() -> None:
    with pytest.raises(ValidationError):
        ToolResult.model_validate({"tool": "x", "ok": True})
    with pytest.raises(ValidationError):
        ToolResult(tool="x", ok=True, output="y", decision="maybe")  # type: ignore[arg-type]
    plain = {"tool": "list_reminders", "ok": True, "output": "no reminders"}
    assert ToolResult.model_validate(plain).wire() == plain
    edited = {**plain, "decision": "edited", "arguments": {"when": None}}
    assert results_of([edited])[0].wire() == edited


def test_an_approval_decision_reads_every_wire_form_and_refuses_the_rest() -> None:
    assert ApprovalDecision.parse("approve").resume_value() == {"decision": "approve"}
    edit = ApprovalDecision.parse({"decision": "edit", "args": {"text": "x"}})
    assert edit.resume_value() == {"decision": "edit", "args": {"text": "x"}}
    assert ApprovalDecision.parse({"decision": "approve", "args": {"a": 1}}).resume_value() == {
        "decision": "approve"
    }
    for bad in ("maybe", {"decision": "edit"}, {"args": {}}, 3, None):
        with pytest.raises(InvalidInputError):
            ApprovalDecision.parse(bad)


def test_retrieval_filters_are_named_checked_and_frozen() -> None:
    filters = Filters(["fact", "reminder"], True, WHEN)
    assert filters.kinds == ("fact", "reminder") and filters.include_history
    assert filters.since == WHEN and filters.until is None and filters.include_history
    assert NO_FILTERS == Filters() == Filters(None, False, None, None)
    with pytest.raises(AttributeError):
        filters.kinds = None  # type: ignore[misc]
    with pytest.raises(InvalidInputError, match="kinds"):
        Filters("fact")  # one string would match kinds by substring
    with pytest.raises(InvalidInputError, match="since"):
        Filters(None, False, "yesterday")  # type: ignore[arg-type]


def test_retrieve_refuses_kinds_given_as_one_string(settings: Settings) -> None:
    memory = Memory.open(settings=settings)
    memory.remember("ana", "The user lives in Porto.")
    with pytest.raises(InvalidInputError, match="kinds"):
        memory.retrieve("ana", "where do I live?", kinds="fact")  # type: ignore[arg-type]
    assert memory.retrieve("ana", "where do I live?", kinds=["fact"])
    memory.close()


# ------------------------------------------------------------------------ the JSON shape
def test_a_turn_result_keeps_its_json_shape() -> None:
    """The literal shape callers and the HTTP API saw when the state held dicts."""
    dog = RecalledItem(
        id="m1",
        text="Biscuit is the user's dog.",
        key="relation",
        score=0.9,
        provenance=["e1"],
        created_at=WHEN,
        subject_id="s1",
        about="Biscuit (the user's dog)",
    )
    city = RecalledItem(id="m2", text="The user lives in Porto.", score=0.5, created_at=WHEN)
    results = [
        ToolResult(
            tool="add_reminder",
            ok=True,
            output="saved",
            decision="edited",
            arguments={"text": "y"},
        ),
        ToolResult(tool="list_reminders", ok=True, output="no reminders"),
    ]
    state: dict[str, Any] = {
        "reply": "Done.",
        "recalled": [dog, city],
        "used": ["m2"],
        "queries": ["remind me"],
        "remembered": [{"id": "r1", "key": None, "text": "The user accepted add_reminder."}],
        "route": "task",
        "plan": [{"tool": "add_reminder", "arguments": {"text": "x"}}],
        "results": results,
    }
    city_json = {
        "id": "m2",
        "text": "The user lives in Porto.",
        "key": None,
        "kind": "fact",
        "scope": "user",
        "score": 0.5,
        "provenance": [],
        "attributes": {},
        "importance": 0.5,
        "created_at": "2026-01-02T03:04:05Z",
        "valid_from": None,
        "valid_to": None,
        "image_path": None,
        "subject_id": None,
        "expires_at": None,
    }
    expected = {
        "reply": "Done.",
        "recalled": [
            {
                "id": "m1",
                "text": "Biscuit is the user's dog.",
                "key": "relation",
                "kind": "fact",
                "scope": "user",
                "score": 0.9,
                "provenance": ["e1"],
                "attributes": {},
                "importance": 0.5,
                "created_at": "2026-01-02T03:04:05Z",
                "valid_from": None,
                "valid_to": None,
                "image_path": None,
                "subject_id": "s1",
                "expires_at": None,
                "about": "Biscuit (the user's dog)",
            },
            city_json,
        ],
        "used": [city_json],
        "queries": ["remind me"],
        "remembered": [{"id": "r1", "key": None, "text": "The user accepted add_reminder."}],
        "route": "task",
        "plan": [{"tool": "add_reminder", "arguments": {"text": "x"}}],
        "results": [
            {
                "tool": "add_reminder",
                "ok": True,
                "output": "saved",
                "decision": "edited",
                "arguments": {"text": "y"},
            },
            {"tool": "list_reminders", "ok": True, "output": "no reminders"},
        ],
        "approvals": [],
        "withheld": [],
        "usage": {  # filled by the agent from the turn's model calls; none here
            "calls": 0,
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "total_tokens": 0,
            "seconds": 0.0,
            "unreported": 0,
            "by_kind": {},
        },
    }
    assert TurnResult.of(state, []).model_dump(mode="json") == expected
    as_dicts = plain_state(state)  # what a checkpoint written before the types holds
    assert TurnResult.of(as_dicts, []).model_dump(mode="json") == expected


def test_a_real_turn_gives_dicts_of_that_shape_everywhere(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    agent.turn("My dog is called Biscuit.")
    events = [data for kind, data in _stream(agent, "Who is Biscuit?") if kind == "custom"]
    result = agent.turn("Who is Biscuit?")
    assert result.recalled and all(isinstance(item, dict) for item in result.recalled)
    for item in result.recalled:
        assert list(item) == HIT_KEYS + (["about"] if item["subject_id"] else [])
    (recalled,) = [event for event in events if event["event"] == "recalled"]
    assert [item["id"] for item in recalled["items"]] == [item["id"] for item in result.recalled]
    assert all(type(item) is dict for item in recalled["items"])
    state = agent.state()
    assert state["recalled"] == result.recalled and type(state["recalled"][0]) is dict
    agent.close()


def _stream(agent: Agent, text: str) -> list[tuple[str, Any]]:
    from confidante._sync import run_sync

    async def collect() -> list[tuple[str, Any]]:
        return [pair async for pair in agent.astream(text)]

    return run_sync(collect())


# --------------------------------------------------------------- real SQLite checkpoints
def _two_reminders(payload: dict[str, Any]) -> Any:
    name = ((payload.get("response_format") or {}).get("json_schema") or {}).get("name")
    if name == "Plan":
        return {
            "steps": [
                {"tool": "add_reminder", "arguments": {"text": "feed Biscuit", "when": ""}},
                {"tool": "add_reminder", "arguments": {"text": "walk Biscuit", "when": ""}},
            ]
        }
    return default_reply(payload)


class _Graph:
    """The default graph on its own SQLite checkpoint file and saver (closed by ``close``)."""

    def __init__(self, memory: Memory, path: Path, serde: JsonPlusSerializer | None) -> None:
        self.memory, self.path, self.serde = memory, path, serde
        self.config: Any = {"configurable": {"thread_id": "t1", "user_id": "ana"}}

    async def open(self) -> Any:
        self.connection = await aiosqlite.connect(str(self.path))
        self.saver = AsyncSqliteSaver(self.connection, serde=self.serde)
        await self.saver.setup()
        tools = [*memory_tools(self.memory), forget_tool(self.memory)]
        model = ScriptedChatModel(function=_two_reminders)
        deps = GraphDeps(memory=self.memory, model=model, tools=tools)
        self.graph = GraphBuilder().build(deps, checkpointer=self.saver)
        return self.graph

    async def run(self, graph_input: Any) -> Any:
        return await self.graph.ainvoke(graph_input, config=self.config, durability="async")

    async def resume(self) -> Any:
        snapshot = await self.graph.aget_state(self.config)
        (pause,) = snapshot.interrupts
        return await self.run(Command(resume={pause.id: {"decision": "approve"}}))

    async def close(self) -> None:
        await self.connection.close()


def _ask() -> dict[str, Any]:
    from langchain_core.messages import HumanMessage

    return {"messages": [HumanMessage("Remind me to feed and walk Biscuit.")], "user_id": "ana"}


async def test_typed_values_round_trip_through_a_sqlite_checkpoint(
    settings: Settings, tmp_path: Path
) -> None:
    memory = Memory.open(settings=settings)
    await memory.aremember("ana", "Biscuit is the user's dog.")
    first = _Graph(memory, tmp_path / "checkpoints.db", None)
    await (await first.open()).ainvoke(_ask(), config=first.config, durability="async")
    await first.resume()  # the first reminder runs; the graph pauses before the second
    before = (await first.graph.aget_state(first.config)).values
    await first.close()

    second = _Graph(memory, tmp_path / "checkpoints.db", None)  # a new connection, a new saver
    graph = await second.open()
    after = (await graph.aget_state(second.config)).values
    assert after["recalled"] and all(isinstance(i, RecalledItem) for i in after["recalled"])
    assert all(isinstance(r, ToolResult) for r in after["results"])
    assert all(isinstance(r, ToolResult) for r in after["completed"].values())
    for field in ("recalled", "results", "completed"):
        assert after[field] == before[field]
    done = await second.resume()
    assert [(r.tool, r.decision) for r in done["results"]] == [
        ("add_reminder", "approved"),
        ("add_reminder", "approved"),
    ]
    await second.close()
    memory.close()


@pytest.mark.parametrize("written_as", ["dicts", "refused"])
async def test_a_checkpoint_holding_dicts_still_resumes(
    settings: Settings, tmp_path: Path, written_as: str
) -> None:
    """``dicts``: written before the types existed; ``refused``: a saver that blocks our types
    (LangGraph's strict msgpack without them) hands their fields back as dicts."""
    memory = Memory.open(settings=settings)
    await memory.aremember("ana", "Biscuit is the user's dog.")
    path = tmp_path / "checkpoints.db"
    strict = JsonPlusSerializer(allowed_msgpack_modules=None)
    runner = _Graph(memory, path, strict if written_as == "refused" else None)
    await runner.open()
    await runner.run(_ask())
    await runner.resume()  # paused before the second reminder, the first one done
    if written_as == "dicts":  # rewrite the checkpoint in place as the old code stored it
        stored = await runner.saver.aget_tuple(runner.config)
        assert stored is not None and stored.parent_config is not None
        checkpoint = copy.deepcopy(stored.checkpoint)
        checkpoint["channel_values"] = plain_state(checkpoint["channel_values"])
        await runner.saver.aput(stored.parent_config, checkpoint, stored.metadata, {})
    values = (await runner.graph.aget_state(runner.config)).values
    assert type(values["recalled"][0]) is dict and type(values["results"][0]) is dict
    assert all(type(r) is dict for r in values["completed"].values())

    done = await runner.resume()
    assert [r.wire() for r in results_of(done["results"])] == [
        {"tool": "add_reminder", "ok": True, "output": r.output, "decision": "approved"}
        for r in results_of(done["results"])
    ]
    assert len(done["results"]) == 2
    texts = [i.text for i in await memory.alist_items("ana", kinds=["reminder"])]
    assert sorted(texts) == ["Reminder: feed Biscuit", "Reminder: walk Biscuit"]  # once each
    turn = TurnResult.of(done, [])
    assert turn.recalled and turn.recalled[0]["text"] == "Biscuit is the user's dog."
    await runner.close()
    memory.close()


def test_langgraphs_unregistered_type_warning_is_dropped_for_our_types_only() -> None:
    """Our types are declared in the state schema; the CLI and server must not print it."""
    logger = logging.getLogger("langgraph.checkpoint.serde.jsonplus")
    message = "Deserializing unregistered type %s.%s from checkpoint. This will be blocked..."

    def record(module: str) -> logging.LogRecord:
        return logger.makeRecord(
            logger.name, logging.WARNING, __file__, 1, message, (module, "T", module, "T"), None
        )

    assert not all(f.filter(record("confidante.graphs.values")) for f in logger.filters)
    assert all(f.filter(record("someone.elses.module")) for f in logger.filters)
