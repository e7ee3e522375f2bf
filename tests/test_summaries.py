"""Offline task-aware summaries: generation, staleness, the batch job, isolation, run-time use."""

from __future__ import annotations

import asyncio
import io
import json
import subprocess
import sys
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sqlmodel import select
from typer.testing import CliRunner

from confidante import Agent
from confidante.cli.app import app
from confidante.cli.progress import progress
from confidante.memory.storage.database import Database
from confidante.memory.storage.records import Summary, UserRecord
from confidante.memory.store import Memory
from confidante.memory.summaries.generate import generate_summary, keep_grounded
from confidante.memory.summaries.job import SummaryJob, claim_user
from confidante.memory.summaries.store import Watermark
from confidante.memory.summaries.tasks import TASKS
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings

ANA = ["The user's dog is called Biscuit.", "The user likes hiking."]
BOB = ["The user lives in Porto.", "The user likes jazz."]


class Crash(Exception):
    """Stands for the job being killed."""


def schema_name(call: dict[str, Any]) -> str | None:
    return ((call.get("response_format") or {}).get("json_schema") or {}).get("name")


def prompt_text(call: dict[str, Any]) -> str:
    return "\n".join(str(message.get("content") or "") for message in call["messages"])


def fill(memory: Memory) -> None:
    for text in ANA:
        memory.remember("ana", text)
    for text in BOB:
        memory.remember("bob", text)


def test_generation_stores_a_schema_constrained_summary(memory: Memory) -> None:
    fill(memory)
    model = ScriptedChatModel()
    report = SummaryJob(memory, model, users=["ana"], tasks=["chat"]).run()
    assert report.totals()["generated"] == 1
    (call,) = model.calls
    assert schema_name(call) == "UserSummary"
    assert len(prompt_text(call)) < 2000, "the prompt stays small for a 1.5B local model"
    view = memory.summary("ana", "chat")
    assert view is not None
    assert all(fact in view.text for fact in ANA) and len(view.text) == len(" ".join(ANA))
    assert (view.stale, view.usable, view.model) == (False, True, "confidante-scripted")
    assert str(Watermark.parse(view.watermark)) == view.watermark
    assert memory.summary("ana", "image") is None
    assert memory.summary("nobody", "chat") is None


def test_invented_names_and_numbers_are_dropped(memory: Memory) -> None:
    fill(memory)
    invented = {"summary": "The user is 45 years old. The user likes hiking with Biscuit."}
    model = ScriptedChatModel(responses=[invented, {"summary": "The user lives in Paris."}])
    view = asyncio.run(generate_summary(memory, model, "ana", "chat"))
    assert view is not None and view.text == "The user likes hiking with Biscuit."
    report = SummaryJob(memory, model, users=["bob"], tasks=["chat"], retries=0).run()
    assert report.outcomes[0].status == "failed"
    assert "ungrounded" in str(report.outcomes[0].error)


def test_a_summary_of_nothing_is_not_generated(memory: Memory) -> None:
    model = ScriptedChatModel()
    memory.remember("ana", "Call the vet.", kind="reminder")
    assert asyncio.run(generate_summary(memory, model, "ana", "chat")) is None
    assert model.calls == []


def test_staleness_follows_only_the_users_own_data(memory: Memory) -> None:
    fill(memory)
    model = ScriptedChatModel()
    SummaryJob(memory, model, tasks=["chat"]).run()
    assert len(model.calls) == 2

    memory.remember("bob", "The user is vegetarian.", key="diet")
    ana = memory.summary("ana", "chat")
    assert ana is not None and not ana.stale
    rerun = SummaryJob(memory, model, tasks=["chat"]).run()
    assert [(o.user_id, o.status) for o in rerun.outcomes] == [
        ("ana", "fresh"),
        ("bob", "generated"),
    ]
    assert len(model.calls) == 3

    memory.remember("ana", "The user likes tea.")
    ana = memory.summary("ana", "chat")
    assert ana is not None and ana.stale and ana.usable, "additions leave it usable"
    SummaryJob(memory, model, tasks=["chat"]).run()
    ana = memory.summary("ana", "chat")
    assert ana is not None and not ana.stale and "tea" in ana.text

    (hiking,) = [item for item in memory.list_items("ana") if "hiking" in item.text]
    memory.forget("ana", hiking.id)
    ana = memory.summary("ana", "chat")
    assert ana is not None and ana.stale and not ana.usable, "it may name a forgotten fact"
    SummaryJob(memory, model, tasks=["chat"]).run()
    ana = memory.summary("ana", "chat")
    assert ana is not None and ana.usable and "hiking" not in ana.text


def test_a_summary_from_the_older_watermark_format_stays_usable_until_an_edit(
    memory: Memory,
) -> None:
    fill(memory)
    SummaryJob(memory, ScriptedChatModel(), tasks=["chat"]).run()
    current = memory.summary("ana", "chat")
    assert current is not None
    edits = Watermark.parse(current.watermark)
    assert edits is not None

    def downgrade(session: Any) -> None:  # as written before the watermark kept the last id
        row = session.exec(select(Summary).where(Summary.user_id == "ana")).one()
        row.watermark = f"adds=3;edits={edits.edits}"
        session.add(row)

    memory.database.run_sync(downgrade)
    old = memory.summary("ana", "chat")
    assert old is not None and old.stale and old.usable, "stale, so the job rewrites it"
    (hiking,) = [item for item in memory.list_items("ana") if "hiking" in item.text]
    memory.forget("ana", hiking.id)
    old = memory.summary("ana", "chat")
    assert old is not None and not old.usable


def test_the_progress_bar_counts_users_times_tasks(memory: Memory) -> None:
    fill(memory)
    out = io.StringIO()
    console = Console(file=out, width=100)
    SummaryJob(
        memory, ScriptedChatModel(), tasks=["chat", "image"], progress=True, console=console
    ).run()
    assert "summaries" in out.getvalue() and "4/4" in out.getvalue()
    quiet = io.StringIO()
    SummaryJob(memory, ScriptedChatModel(), console=Console(file=quiet)).run()
    assert quiet.getvalue() == ""


def test_without_a_terminal_the_cli_progress_writes_lines(memory: Memory) -> None:
    fill(memory)
    out = io.StringIO()
    console = Console(file=out, width=100)  # a file, no terminal: no bar, plain lines
    bar = partial(progress, console=console, every=0.0)
    SummaryJob(memory, ScriptedChatModel(), tasks=["chat", "image"], progress=bar).run()
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("summaries: 1/4") and lines[-1].startswith("summaries: 4/4")
    assert len(lines) == 4


def test_the_summarize_command_reports_progress_on_stderr(cli_env: dict[str, str]) -> None:
    stored = Memory.open(Path(cli_env["CONFIDANTE_DATA_DIR"]) / "confidante.db")
    fill(stored)
    stored.close()
    result = CliRunner().invoke(app, ["summarize", "--task", "chat", "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)  # stdout keeps only the report
    assert "summaries: 2/2" in result.stderr


def test_force_regenerates_fresh_summaries(memory: Memory) -> None:
    fill(memory)
    model = ScriptedChatModel()
    SummaryJob(memory, model, tasks=["chat"]).run()
    report = SummaryJob(memory, model, users=["ana"], tasks=["chat"], force=True).run()
    assert report.totals()["generated"] == 1 and len(model.calls) == 3


def test_a_killed_job_resumes_without_redoing_finished_summaries(memory: Memory) -> None:
    fill(memory)
    memory.remember("cy", "The user works at Acme.", key="employer")
    tasks = ["chat", "recommendation"]

    def dies_after_four(payload: dict[str, Any]) -> Any:
        if len(crashing.calls) > 4:
            raise Crash("killed")
        return {"summary": "A summary."}

    crashing = ScriptedChatModel(function=dies_after_four)
    with pytest.raises(Crash):
        SummaryJob(memory, crashing, tasks=tasks).run()
    assert len(crashing.calls) == 5

    model = ScriptedChatModel()
    report = SummaryJob(memory, model, tasks=tasks).run()
    assert len(model.calls) == 2, "only the two unfinished summaries are generated"
    assert report.totals() == {"generated": 2, "fresh": 4, "empty": 0, "busy": 0, "failed": 0}
    assert all(memory.summary(user, task) for user in ("ana", "bob", "cy") for task in tasks)


def test_a_model_failure_is_reported_and_the_job_goes_on(memory: Memory) -> None:
    fill(memory)
    model = ScriptedChatModel(responses=["not json", "still not json"])
    report = SummaryJob(memory, model, tasks=["chat"]).run()
    assert [o.status for o in report.outcomes] == ["failed", "generated"]
    assert memory.summary("ana", "chat") is None


def test_summaries_and_prompts_hold_only_their_users_data(memory: Memory) -> None:
    fill(memory)
    memory.record_event("ana", "user", "How do I train a puppy?")
    memory.record_event("bob", "user", "Where can I hear live music?")
    model = ScriptedChatModel()
    SummaryJob(memory, model).run()
    assert len(model.calls) == 2 * len(TASKS)
    for call in model.calls:
        text = prompt_text(call)
        has_ana = any(fact in text for fact in ANA) or "puppy" in text
        has_bob = any(fact in text for fact in BOB) or "live music" in text
        assert has_ana != has_bob, text
    search = [prompt_text(c) for c in model.calls if "puppy" in prompt_text(c)]
    assert len(search) == 1 and "web searches" in search[0]
    for task in TASKS:
        ana, bob = memory.summary("ana", task), memory.summary("bob", task)
        assert ana is not None and bob is not None
        assert not any(fact in ana.text for fact in BOB)
        assert not any(fact in bob.text for fact in ANA)


def test_forget_user_deletes_the_summaries(memory: Memory) -> None:
    fill(memory)
    SummaryJob(memory, ScriptedChatModel()).run()
    counts = memory.forget_user("ana")
    assert counts["summaries"] == len(TASKS)
    assert all(memory.summary("ana", task) is None for task in TASKS)
    assert memory.summary("bob", "chat") is not None


def test_a_summary_whose_data_was_all_forgotten_is_deleted(memory: Memory) -> None:
    item = memory.remember("ana", "The user likes hiking.")
    SummaryJob(memory, ScriptedChatModel(), tasks=["chat"]).run()
    memory.forget("ana", item)
    report = SummaryJob(memory, ScriptedChatModel(), tasks=["chat"]).run()
    assert report.outcomes[0].status == "empty"
    assert memory.summary("ana", "chat") is None


def test_the_reply_prompt_carries_a_usable_chat_summary(settings: Settings) -> None:
    model = ScriptedChatModel()
    agent = Agent(user_id="ana", settings=settings, model=model)
    for text in ANA:
        agent.memory.remember("ana", text)

    def reply_prompt() -> str:
        replies = [call for call in model.calls if not call.get("response_format")]
        return str(replies[-1]["messages"][0]["content"])

    agent.turn("Hello there.")
    assert "in short" not in reply_prompt()
    SummaryJob(agent.memory, model, users=["ana"], tasks=["chat"]).run()
    summary = agent.memory.summary("ana", "chat")
    assert summary is not None and all(fact in summary.text for fact in ANA)
    agent.turn("Hello again.")
    system = reply_prompt()
    line = "What you know about the user in short: " + summary.text
    assert line in system
    assert system.index(line) < system.index("What you remember about the user")
    (dog,) = [item for item in agent.memory.list_items("ana") if "dog" in item.text]
    agent.memory.forget("ana", dog.id)
    agent.turn("Hello once more.")
    assert "in short" not in reply_prompt(), "a summary naming a forgotten fact is not used"
    agent.close()


def test_summarize_command(cli_env: dict[str, str]) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "confidante.cli", *args]
        return subprocess.run(command, env=cli_env, capture_output=True, text=True, timeout=300)

    def report(*args: str) -> dict[str, Any]:
        result = run("summarize", *args, "--json")
        assert result.returncode == 0, result.stderr
        return dict(json.loads(result.stdout))

    for user, text in (("u1", "The user likes jazz."), ("u2", "The user lives in Porto.")):
        added = run("memory", "add", "--user", user, text)
        assert added.returncode == 0, added.stderr
    first = report("--task", "chat")
    assert first["totals"]["generated"] == 2
    texts = {o["user_id"]: o["text"] for o in first["outcomes"]}
    assert texts == {"u1": "The user likes jazz.", "u2": "The user lives in Porto."}
    again = report("--task", "chat")
    assert again["totals"]["fresh"] == 2 and again["totals"]["generated"] == 0
    forced = report("-u", "u1", "-t", "chat", "--force")
    assert [o["status"] for o in forced["outcomes"]] == ["generated"]
    bad = run("summarize", "--task", "poetry")
    assert bad.returncode == 2 and "unknown summary task" in bad.stderr


async def test_claims_on_sqlite_always_succeed(settings: Settings) -> None:
    database = Database.open(settings.resolved_database_url)
    try:
        async with claim_user(database, "ana") as first, claim_user(database, "ana") as second:
            assert first and second, "SQLite takes the simple path: no claims"
    finally:
        database.dispose()


async def test_postgres_claims_skip_a_user_locked_by_another_worker(memory_url: str) -> None:
    database = Database.open(memory_url)
    if database.backend != "postgresql":
        database.dispose()
        pytest.skip("row claims exist on PostgreSQL only (SQLite: see the test above)")
    await database.run(lambda session: session.add(UserRecord(id="ana")))
    try:
        async with claim_user(database, "ana") as first:
            assert first
            async with claim_user(database, "ana") as second:
                assert not second
            async with claim_user(database, "ghost") as absent:
                assert absent, "a user without a row has nothing to contend for"
        async with claim_user(database, "ana") as after:
            assert after, "the claim ends with its context"
    finally:
        database.dispose()


async def test_postgres_job_reports_a_claimed_user_as_busy(memory: Memory) -> None:
    if memory.database.backend != "postgresql":
        pytest.skip("row claims exist on PostgreSQL only")
    for text in ANA:
        await memory.aremember("ana", text)
    await memory.aremember("bob", BOB[0])
    model = ScriptedChatModel()
    async with claim_user(memory.database, "ana") as claimed:
        assert claimed
        report = await SummaryJob(memory, model, tasks=["chat"]).arun()
    assert [(o.user_id, o.status) for o in report.outcomes] == [
        ("ana", "busy"),
        ("bob", "generated"),
    ]
    assert len(model.calls) == 1


def test_the_scripted_summary_groups_and_deduplicates_within_its_limit() -> None:
    from confidante.models.scripted_rules import summarize

    prompt = "\n".join(
        [
            "Facts about the user:",
            "- The user likes hiking.",
            "- Bruno lives in Porto.",
            "- The user's dog is called Biscuit.",
            "- The user likes jazz.",
            "- The user likes hiking.",
            "- The user is vegetarian.",
            "",
            "Recent messages from the user:",
            "- I like opera.",
        ]
    )
    summary = summarize(prompt)["summary"]
    assert summary == (
        "The user likes hiking and jazz. The user's dog is called Biscuit. "
        "The user is vegetarian. Bruno lives in Porto."
    )
    short = summarize(prompt, limit=60)["summary"]
    assert short == "The user likes hiking. The user's dog is called Biscuit."  # no cut facts
    assert summarize("Facts about the user:\n")["summary"].startswith("Nothing is known")


def test_a_summary_never_turns_a_question_into_a_fact() -> None:
    source = "- The user has a dog called Biscuit.\n- what's my dog called?"
    summary = (
        "The user has a dog called Biscuit. The user is asking about their dog's name. "
        "The user wants to know what their dog is called."
    )
    assert keep_grounded(summary, source) == "The user has a dog called Biscuit."
    assert keep_grounded("The user asked for a table for two.", "") == ""
    kept = "The user asks a lot of questions at work meetings."  # a habit, not a question
    assert keep_grounded(kept, "") == kept
