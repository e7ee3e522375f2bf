"""The usage log: turns' usage kept per user, read per day and kind (Python, HTTP, CLI)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from conftest import fresh_postgres_database
from server_support import LiveServer, live_server, server_settings
from typer.testing import CliRunner

from confidante.agent import Agent
from confidante.cli.app import app
from confidante.memory.storage.database import Database
from confidante.memory.store import Memory
from confidante.memory.summaries.job import SummaryJob
from confidante.models.base import prompt_text
from confidante.models.scripted import ScriptedChatModel, approximate_tokens
from confidante.settings import Settings
from confidante.usage import Tokens, Usage
from confidante.usage_log import UsageLog


def test_turns_are_logged_per_day_and_kind(settings: Settings) -> None:
    model = ScriptedChatModel()
    with Agent(user_id="ana", settings=settings, model=model) as agent:
        first = agent.turn("My dog is called Biscuit.")
        second = agent.turn("I live in Porto.")
        with Agent(user_id="bob", settings=settings, memory=agent.memory) as bob:
            bob.turn("I like tea.")
        rows = agent.usage_log.daily("ana")
        today = datetime.now(UTC).date()
        assert [(row.day, row.kind) for row in rows] == [(today, "extraction"), (today, "reply")]
        by_kind = {row.kind: row for row in rows}
        for kind in ("reply", "extraction"):
            expected = first.usage.by_kind[kind].total_tokens
            expected += second.usage.by_kind[kind].total_tokens
            assert by_kind[kind].total_tokens == expected > 0
            assert by_kind[kind].calls == 2
        erased = agent.forget_user()
        assert erased["confidante_usage"] == 4
        assert agent.usage_log.daily("ana") == []
        assert agent.usage_log.daily("bob")  # another user's log stays


def test_older_days_are_left_out(settings: Settings) -> None:
    memory = Memory.open(settings=settings)
    log = UsageLog(memory.database)
    usage = Usage.of([("reply", Tokens(calls=1, prompt_tokens=10, completion_tokens=2))])
    log.record("ana", usage, when=datetime.now(UTC) - timedelta(days=40))
    log.record("ana", usage)
    assert len(log.daily("ana", days=30)) == 1
    assert [row.prompt_tokens for row in log.daily("ana", days=60)] == [10, 10]
    memory.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("usage-log")) as live:
        yield live


def test_the_http_api_shows_the_keys_user_only(server: LiveServer) -> None:
    ana, bob = server.key_for("ana"), server.key_for("bob")
    with server.client(ana) as client:
        answer = client.post(
            "/v1/chat/completions",
            json={"model": "m", "messages": [{"role": "user", "content": "My cat is Pixel."}]},
        ).json()
        report = client.get("/v1/usage").json()
        assert client.get("/v1/usage", params={"days": 0}).status_code == 422
    assert report["user"] == "ana" and report["days"] == 30
    assert report["total"]["total_tokens"] == answer["usage"]["total_tokens"] > 0
    assert {row["kind"] for row in report["daily"]} == {"reply", "extraction"}
    with server.client(bob) as client:
        assert client.get("/v1/usage").json()["daily"] == []
    assert httpx.get(f"{server.url}/v1/usage").status_code == 401


def test_the_cli_shows_a_users_usage(cli_env: dict[str, str]) -> None:
    cli = [sys.executable, "-m", "confidante.cli"]

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*cli, *args], input=stdin, env=cli_env, capture_output=True, text=True, timeout=300
        )

    told = run("chat", "--user", "u1", stdin="My dog is called Biscuit.\n")
    assert told.returncode == 0, told.stderr
    shown = run("usage", "--user", "u1", "--json")
    assert shown.returncode == 0, shown.stderr
    rows = json.loads(shown.stdout)
    assert {row["kind"] for row in rows} == {"reply", "extraction"}
    assert all(row["total_tokens"] > 0 for row in rows)
    table = run("usage", "--user", "u1")
    assert table.returncode == 0 and "extraction" in table.stdout
    assert json.loads(run("usage", "--user", "u2", "--json").stdout) == []


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, settings: Settings) -> Iterator[str]:
    """An empty memory database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield settings.resolved_database_url
        return
    admin_url: str = request.getfixturevalue("postgres_admin_url")
    with fresh_postgres_database(admin_url) as url:
        yield url


def test_summaries_are_logged_under_their_own_kind(database_url: str, settings: Settings) -> None:
    memory = Memory.open(database_url, settings=settings)
    try:
        memory.remember("ana", "The user's dog is called Biscuit.")
        memory.remember("bob", "The user likes jazz.")
        model = ScriptedChatModel()
        log = UsageLog(memory.database)
        report = SummaryJob(memory, model, users=["ana"], tasks=["chat"], usage_log=log).run()
        assert report.totals()["generated"] == 1
        (row,) = log.daily("ana")
        assert (row.day, row.kind, row.calls) == (datetime.now(UTC).date(), "summary", 1)
        (call,) = model.calls
        assert row.prompt_tokens == approximate_tokens(prompt_text(call)) > 0
        assert row.completion_tokens > 0
        assert log.daily("bob") == []  # only the user summarised
        SummaryJob(memory, model, users=["ana"], tasks=["chat"], usage_log=log).run()
        assert log.daily("ana") == [row]  # a fresh summary is skipped: no call, nothing logged
    finally:
        memory.close()


def test_the_summarize_command_logs_what_summaries_cost(cli_env: dict[str, str]) -> None:
    database = Path(cli_env["CONFIDANTE_DATA_DIR"]) / "confidante.db"
    stored = Memory.open(database)
    stored.remember("ana", "The user's dog is called Biscuit.")
    stored.remember("ana", "The user likes hiking.")
    stored.close()
    result = CliRunner().invoke(app, ["summarize", "--user", "ana", "--json"], env=cli_env)
    assert result.exit_code == 0, result.output
    generated = json.loads(result.stdout)["totals"]["generated"]
    assert generated >= 1
    opened = Memory.open(database)
    try:
        rows = UsageLog(opened.database).daily("ana")
    finally:
        opened.close()
    assert [row.kind for row in rows] == ["summary"]
    assert rows[0].calls >= generated
    assert rows[0].prompt_tokens > 0 and rows[0].completion_tokens > 0


def test_the_http_usage_report_per_day_and_kind(
    database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """``GET /v1/usage`` on each database: days apart, kinds apart, users apart, erasable."""
    root = tmp_path_factory.mktemp("usage-db")
    settings = server_settings(root, database_url=database_url)
    three_days_ago = datetime.now(UTC) - timedelta(days=3)
    old = Usage.of([("summary", Tokens(calls=2, prompt_tokens=70, completion_tokens=9))])
    with live_server(root, settings=settings) as server:
        ana, bob = server.key_for("ana"), server.key_for("bob")
        with server.client(ana) as client:
            answer = client.post(
                "/v1/chat/completions",
                json={"model": "m", "messages": [{"role": "user", "content": "My cat is Pixel."}]},
            ).json()
            database = Database.open(database_url)
            try:
                log = UsageLog(database)
                log.record("ana", old, when=three_days_ago)
                log.record("ana", old, when=three_days_ago)  # two rows, one sum
                log.record("ana", old, when=datetime.now(UTC) - timedelta(days=40))
                log.record("bob", old)
            finally:
                database.dispose()
            report = client.get("/v1/usage").json()
            longer = client.get("/v1/usage", params={"days": 60}).json()
            today = datetime.now(UTC).date()
            assert [(row["day"], row["kind"]) for row in report["daily"]] == [
                (three_days_ago.date().isoformat(), "summary"),
                (today.isoformat(), "extraction"),
                (today.isoformat(), "reply"),
            ]
            summary = report["daily"][0]
            assert (summary["calls"], summary["prompt_tokens"], summary["total_tokens"]) == (
                4,
                140,
                158,
            )
            turn = sum(row["total_tokens"] for row in report["daily"][1:])
            assert turn == answer["usage"]["total_tokens"] > 0
            assert report["total"]["total_tokens"] == turn + 158
            assert len(longer["daily"]) == 4
            assert longer["total"]["total_tokens"] == turn + 158 + 79
            assert client.delete("/v1/users/me").status_code == 200
            assert client.get("/v1/usage", params={"days": 60}).json()["daily"] == []
        with server.client(bob) as client:
            (row,) = client.get("/v1/usage").json()["daily"]
            assert (row["kind"], row["total_tokens"]) == ("summary", 79)
