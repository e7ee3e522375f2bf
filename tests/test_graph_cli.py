"""``confidante chat`` asks before side effects: decisions from stdin or a flag."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from confidante.agent import Approval
from confidante.cli.render import parse_decision

REQUEST = "Remind me to water the plants.\n"


def chat(env: dict[str, str], stdin: str, *options: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "confidante.cli", "chat", "--user", "u1", *options]
    return subprocess.run(command, env=env, input=stdin, capture_output=True, text=True)


def reminders(env: dict[str, str]) -> list[str]:
    command = [sys.executable, "-m", "confidante.cli", "memory", "list", "--user", "u1", "--json"]
    listed = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return [item["text"] for item in json.loads(listed.stdout) if item["kind"] == "reminder"]


def test_the_next_line_answers_an_approval(cli_env: dict[str, str]) -> None:
    result = chat(cli_env, REQUEST + 'edit {"when": "Sunday"}\n', "-v")
    assert result.returncode == 0, result.stderr
    assert "approval needed" in result.stderr and "add_reminder" in result.stderr
    assert "(edited)" in result.stderr
    assert reminders(cli_env) == ["Reminder: water the plants (Sunday)"]
    assert len(result.stdout.strip().splitlines()) == 1


@pytest.mark.parametrize(("flag", "saved"), [("approve", 1), ("reject", 0)])
def test_the_approvals_flag_decides_for_every_call(
    cli_env: dict[str, str], flag: str, saved: int
) -> None:
    result = chat(cli_env, REQUEST + "Hello.\n", "--approvals", flag)
    assert result.returncode == 0, result.stderr
    assert len(reminders(cli_env)) == saved
    assert len(result.stdout.strip().splitlines()) == 2  # "Hello." stays a message


def test_typed_decisions() -> None:
    approval = Approval(id="i", tool="t", args={"a": 1, "b": 2}, session_id="s")
    assert parse_decision("a", approval) == {"decision": "approve"}
    assert parse_decision(" Reject ", approval) == {"decision": "reject"}
    assert parse_decision('e {"b": 3}', approval) == {"decision": "edit", "args": {"a": 1, "b": 3}}
    assert parse_decision("e [1]", approval) is None
    assert parse_decision("maybe", approval) is None
