"""The usage log: turns' usage kept per user, read per day and kind (Python, HTTP, CLI)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from server_support import LiveServer, live_server

from confidante.agent import Agent
from confidante.memory.store import Memory
from confidante.models.scripted import ScriptedChatModel
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
