"""What summaries may state (the user's own statements only) and which summary a turn carries."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np
import pytest

from confidante import Agent
from confidante.memory.store import Memory
from confidante.memory.summaries.facts import (
    diverse,
    drop_repeats,
    own_statements,
    pick_summary,
    task_for_message,
)
from confidante.memory.summaries.generate import generate_summary
from confidante.memory.summaries.job import SummaryJob
from confidante.memory.summaries.store import read_summaries
from confidante.memory.summaries.tasks import TASKS, summary_schema
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings

OWN = ["The user likes green tea.", "The user loves hiking.", "The user's cat is called Greta."]
OTHERS = [
    "Bruno lives in Rome and likes jazz.",
    "Carla loves sushi.",
    "Greta recommended a book about opera.",
    "The user met Bruno in Rome to talk about chess.",
    "The user wants to try surfing with Carla next month.",
]
#: Words that only the memories about other people contain.
NOT_THE_USERS = ("jazz", "sushi", "opera", "chess", "surfing", "Bruno", "Carla", "Rome")


@pytest.mark.parametrize(
    ("message", "task"),
    [
        ("What kind of food do I like?", "recommendation"),
        ("Summarise my travel habits.", "recommendation"),
        ("Can you recommend a film for tonight?", "recommendation"),
        ("Draw me a picture of a lighthouse.", "image"),
        ("Search the news about Lisbon.", "search"),
        ("What is my name?", "chat"),
        ("Hello there.", "chat"),
    ],
)
def test_the_task_follows_the_message(message: str, task: str) -> None:
    assert task_for_message(message) == task


def test_own_statements_leave_out_other_people() -> None:
    mine = ["The user listens to Nina Simone a lot.", "The user's name is Carla."]
    kept = own_statements([*OTHERS, *OWN, *mine, "The user likes green tea."])
    # Greta and Carla are people the memories know, but here they are names of the user's own
    assert kept == [*OWN, *mine, "The user likes green tea."]


def test_statements_cut_from_one_mould_do_not_crowd_out_the_others() -> None:
    query = np.array([1.0, 0.0, 0.0], dtype=np.float32)
    mould = [[0.9, 0.43, 0.0], [0.9, 0.42, 0.1], [0.9, 0.41, -0.1], [0.9, 0.44, 0.05]]
    others = [[0.6, 0.0, 0.8], [0.6, -0.8, 0.0]]
    rows = np.array(mould + others, dtype=np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    picked = diverse(rows, query, 3)
    assert picked[0] in range(4), "the most relevant comes first"
    assert sorted(picked[1:]) == [4, 5], "then the unlike ones, before more of the mould"
    assert diverse(rows, query, 3, novelty=0.0) == [2, 0, 1], "no novelty: by relevance"
    assert diverse(rows[:0], query, 3) == []


def test_repeated_sentences_are_dropped() -> None:
    text = "The user likes tea. The user likes  tea. the user likes tea! The user swims."
    assert drop_repeats(text) == "The user likes tea. The user swims."


def test_no_summary_attributes_another_persons_facts_to_the_user(memory: Memory) -> None:
    for text in [*OTHERS, *OWN]:
        memory.remember("ana", text)
    model = ScriptedChatModel()
    report = SummaryJob(memory, model, users=["ana"]).run()
    assert report.totals()["generated"] == len(TASKS)
    for call in model.calls:  # the model never sees what was said about someone else
        prompt = "\n".join(str(message.get("content") or "") for message in call["messages"])
        assert not [word for word in NOT_THE_USERS if word in prompt], prompt
    for task in TASKS:
        view = memory.summary("ana", task)
        assert view is not None
        assert all(fact.removesuffix(".").split()[-1] in view.text for fact in OWN), view.text
        assert not [word for word in NOT_THE_USERS if word in view.text], view.text


def test_a_model_repeating_itself_is_stored_once(memory: Memory) -> None:
    memory.remember("ana", "The user likes green tea.")
    looping = {"summary": "The user likes green tea. The user likes green tea."}
    view = asyncio.run(
        generate_summary(memory, ScriptedChatModel(responses=[looping]), "ana", "chat")
    )
    assert view is not None and view.text == "The user likes green tea."


def test_the_recommendation_summary_has_a_larger_bounded_cap(memory: Memory) -> None:
    assert summary_schema("chat").model_json_schema()["properties"]["summary"]["maxLength"] == 480
    cap = summary_schema("recommendation").model_json_schema()["properties"]["summary"]
    assert summary_schema("recommendation").__name__ == "UserSummary"
    dishes = [f"dish number {n} with a long descriptive name" for n in range(40)]
    memory.remember_many("ana", [f"The user loves {dish}." for dish in dishes])
    model = ScriptedChatModel()
    chat = asyncio.run(generate_summary(memory, model, "ana", "chat"))
    taste = asyncio.run(generate_summary(memory, model, "ana", "recommendation"))
    assert chat is not None and taste is not None
    assert len(chat.text) <= 480 < len(taste.text) <= cap["maxLength"] == 1_200


def test_the_reply_carries_the_summary_of_the_messages_task(settings: Settings) -> None:
    model = ScriptedChatModel()
    agent = Agent(user_id="ana", settings=settings, model=model)
    for text in OWN:
        agent.memory.remember("ana", text)

    def reply_prompt() -> str:
        replies = [call for call in model.calls if not call.get("response_format")]
        return str(replies[-1]["messages"][0]["content"])

    def write(task: str, text: str) -> None:
        writer = ScriptedChatModel(responses=[{"summary": text}])
        SummaryJob(agent.memory, writer, users=["ana"], tasks=[task]).run()

    write("chat", "The user's cat is called Greta.")
    agent.turn("What food do I like?")  # no recommendation summary yet: the chat one
    assert "in short: The user's cat is called Greta." in reply_prompt()
    write("recommendation", "The user loves hiking and likes green tea.")
    agent.turn("What food do I like?")
    assert "in short: The user loves hiking and likes green tea." in reply_prompt()
    assert "Greta" not in reply_prompt().split("What you remember")[0]
    agent.turn("Hello again.")
    assert "in short: The user's cat is called Greta." in reply_prompt()
    picked: Any = asyncio.run(pick_summary(agent.memory, "ana", "Any hobby ideas?"))
    assert picked == ("recommendation", "The user loves hiking and likes green tea.")
    agent.close()


def test_summaries_read_together_keep_their_own_watermarks(memory: Memory) -> None:
    for text in OWN:
        memory.remember("ana", text)
    model = ScriptedChatModel()
    memory.record_event("ana", "user", "Find news about the Lisbon marathon.")
    for task in ("chat", "search"):
        asyncio.run(generate_summary(memory, model, "ana", task))
    both = asyncio.run(read_summaries(memory.database, "ana", ["search", "chat"]))
    assert set(both) == {"search", "chat"}
    assert not both["search"].stale and not both["chat"].stale
    memory.record_event("ana", "user", "And the weather there?")  # a message: search only
    both = asyncio.run(read_summaries(memory.database, "ana", ["search", "chat"]))
    assert both["search"].stale and both["search"].usable
    assert not both["chat"].stale, "the chat summary does not read messages"
    assert asyncio.run(read_summaries(memory.database, "bob", ["search", "chat"])) == {}
    picked = asyncio.run(pick_summary(memory, "ana", "Search the web for marathon news."))
    assert picked == ("search", both["search"].text)
