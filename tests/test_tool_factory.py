"""The side-effect flag: set by one factory, read by one helper, wherever a tool comes from."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import StructuredTool

from confidante.graphs import act
from confidante.graphs.builder import GraphBuilder, as_tool
from confidante.memory.store import Memory
from confidante.settings import Settings
from confidante.tools import memory_tools as memory_tools_module
from confidante.tools.factory import SIDE_EFFECT, has_side_effect, make_tool, mark_side_effect
from confidante.tools.memory_tools import forget_tool, memory_tools
from confidante.tools.recommend.tools import recommend_tools


async def book_table(people: int, config: RunnableConfig) -> str:
    """Book a table for the user."""
    return f"booked for {people}"


def lookup(word: str) -> str:
    """Look a word up."""
    return word.upper()


def test_the_factory_sets_the_flag_and_the_helper_reads_it() -> None:
    booking = make_tool(book_table, side_effect=True)
    reading = make_tool(lookup)
    assert booking.name == "book_table" and booking.description == "Book a table for the user."
    assert booking.metadata == {SIDE_EFFECT: True} and has_side_effect(booking)
    assert not has_side_effect(reading) and not has_side_effect(None)
    assert reading.invoke({"word": "tea"}) == "TEA"
    named = make_tool(lookup, name="define", description="Define a word.", side_effect=True)
    assert (named.name, named.description, has_side_effect(named)) == (
        "define",
        "Define a word.",
        True,
    )


def test_marking_keeps_other_metadata_and_leaves_the_original_alone() -> None:
    tool = StructuredTool.from_function(func=lookup, metadata={"owner": "me"})
    marked = mark_side_effect(tool)
    assert marked.metadata == {"owner": "me", SIDE_EFFECT: True} and has_side_effect(marked)
    assert tool.metadata == {"owner": "me"} and not has_side_effect(tool)


def test_a_developers_raw_metadata_still_counts() -> None:
    raw = StructuredTool.from_function(func=lookup, metadata={"side_effect": True})
    assert has_side_effect(raw) and act.has_side_effect(raw)
    assert not has_side_effect(StructuredTool.from_function(func=lookup, metadata={}))


def test_add_tool_marks_functions_and_tools_and_keeps_routing_examples() -> None:
    builder = GraphBuilder().add_tool(book_table, side_effect=True, routing_examples=["book"])
    builder.add_tool(StructuredTool.from_function(func=lookup), side_effect=True)
    builder.add_tool(lookup)
    booked, marked, plain = builder.tools
    assert has_side_effect(booked) and booked.metadata is not None
    assert booked.metadata["routing_examples"] == ["book"]
    assert has_side_effect(marked) and not has_side_effect(plain)
    assert has_side_effect(as_tool(lookup, side_effect=True))


def test_the_built_in_tools_with_effects_are_marked(settings: Settings) -> None:
    memory = Memory.open(settings=settings)
    tools = [*memory_tools(memory), forget_tool(memory), *recommend_tools(object())]  # type: ignore[arg-type]
    assert {tool.name: has_side_effect(tool) for tool in tools} == {
        "search_memory": False,
        "add_reminder": True,
        "list_reminders": False,
        "forget_memory": True,
        "recommend": False,
        "recommendation_feedback": True,
    }
    memory.close()


def test_the_plan_runs_each_side_effect_as_its_own_step() -> None:
    tools = {t.name: t for t in (make_tool(lookup), make_tool(book_table, side_effect=True))}
    plan = [{"tool": "lookup"}, {"tool": "lookup"}, {"tool": "book_table"}, {"tool": "lookup"}]
    assert act.next_batch(plan, 0, tools) == 2 and act.next_batch(plan, 2, tools) == 3


async def test_forget_memory_forgets_every_memory_that_says_what_was_named(
    memory: Memory, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[dict[str, Any]] = []
    monkeypatch.setattr(memory_tools_module, "emit", events.append)  # outside a graph run
    said = "Jordan's ex showed up at 2am drunk last night."
    turn = await memory.aobserve("u", said, speaker="user")
    fact = await memory.aremember("u", "Jordan's ex showed up drunk at 2am.")
    kept = await memory.aremember("u", "Jordan is hardcore vegan.")
    other = await memory.aremember("v", "Jordan's ex showed up drunk at 2am.")
    forget = forget_tool(memory)
    config = {"configurable": {"user_id": "u"}}
    out = await forget.ainvoke({"what": "what I told you about Jordan's ex"}, config=config)
    assert out.startswith("forgot: ")
    assert len(events[0]["items"]) == 2  # the turn and the fact
    left = {item.id for item in await memory.alist_items("u", include_history=True)}
    assert fact not in left and kept in left
    assert not any(turn_id in left for turn_id in ([turn] if isinstance(turn, str) else turn))
    assert other in {item.id for item in await memory.alist_items("v")}  # another user's stays
    nothing = await forget.ainvoke({"what": "my cat's vet"}, config=config)
    assert nothing.startswith("nothing about")
