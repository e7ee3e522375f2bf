"""``confidante chat`` asks before side effects: on a terminal, or by ``--approvals`` when piped."""

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


def memories(env: dict[str, str]) -> list[str]:
    command = [sys.executable, "-m", "confidante.cli", "memory", "list", "--user", "u1", "--json"]
    listed = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    return [item["text"] for item in json.loads(listed.stdout)]


FOUR_LINES = (
    "My dog is called Biscuit.\n" + REQUEST + "What is my dog called?\nThanks, that is all.\n"
)


def test_piped_input_is_never_read_as_a_decision(cli_env: dict[str, str]) -> None:
    """Without a terminal the default is reject, and the line after a request is a message."""
    result = chat(cli_env, FOUR_LINES, "-v")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4, result.stdout
    assert "Biscuit" in lines[2]  # answered as a message, not taken for a decision
    assert "not a decision" not in result.stderr
    assert "add_reminder" in result.stderr and "rejected" in result.stderr
    assert reminders(cli_env) == []


def test_piped_input_with_approve_runs_the_call_and_answers_every_line(
    cli_env: dict[str, str],
) -> None:
    result = chat(cli_env, FOUR_LINES, "--approvals", "approve")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 4, result.stdout
    assert "Biscuit" in lines[2]
    assert reminders(cli_env) == ["Reminder: water the plants"]
    assert not [text for text in memories(cli_env) if "declined" in text.lower()]


def test_ask_needs_a_terminal(cli_env: dict[str, str]) -> None:
    result = chat(cli_env, REQUEST, "--approvals", "ask")
    assert result.returncode == 2
    assert "needs a terminal" in result.stderr
    assert "Traceback" not in result.stderr


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
