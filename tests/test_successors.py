"""A question in the words of an ended fact reaches what replaced it, and only the user's own."""

from __future__ import annotations

import asyncio
from typing import Any

from confidante import Agent
from confidante.memory.items import MemoryItem
from confidante.memory.store import Memory
from confidante.models.scripted import ScriptedChatModel
from confidante.models.scripted_rules import default_reply
from confidante.settings import Settings

OLD = "The user volunteers on Tuesdays at the lighthouse museum."
ENDED = "The user stopped at the lighthouse museum."
NEW = "The user is doing Saturday mornings at the food bank now."


async def _changed(memory: Memory, user: str) -> tuple[str, list[str]]:
    old = await memory.aremember(user, OLD, provenance=["turn-1"])
    ids = await memory.aremember_many(
        user,
        [
            MemoryItem(text=ENDED, provenance=["turn-2"], replaces=[old]),
            MemoryItem(text=NEW, provenance=["turn-2"]),
            MemoryItem(text="The user likes tea.", provenance=["turn-3"]),
        ],
    )
    return old, ids


async def test_what_replaced_a_fact_comes_with_its_turn(settings: Settings) -> None:
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)
    old, (ended, new, tea) = await _changed(memory, "ana")
    found = await memory.asuccessors("ana", [old])
    assert [hit.id for hit in found] == [ended, new]  # not the tea of another turn
    assert await memory.asuccessors("ana", [tea]) == []  # still current: nothing replaced it
    # another user's id, or one that does not exist, reaches nothing
    assert await memory.asuccessors("bo", [old]) == []
    assert await memory.asuccessors("ana", ["nope", ""]) == []
    # a chain of changes is followed to what is current now
    newest = await memory.aremember_many(
        "ana", [MemoryItem(text="The user left the food bank.", replaces=[ended, new])]
    )
    assert [hit.id for hit in await memory.asuccessors("ana", [old])] == newest
    memory.close()


def test_a_question_in_the_old_words_recalls_the_new_value(settings: Settings) -> None:
    settings.ensure_dirs()
    settings.recall_k = 2  # the new value's own words would not reach the first two
    memory = Memory.open(settings=settings)

    def answer(payload: dict[str, Any]) -> Any:  # a small model that does not see it
        if payload.get("response_format") is None:
            return "I'm sorry, I don't have any information about where you volunteer."
        return default_reply(payload)

    asyncio.run(_changed(memory, "ana"))
    others = [
        "The user volunteered at the 2012 Olympics.",
        "The user's friend volunteers at the zoo.",
        "The user plays chess on Sundays.",
        "The user sings in a choir on Thursdays.",
    ]
    asyncio.run(memory.aremember_many("ana", others))
    asyncio.run(memory.aremember("bo", OLD))
    model = ScriptedChatModel(function=answer)
    agent = Agent("ana", settings=settings, model=model, memory=memory)
    result = agent.turn("where do I volunteer these days?")
    texts = [item["text"] for item in result.recalled]
    assert NEW in texts and OLD not in texts
    (new,) = [item for item in result.recalled if item["text"] == NEW]
    assert new["instead_of"] == OLD  # the prompt says what it replaced
    assert "You are doing Saturday mornings at the food bank now." in result.reply
    other = Agent("bo", settings=settings, model=model, memory=memory)
    assert NEW not in [item["text"] for item in other.turn("where do I volunteer?").recalled]
    agent.close()
    other.close()
    memory.close()


def test_a_replacement_retrieved_on_its_own_still_says_what_it_replaced(
    settings: Settings,
) -> None:
    """With few facts every current one is retrieved anyway: it must still be marked."""
    settings.ensure_dirs()
    memory = Memory.open(settings=settings)

    def answer(payload: dict[str, Any]) -> Any:
        if payload.get("response_format") is None:
            return "I don't know that: you haven't told me yet."
        return default_reply(payload)

    asyncio.run(_changed(memory, "ana"))
    agent = Agent("ana", settings=settings, model=ScriptedChatModel(function=answer), memory=memory)
    result = agent.turn("where do I volunteer these days?")
    marked = {item["text"] for item in result.recalled if item.get("instead_of") == OLD}
    assert NEW in marked
    assert "You are doing Saturday mornings at the food bank now." in result.reply
    agent.close()
    memory.close()
