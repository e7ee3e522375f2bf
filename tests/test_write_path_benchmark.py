"""benchmarks/write_path.py and benchmarks/routing.py run end to end, and their scoring holds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from conftest import load_benchmark

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
scoring = load_benchmark("_write_path_scoring.py", "write_path_scoring")


def test_the_dev_set_is_as_large_as_eval_asks() -> None:
    conversations = [
        c
        for f in sorted((BENCHMARKS / "data" / "write_path").glob("*.json"))
        for c in json.loads(f.read_text())
    ]
    turns = [t for c in conversations for s in c["sessions"] for t in s]
    assert len(conversations) >= 40 and len(turns) >= 300
    assert sum("expect" in t for t in turns) >= 150
    assert {t["route"] for t in turns} == {"chat", "task"}
    assert all(f.get("value") for t in turns for f in t["facts"])


def test_a_fact_matches_by_subject_and_value() -> None:
    sister = {"name": "Ana", "relation": "sister", "aliases": []}
    gold = {"subject": "Ana", "relation": "sister", "value": "Berlin"}
    assert scoring.matches(gold, scoring.Stored("Ana is moving to Berlin in May.", sister, True))
    # the same words on the user are the wrong subject, not a match
    user_fact = scoring.Stored("The user is moving to Berlin.", None, True)
    assert not scoring.matches(gold, user_fact)
    counts = scoring.score_facts([{"facts": [gold]}], [user_fact])
    assert counts["recalled"] == 0 and counts["wrong_subject"] == 1 and counts["precise"] == 0


def test_an_update_needs_the_new_value_current_and_the_old_in_history() -> None:
    turns = [
        {"facts": [{"subject": "user", "slot": "employer", "value": "bakery"}]},
        {
            "facts": [
                {"subject": "user", "slot": "employer", "value": "library", "replaces": "bakery"}
            ]
        },
    ]
    old = scoring.Stored("The user works at the bakery.", None, False)
    new = scoring.Stored("The user works at the library.", None, True)
    assert scoring.score_facts(turns, [old, new])["updated"] == 1
    still = scoring.Stored("The user works at the bakery.", None, True)
    assert scoring.score_facts(turns, [still, new])["updated"] == 0
    assert scoring.score_facts(turns, [new])["updated"] == 0  # no history kept
    # the old value said in words of ending is no longer current ("sold", "handed in notice")
    for ended in ("The user sold the bakery.", "The user handed in their notice at the bakery."):
        assert scoring.score_facts(turns, [scoring.Stored(ended, None, True), new])["updated"] == 1


def test_answers_are_checked_by_their_words() -> None:
    assert scoring.answer_ok("You work at the library.", {"any": ["library"], "none": ["bakery"]})
    assert not scoring.answer_ok("The library, not the bakery.", {"none": ["bakery"]})
    unknown = {"type": "unknown", "none": ["guitar"]}
    assert scoring.answer_ok("You haven't told me which instrument you play.", unknown)
    assert not scoring.answer_ok("You play the piano.", unknown)


def _run_on_two(script: str, cli_env: dict[str, str], tmp_path: Path) -> tuple[str, Any]:
    """Run a benchmark on the first two conversations with the scripted model: stdout, JSON."""
    out = tmp_path / "figures.json"
    options = ["--limit", "2", "--model", "scripted", "--json", str(out)]
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *options],
        env=cli_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout, json.loads(out.read_text())


def test_write_path_benchmark_on_the_scripted_model(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    _, figures = _run_on_two("write_path.py", cli_env, tmp_path)
    assert figures["conversations"] == 2 and set(figures["systems"]) == {
        "full",
        "no_memory",
        "raw_turns",
    }
    full = figures["systems"]["full"]
    for key in (
        "route_accuracy",
        "fact_recall",
        "fact_precision",
        "wrong_subject_rate",
        "update_accuracy",
        "answer_accuracy",
    ):
        assert 0.0 <= full[key] <= 1.0
    assert full["cross_user_leaks"] == 0 and full["turns"] > 10 and full["questions"] >= 8
    assert full["model_calls_per_turn"] > 0
    assert full["tokens_per_turn"] > 0
    assert 0 < full["write_model_calls_per_turn"] < full["model_calls_per_turn"]
    assert 0 < full["write_tokens_per_turn"] < full["tokens_per_turn"]
    assert figures["systems"]["raw_turns"]["write_model_calls_per_turn"] == 0
    assert figures["systems"]["no_memory"]["questions"] == full["questions"]
    assert set(figures["facts"]) == {c["conversation"] for c in figures["questions"]["full"]}


def test_routing_benchmark(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "routing.json"
    result = subprocess.run(
        [sys.executable, str(BENCHMARKS / "routing.py"), "--json", str(out)],
        env=cli_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    assert figures["all"]["messages"] >= 700 and figures["independent"]["messages"] >= 300
    assert figures["all"]["route_accuracy"] >= 0.96
    assert figures["ms_per_message"]["p50"] > 0


def test_learning_alone_benchmark_on_the_scripted_model(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    stdout, figures = _run_on_two("write_path_learning.py", cli_env, tmp_path)
    assert "update accuracy" in stdout
    counts = figures["counts"]
    assert figures["conversations"] == 2 and figures["messages"] > 10
    assert counts["stored"] > 0 and counts["updates"] > 0
    assert counts["recalled"] <= counts["gold_current"] and counts["precise"] <= counts["stored"]
    assert figures["fact_recall"] == round(counts["recalled"] / counts["gold_current"], 4)
    assert set(figures["by_conversation"]) == {"a01", "a02"}
