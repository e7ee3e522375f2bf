"""Human in the loop: side-effecting tools pause the graph; approve, edit or reject resumes it."""

from __future__ import annotations

import pytest

from confidante import Agent, InvalidInputError
from confidante.agent import Approval
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings

REQUEST = "Remind me to water the plants on Sunday."


def reminders(agent: Agent, user: str = "ana") -> list[str]:
    return [item.text for item in agent.memory.list_items(user, kinds=["reminder"])]


def test_a_side_effect_waits_for_approval_then_runs(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings, session_id="s1")
    paused = agent.turn(REQUEST)
    (approval,) = paused.approvals
    assert isinstance(approval, Approval)
    assert approval.tool == "add_reminder" and approval.session_id == "s1"
    assert approval.args == {"text": "water the plants on Sunday", "when": ""}
    assert "approval" in paused.reply and reminders(agent) == []
    assert agent.pending() == [approval]
    done = agent.resume("approve")
    assert done.approvals == [] and agent.pending() == []
    assert done.results[-1]["decision"] == "approved" and done.results[-1]["ok"]
    assert reminders(agent) == ["Reminder: water the plants on Sunday"]
    assert "saved reminder" in done.reply
    agent.close()


def test_a_rejected_call_is_not_run_and_the_reply_says_so(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    agent.turn(REQUEST)
    done = agent.resume("reject")
    assert reminders(agent) == []
    assert done.results == [
        {
            "tool": "add_reminder",
            "ok": False,
            "output": "the user rejected this call",
            "decision": "rejected",
        }
    ]
    assert "REJECTED" in done.reply and done.approvals == []
    (outcome,) = agent.memory.list_items("ana", kinds=["tool_outcome"])
    assert outcome.text.startswith("The user declined add reminder (")
    assert outcome.attributes["decision"] == "rejected"
    assert [item["text"] for item in done.remembered] == [outcome.text]
    assert done.plan and len([r for r in done.results if r["tool"] == "add_reminder"]) == 1
    agent.close()


def test_an_edited_call_runs_with_the_new_arguments(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    agent.turn(REQUEST)
    done = agent.resume("edit", args={"text": "water the cactus", "when": "Monday"})
    assert reminders(agent) == ["Reminder: water the cactus (Monday)"]
    assert done.results[-1]["decision"] == "edited"
    assert done.results[-1]["arguments"] == {"text": "water the cactus", "when": "Monday"}
    agent.close()


def test_bad_decisions_are_refused(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    with pytest.raises(InvalidInputError, match="nothing is waiting"):
        agent.resume("approve")
    agent.turn(REQUEST)
    with pytest.raises(InvalidInputError, match="decision"):
        agent.resume("maybe")  # type: ignore[arg-type]
    with pytest.raises(InvalidInputError, match="args"):
        agent.resume("edit")
    assert len(agent.pending()) == 1  # still waiting
    agent.close()


def test_approvals_are_per_user_and_per_session(settings: Settings) -> None:
    ana = Agent(user_id="ana", settings=settings, session_id="s1")
    bob = Agent(user_id="bob", settings=settings, session_id="s1")
    ana.turn(REQUEST)
    assert bob.pending() == [] and ana.pending(session_id="other") == []
    with pytest.raises(InvalidInputError):
        bob.resume("approve")
    ana.resume("approve")
    assert reminders(ana) and reminders(bob, "bob") == []
    ana.close()
    bob.close()


def test_a_rejection_does_not_stop_later_steps(settings: Settings) -> None:
    model = ScriptedChatModel(
        responses=[
            {
                "steps": [
                    {"tool": "add_reminder", "arguments": {"text": "call mum", "when": ""}},
                    {"tool": "list_reminders", "arguments": {}},
                ]
            },
        ]
    )
    agent = Agent(user_id="ana", settings=settings, model=model)
    agent.turn("Remind me to call mum and show my reminders.")
    done = agent.resume("reject")
    assert [r["tool"] for r in done.results] == ["add_reminder", "list_reminders"]
    assert done.results[1] == {"tool": "list_reminders", "ok": True, "output": "no reminders"}
    assert model.calls[-1]["messages"][0]["content"].count("Results:") == 1
    agent.close()


async def test_streaming_a_pause_and_its_resumption(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    first = [item async for item in agent.astream(REQUEST)]
    approvals = [data for kind, data in first if kind == "approval"]
    assert [a.tool for a in approvals] == ["add_reminder"]
    assert not [data for kind, data in first if kind == "token"]
    second = [item async for item in agent.astream(resume={"decision": "approve"})]
    tools = [data for kind, data in second if kind == "custom" and data["event"] == "tool"]
    assert tools[0]["tool"] == "add_reminder" and tools[0]["decision"] == "approved"
    tokens = "".join(data["text"] for kind, data in second if kind == "token")
    assert "saved reminder" in tokens
    assert await agent.apending() == []
    await agent.aclose()


def test_a_new_message_abandons_a_paused_call(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    agent.turn(REQUEST)
    result = agent.turn("My dog is called Biscuit.")
    assert result.approvals == [] and agent.pending() == []
    assert reminders(agent) == []
    assert [item["key"] for item in result.remembered] == ["relation"]
    agent.close()


async def test_forgetting_asks_first_and_streams_a_forgotten_event(settings: Settings) -> None:
    steps = [{"tool": "forget_memory", "arguments": {"what": "my dog"}}]
    model = ScriptedChatModel(responses=[{"steps": steps}])
    agent = Agent(user_id="ana", settings=settings, model=model)
    agent.memory.remember("ana", "The user's dog is called Biscuit.", key="dog_name")
    agent.memory.remember("bob", "The user's dog is called Rex.", key="dog_name")
    events = [item async for item in agent.astream("Forget my dog.")]
    assert [data.tool for kind, data in events if kind == "approval"] == ["forget_memory"]
    assert len(await agent.memory.alist_items("ana")) == 1
    resumed = [item async for item in agent.astream(resume={"decision": "approve"})]
    forgotten = [d for k, d in resumed if k == "custom" and d["event"] == "forgotten"]
    assert [item["text"] for item in forgotten[0]["items"]] == ["The user's dog is called Biscuit."]
    assert await agent.memory.alist_items("ana", kinds=["fact"]) == []
    assert len(await agent.memory.alist_items("bob")) == 1
    await agent.aclose()


def test_decisions_are_kept_in_plain_words_and_out_of_recall(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    agent.chat("My dog is called Biscuit.")
    agent.turn("Remind me to take my dog to the vet on Friday.")
    agent.resume("reject")
    (outcome,) = agent.memory.list_items("ana", kinds=["tool_outcome"])
    assert "{" not in outcome.text and "take my dog to the vet" in outcome.text
    asked = agent.turn("What is my dog called?")
    assert [item["kind"] for item in asked.recalled if item["kind"] == "tool_outcome"] == []
    assert "Biscuit" in asked.reply and "declined" not in asked.reply
    assert outcome.id not in {h.id for h in agent.memory.retrieve("ana", "dog vet", k=10)}
    asked_for = agent.memory.retrieve("ana", "dog vet", k=10, kinds=["tool_outcome"])
    assert [hit.id for hit in asked_for] == [outcome.id]  # still there when asked for by kind
    agent.close()


def test_summaries_leave_decisions_out(settings: Settings) -> None:
    import asyncio

    from confidante.memory.summaries.generate import collect_context

    agent = Agent(user_id="ana", settings=settings)
    agent.chat("I live in Lisbon.")
    agent.turn("Remind me to take my dog to the vet on Friday.")
    agent.resume("reject")
    statements, _ = asyncio.run(collect_context(agent.memory, "ana", "chat"))
    assert statements == ["The user lives in Lisbon."]
    assert not [s for s in statements if "declined" in s or "add reminder" in s]
    agent.close()
