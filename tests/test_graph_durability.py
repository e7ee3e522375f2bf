"""Crash and resume: a task killed mid-way resumes from its checkpoint, side effects run once."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from confidante import Agent
from confidante._sync import run_sync
from confidante.agent import thread_id_for
from confidante.graphs.builder import GraphBuilder
from confidante.settings import Settings

CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    from pathlib import Path
    from confidante import Agent
    from confidante.graphs.builder import GraphBuilder
    from confidante.models.scripted import ScriptedChatModel
    from confidante.models.scripted_rules import default_reply

    phase, workdir = sys.argv[1], Path(sys.argv[2])

    def send_note(text: str) -> str:
        \"\"\"Send a note to the user's phone.\"\"\"
        with open(workdir / "sent.txt", "a") as sent:
            sent.write(text + "\\n")
        return "sent"

    def wait_for_delivery(text: str) -> str:
        \"\"\"Wait until the note is delivered.\"\"\"
        (workdir / "waiting").touch()
        if phase == "start":
            time.sleep(600)  # the test kills the process here
        return "delivered"

    def script(payload):
        name = ((payload.get("response_format") or {}).get("json_schema") or {}).get("name")
        if name == "Plan":
            steps = [
                {"tool": "send_note", "arguments": {"text": "buy milk"}},
                {"tool": "wait_for_delivery", "arguments": {"text": "buy milk"}},
            ]
            return {"steps": steps}
        return default_reply(payload)

    notes = ["send me a note to call the bank", "send a note to my phone: dentist at 3",
             "text me a note about the keys", "send a note saying pick up the kids",
             "push a note to my phone to water the plants"]
    builder = (
        GraphBuilder()
        .add_tool(send_note, side_effect=True, routing_examples=notes)
        .add_tool(wait_for_delivery)
    )
    agent = Agent("ana", model=ScriptedChatModel(function=script), graph=builder)
    if phase == "start":
        paused = agent.turn("Send me a note to buy milk.")
        assert [a.tool for a in paused.approvals] == ["send_note"], paused
        agent.resume("approve")
        raise SystemExit("the task should have been killed")
    result = agent.resume_task()
    print(json.dumps(None if result is None else result.model_dump(mode="json")))
    agent.close()
    """
)


def test_a_killed_task_resumes_without_repeating_its_side_effect(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    script = tmp_path / "child.py"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), "start", str(tmp_path)],
        env=cli_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (tmp_path / "waiting").exists():
        assert child.poll() is None, child.communicate()[1][-3000:]
        assert time.monotonic() < deadline, "the task never reached its second step"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.returncode == -signal.SIGKILL
    assert (tmp_path / "sent.txt").read_text() == "buy milk\n"

    resumed = subprocess.run(
        [sys.executable, str(script), "resume", str(tmp_path)],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    result = json.loads(resumed.stdout.strip().splitlines()[-1])
    assert (tmp_path / "sent.txt").read_text() == "buy milk\n", "the note was sent twice"
    assert [(r["tool"], r["ok"]) for r in result["results"]] == [
        ("send_note", True),
        ("wait_for_delivery", True),
    ]
    assert result["results"][0]["decision"] == "approved"
    assert "delivered" in result["reply"] and result["approvals"] == []

    again = subprocess.run(
        [sys.executable, str(script), "resume", str(tmp_path)],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.stdout.strip().splitlines()[-1] == "null"  # nothing left to resume


def test_a_pause_survives_the_process(settings: Settings) -> None:
    first = Agent(user_id="ana", settings=settings)
    first.turn("Remind me to feed the cat.")
    first.close()
    second = Agent(user_id="ana", settings=settings)
    (approval,) = second.pending()
    assert second.resume_task() is not None and second.pending() == [approval]
    done = second.resume("approve")
    assert done.results[-1]["ok"] and second.resume_task() is None
    assert len(second.memory.list_items("ana", kinds=["reminder"])) == 1
    second.close()


def test_a_replanned_task_does_not_repeat_a_completed_side_effect(
    settings: Settings, tmp_path: Path
) -> None:
    sent: list[str] = []
    calls = {"lookup": 0}

    def send_note(text: str) -> str:
        """Send a note."""
        sent.append(text)
        return "sent"

    def lookup(query: str) -> str:
        """Look something up (fails the first time)."""
        calls["lookup"] += 1
        if calls["lookup"] == 1:
            raise RuntimeError("service unavailable")
        return "found"

    from confidante.models.scripted import ScriptedChatModel

    steps = [
        {"tool": "send_note", "arguments": {"text": "hi"}},
        {"tool": "lookup", "arguments": {"query": "x"}},
    ]
    model = ScriptedChatModel(responses=[{"steps": steps}, {"steps": steps}])
    notes = ["send a note to the team", "send a note and check it arrived", "send a quick note"]
    builder = (
        GraphBuilder()
        .add_tool(send_note, side_effect=True, routing_examples=notes)
        .add_tool(lookup)
    )
    agent = Agent(user_id="ana", settings=settings, model=model, graph=builder)
    agent.turn("Send a note and look it up.")
    result = agent.resume("approve")  # the lookup fails, the plan is made again
    assert result.approvals == [], "the same approved call is not asked for twice"
    assert sent == ["hi"] and calls["lookup"] == 2
    assert [(r["tool"], r["ok"]) for r in result.results] == [("send_note", True), ("lookup", True)]
    agent.close()


def test_checkpoints_live_in_postgresql_when_the_memory_does(
    settings: Settings, postgres_admin_url: str
) -> None:
    from conftest import fresh_postgres_database

    with fresh_postgres_database(postgres_admin_url) as url:
        on_pg = settings.model_copy(update={"database_url": url})
        first = Agent(user_id="ana", settings=on_pg)
        first.turn("Remind me to feed the cat.")
        first.close()
        second = Agent(user_id="ana", settings=on_pg)
        assert second._graphs.open == []  # opened by the first call
        assert [a.tool for a in second.pending()] == ["add_reminder"]
        assert [opened.backend for opened in second._graphs.open] == ["postgresql"]
        second.resume("approve")
        assert not settings.checkpoint_path.exists()
        bob = Agent(user_id="bob", settings=on_pg)
        bob.chat("Hello.")
        counts = second.forget_user()
        assert counts["checkpoint_threads"] == 1
        threads = run_sync(second._graphs.open[0].athreads())
        assert threads == [thread_id_for("bob", "default")]
        assert bob.pending() == [] and second.pending() == []
        bob.close()
        second.close()
