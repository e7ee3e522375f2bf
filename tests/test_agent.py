"""End-to-end turns through the real graph, checkpointer and memory, on the scripted model."""

from __future__ import annotations

import sqlite3

from langchain_core.messages import AIMessage

from confidante import Agent
from confidante.memory.ingest.extraction import FactExtraction
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings


def test_facts_told_in_one_session_are_recalled_in_another(settings: Settings) -> None:
    first = Agent(user_id="ana", settings=settings, session_id="s1")
    told = first.turn("My dog is called Biscuit and I live in Lisbon.")
    assert {item["key"] for item in told.remembered} == {"relation", "home_city"}
    (dog,) = first.memory.subjects("ana")  # the dog is a subject of Ana's memory
    assert (dog.name, dog.relation, dog.kind) == ("Biscuit", "dog", "pet")
    first.close()

    second = Agent(user_id="ana", settings=settings, session_id="s2")
    result = second.turn("What is my dog called?")
    assert "Biscuit" in result.reply
    assert result.recalled[0]["text"] == "Biscuit is the user's dog."
    assert result.recalled[0]["about"] == "Biscuit (the user's dog)"
    assert result.recalled[0]["provenance"], "recalled memories carry their source turn"
    second.close()

    stranger = Agent(user_id="bob", settings=settings, session_id="s1")
    answer = stranger.chat("What is my dog called?")
    assert "Biscuit" not in answer
    stranger.close()


def test_a_move_supersedes_the_old_city_for_the_next_turn(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    agent.turn("I live in Lisbon.")
    agent.turn("I just moved to Porto.")
    result = agent.turn("Where do I live?")
    assert "Porto" in result.reply
    assert all("Lisbon" not in item["text"] for item in result.recalled)
    agent.close()


def test_an_edit_through_the_api_is_seen_by_the_next_turn(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    agent.turn("My dog is called Biscuit.")
    (item,) = agent.memory.list_items("ana")
    agent.memory.update("ana", item.id, text="The user's dog is called Cookie.")
    assert "Cookie" in agent.chat("What is my dog called?")
    agent.close()


def test_a_task_runs_tools_in_order_for_this_user(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    agent.turn("My dog is called Biscuit.")
    paused = agent.turn("Remind me to take my dog to the vet on Friday.")
    assert [approval.tool for approval in paused.approvals] == ["add_reminder"]
    assert agent.memory.list_items("ana", kinds=["reminder"]) == []
    result = agent.resume("approve")
    assert result.route == "task" and result.approvals == []
    assert [step["tool"] for step in result.plan] == ["search_memory", "add_reminder"]
    assert all(outcome["ok"] for outcome in result.results)
    assert "Biscuit" in result.results[0]["output"]
    reminders = agent.memory.list_items("ana", kinds=["reminder"])
    assert len(reminders) == 1 and "vet" in reminders[0].text
    assert agent.memory.list_items("bob") == []
    agent.close()


def test_a_failed_step_is_replanned(settings: Settings) -> None:
    model = ScriptedChatModel(
        responses=[
            {"steps": [{"tool": "search_memory", "arguments": {"query": ""}}]},
            {"steps": [{"tool": "list_reminders", "arguments": {}}]},
            "You have no reminders yet.",
            FactExtraction(facts=[]),
        ]
    )
    agent = Agent(user_id="ana", settings=settings, model=model)
    result = agent.turn("Show my reminders")
    assert result.plan == [{"tool": "list_reminders", "arguments": {}}]
    assert result.results == [{"tool": "list_reminders", "ok": True, "output": "no reminders"}]
    assert result.reply == "You have no reminders yet."
    assert "previous plan failed" in model.calls[1]["messages"][0]["content"]
    agent.close()


def test_model_failure_ends_the_turn_and_keeps_the_raw_message(settings: Settings) -> None:
    model = ScriptedChatModel(responses=[TimeoutError("model timed out"), "not json at all", "{}"])
    agent = Agent(user_id="ana", settings=settings, model=model)
    result = agent.turn("My cat is called Tom.")
    assert "could not produce an answer" in result.reply
    connection = sqlite3.connect(settings.data_dir / "confidante.db")
    rows = connection.execute("SELECT text, extraction, error FROM events").fetchall()
    assert rows[0][0] == "My cat is called Tom."
    assert rows[0][1] == "failed" and "FactExtraction" in rows[0][2]
    agent.close()


def test_invented_facts_are_not_stored(settings: Settings) -> None:
    model = ScriptedChatModel(
        responses=[
            "Nice!",
            {"facts": ["The user's cat is called Tom.", "It is sunny.", "The user lives in Oslo."]},
        ]
    )
    agent = Agent(user_id="ana", settings=settings, model=model)
    result = agent.turn("My cat is called Tom.")
    # "It is sunny." (read as Tom's) and the city were never said: neither is stored
    assert [item["text"] for item in result.remembered] == [
        "The user's cat is called Tom.",
        "Tom is the user's cat.",
    ]
    agent.close()


def test_the_conversation_thread_is_checkpointed(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings, session_id="kitchen")
    agent.chat("Hello there.")
    agent.close()
    again = Agent(user_id="ana", settings=settings, session_id="kitchen")
    model = again.model
    assert isinstance(model, ScriptedChatModel)
    again.chat("And hello again.")
    reply_prompt = [call for call in model.calls if "response_format" not in call][-1]
    contents = [message["content"] for message in reply_prompt["messages"]]
    assert "Hello there." in contents and "And hello again." in contents
    again.close()


def test_a_long_session_keeps_a_window_of_messages_in_its_state(settings: Settings) -> None:
    settings = settings.model_copy(update={"session_window": 6})
    agent = Agent(user_id="ana", settings=settings, session_id="long")
    said = [f"Message number {n} about nothing." for n in range(8)]
    for text in said:
        agent.chat(text)
    messages = agent.state()["messages"]
    assert len(messages) == 6, "16 messages were exchanged; the state keeps the last 6"
    assert [m.content for m in messages[::2]] == said[-3:]
    assert isinstance(messages[-1], AIMessage)
    model = agent.model
    assert isinstance(model, ScriptedChatModel)
    agent.chat("And one more.")  # the reply prompt still carries the recent conversation
    reply_prompt = [call for call in model.calls if "response_format" not in call][-1]
    contents = [message["content"] for message in reply_prompt["messages"]]
    assert said[-1] in contents and "And one more." in contents
    events = agent.memory.events("ana")  # the user's words are all in the event log
    assert {text for text in said} <= {event.text for event in events}
    agent.close()


def test_forget_user_removes_memory_and_checkpoints(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    agent.turn("My dog is called Biscuit.")
    other = Agent(user_id="bob", settings=settings)
    other.turn("My cat is called Tom.")
    counts = agent.forget_user()
    assert counts["checkpoint_threads"] == 1 and counts["concepts"] == 1
    connection = sqlite3.connect(settings.checkpoint_path)
    blob = b"".join(row[0] for row in connection.execute("SELECT checkpoint FROM checkpoints"))
    assert b"Biscuit" not in blob and b"Tom" in blob
    assert Agent(user_id="bob", settings=settings).memory.list_items("bob")
    agent.close()
    other.close()


async def test_async_chat_and_stream(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    assert await agent.achat("My dog is called Biscuit.") == "Thanks, I will remember that."
    seen = []
    async for mode, chunk in agent.astream("What is my dog called?"):
        seen.append((mode, chunk))
    events = [chunk["event"] for mode, chunk in seen if mode == "custom"]
    assert events[0] == "recalled" and events[-1] == "remembered"
    nodes = [next(iter(chunk)) for mode, chunk in seen if mode == "updates"]
    # two graph steps: route beside recall, remember beside respond (graphs/parallel.py)
    assert set(nodes[:2]) == {"recall", "route"} and set(nodes[2:]) == {"respond", "remember"}
    await agent.aclose()


def test_scripted_model_records_tool_calls_as_messages() -> None:
    model = ScriptedChatModel(
        responses=[AIMessage("", tool_calls=[{"name": "x", "args": {"a": 1}, "id": "c1"}])]
    )
    message = model.invoke("hi")
    assert message.tool_calls[0]["name"] == "x" and message.tool_calls[0]["args"] == {"a": 1}


def test_background_extraction_does_not_block_the_reply(settings: Settings) -> None:
    import threading

    release = threading.Event()

    def slow_model(payload: dict) -> object:
        name = (payload.get("response_format") or {}).get("json_schema", {}).get("name")
        if name == "FactExtraction":
            assert release.wait(timeout=30), "extraction was awaited by the turn"
        from confidante.models.scripted_rules import default_reply

        return default_reply(payload)

    agent = Agent(
        user_id="ana",
        settings=settings,
        model=ScriptedChatModel(function=slow_model),
        background_extraction=True,
    )
    result = agent.turn("My dog is called Biscuit.")  # returns while extraction waits
    assert result.reply == "Thanks, I will remember that." and result.remembered == []
    assert agent.memory.list_items("ana") == []
    release.set()
    agent.flush()
    assert [item.text for item in agent.memory.list_items("ana")] == ["Biscuit is the user's dog."]
    agent.close()


def test_failed_extractions_are_recorded_and_retried(settings: Settings) -> None:
    model = ScriptedChatModel(responses=["Nice.", "not json", "still not json"])
    agent = Agent(user_id="ana", settings=settings, model=model)
    agent.turn("My cat is called Tom.")
    (event,) = agent.memory.events("ana", extraction=["failed"])
    assert event.text == "My cat is called Tom." and "FactExtraction" in (event.error or "")
    assert agent.retry_extractions() == 1  # the scripted rules now extract it
    assert agent.memory.events("ana", extraction=["failed"]) == []
    assert [item.text for item in agent.memory.list_items("ana")] == ["Tom is the user's cat."]
    agent.close()


def test_turns_left_pending_by_a_dead_process_are_learned_from_later(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings, model=ScriptedChatModel())
    agent.memory.record_event("ana", "user", "My cat is called Tom.")  # never processed
    assert agent.retry_extractions() == 0  # too recent: another process may be on it
    assert agent.retry_extractions(stale_after_s=0) == 1
    assert agent.memory.events("ana", extraction=["pending"]) == []
    assert [item.text for item in agent.memory.list_items("ana")] == ["Tom is the user's cat."]
    agent.close()
