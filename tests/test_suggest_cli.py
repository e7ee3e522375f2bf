"""``confidante suggest`` and the query-suggestion benchmark on small synthetic inputs."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest
from conftest import load_benchmark

CLI = [sys.executable, "-m", "confidante.cli"]


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=300)


def synthetic_log(path: Path, users: int = 6, days: int = 10) -> Path:
    """Each user searches a daily routine; every user also has a habit of their own."""
    rows = ["user_id\ttimestamp\tquery\textra"]
    start = datetime(2026, 3, 1, 8, 0)
    for u in range(users):
        for day in range(days):
            at = start + timedelta(days=day, minutes=u)
            routine = ["weather lisbon", "lisbon tram 28", f"hobby {u} club", f"hobby {u} news"]
            for step, query in enumerate(routine):
                rows.append(f"user{u}\t{at + timedelta(minutes=3 * step)}\t{query}\tx")
    rows.append("broken row")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_ingest_then_suggest(cli_env: dict[str, str], tmp_path: Path) -> None:
    log = synthetic_log(tmp_path / "log.tsv", users=3, days=2)
    ingested = run(["suggest", "ingest", str(log), "--json"], cli_env)
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout) == {"users": 3, "queries": 24, "skipped_rows": 1}
    assert "storing queries: 24/24" in ingested.stderr  # progress, also without a terminal
    args = ["suggest", "--user", "user1", "-s", "weather lisbon", "-s", "hobby 1 club"]
    got = run([*args, "--json", "--rerank"], cli_env)  # the scripted model reranks
    assert got.returncode == 0, got.stderr
    payload = json.loads(got.stdout)
    found = [s["query"] for s in payload["suggestions"]]
    assert "hobby 1 news" in found
    assert not any(q.startswith(("hobby 0", "hobby 2")) for q in found)  # other users' own
    assert all("entities" in s for s in payload["suggestions"])


def test_cli_errors(cli_env: dict[str, str], tmp_path: Path) -> None:
    assert run(["suggest"], cli_env).returncode == 2
    empty = tmp_path / "empty.tsv"
    empty.write_text("user_id\ttimestamp\tquery\n", encoding="utf-8")
    failed = run(["suggest", "ingest", str(empty)], cli_env)
    assert failed.returncode == 1 and "no usable row" in " ".join(failed.stderr.split())


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_benchmark("query_suggestion.py", "benchmark_query_suggestion")


def test_benchmark_on_a_synthetic_log(bench: ModuleType, tmp_path: Path) -> None:
    log = synthetic_log(tmp_path / "log.tsv")
    out = tmp_path / "result.json"
    db = tmp_path / "through.db"
    args = ["--data", str(log), "--json", str(out), "--min-users", "2", "--through-memory", str(db)]
    assert bench.main(args) == 0
    result = json.loads(out.read_text())
    assert result["users"] == 6 and result["queries"] == 240
    # last 20% = days 9-10; each day has 3 non-first targets
    assert result["targets"] == 6 * 2 * 3
    for key in ("mrr@10", "hr@10"):
        assert 0.0 <= result[key] <= 1.0
        assert key in result["baselines"]["session_only"]
    # the personal habit follows the routine: only the user store can know it
    assert result["mrr@10"] > result["baselines"]["session_only"]["mrr@10"]
    assert result["hr@10"] == 1.0
    assert set(result["latency_ms"]) == {"p50", "p95"}
    recall = result["candidate_recall"]
    assert recall["personalized"]["all"] >= result["hr@10"]  # a perfect ranking bounds it
    assert recall["session_only"]["all"] >= result["baselines"]["session_only"]["hr@10"]
    # the breakdown by kind of target adds up to each system's MRR@10
    session_only = result["baselines"]["session_only"]["mrr@10"]
    for name, mrr in (("personalized", result["mrr@10"]), ("session_only", session_only)):
        parts = result["breakdown"]["all"].values()
        assert sum(row[name]["mrr_part"] for row in parts) == pytest.approx(mrr, abs=1e-3)
    interval = result["ratio_ci95_vs_session_only"]["all"]
    assert interval["users"] == 6 and interval["low"] <= interval["high"]
    # new queries per half, for every system, and issue 22's goals on the held-out half
    held = result["held_out"]["new_queries"]
    assert (
        held["targets"]
        == result["baselines"]["linear_weights"]["held_out"]["new_queries"]["targets"]
    )
    plus = result["baselines"]["followups_plus_frequent"]["held_out"]["new_queries"]["mrr@10"]
    ratio = result["ratios"]["vs_followups_plus_frequent"]["held_out.new_queries"]
    assert ratio == (round(held["mrr@10"] / plus, 3) if plus else None)
    goals = result["goals"]
    assert set(goals) == {
        "held_out_new_queries_vs_followups_plus_frequent",
        "held_out_all_vs_session_only",
        "latency_p95_ms",
    }
    assert goals["latency_p95_ms"]["met"] == (result["latency_ms"]["p95"] < 10.0)
    # the store in the memory database gives exactly the in-process ranking
    assert result["through_memory"]["mrr@10"] == result["mrr@10"]


def test_benchmark_skips_without_data(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.main(["--data", str(tmp_path / "absent.tsv")]) == 0
    assert "skipped" in capsys.readouterr().out


def test_tuner_scores_exactly_as_the_ranker_ranks(bench: ModuleType, tmp_path: Path) -> None:
    tuner = load_benchmark("tune_query_suggestion.py", "benchmark_tune_query_suggestion")
    from confidante.tools.suggest import GlobalLayer, Ranker, UserProfile, Weights

    train, targets = bench.split(bench.read_log(synthetic_log(tmp_path / "log.tsv")))
    profiles = {user: UserProfile.build(acts) for user, acts in train.items()}
    layer = GlobalLayer.build(train, min_users=2)
    for weights in (
        Weights(),
        Weights(repeat=3.0, user_follow=0.0, user_weight=1.0),
        Weights(session_edit=1.0, global_edit=1.0, user_edit=2.0, entity_edit=0.5),
    ):
        ranker = Ranker(layer, weights, scorer=None)
        expected = sum(
            bench.reciprocal_rank(
                [s.query for s in ranker.suggest(t.session, profiles[t.user])], t.query
            )
            for t in targets
        ) / len(targets)
        matrix = tuner.featurize(ranker, targets, profiles)
        assert matrix.mrr(tuner.vector(weights)) == pytest.approx(expected)


def test_model_rerank_benchmark_compares_on_the_same_targets(tmp_path: Path) -> None:
    from confidante._sync import run_sync
    from confidante.models.scripted import ScriptedChatModel
    from confidante.tools.suggest import scripted_rerank

    rerank = load_benchmark("suggest_model_rerank.py", "suggest_model_rerank")
    log = synthetic_log(tmp_path / "log.tsv")
    ruled = run_sync(rerank.run(log, 5, ScriptedChatModel(function=scripted_rerank), "rule"))
    assert ruled["model"] == "rule" and ruled["targets"] == 5 and ruled["fallbacks"] == 0
    for key in ("mrr@10_fast", "mrr@10_model_rerank", "mrr@10_session_only"):
        assert 0.0 <= ruled[key] <= 1.0
    # a model whose answers never fit the schema: every call falls back to the fast ranking
    broken = ScriptedChatModel(function=lambda payload: {"wrong": True})
    fallen = run_sync(rerank.run(log, 5, broken, "broken"))
    assert fallen["fallbacks"] == 5
    assert fallen["mrr@10_model_rerank"] == fallen["mrr@10_fast"] == ruled["mrr@10_fast"]
    assert rerank.main(["--data", str(tmp_path / "absent.tsv")]) == 0


def routine_log(path: Path, users: int = 6, days: int = 30) -> Path:
    """Daily routines with a query searched twice in a row (both learned models get hits)."""
    rows = ["user_id\ttimestamp\tquery"]
    start = datetime(2026, 3, 1, 8, 0)
    for u in range(users):
        for day in range(days):
            at = start + timedelta(days=day, minutes=u)
            routine = ["weather lisbon", "weather lisbon", "lisbon tram 28", f"hobby {u} club"]
            routine += [f"hobby {u} news" if day % 2 else f"hobby {u} shop"]
            for step, query in enumerate(routine):
                rows.append(f"user{u}\t{at + timedelta(minutes=3 * step)}\t{query}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_trainer_fits_on_the_tune_half_only(tmp_path: Path) -> None:
    from confidante.tools.suggest.learned import LearnedScorer

    trainer = load_benchmark("train_query_suggestion.py", "benchmark_train_query_suggestion")
    log = routine_log(tmp_path / "log.tsv")
    users = trainer.read_log(log)
    tune = {user for user in users if trainer.half_of(user) == "tune"}
    assert tune and tune != set(users)  # both halves are there
    found = trainer.examples(users)
    assert {example.user for example in found} == tune  # never a held-out user's target
    assert {example.window for example in found} == set(trainer.WINDOWS)
    out = tmp_path / "model.json"
    result = trainer.train(log, out)
    scorer = LearnedScorer.load(out)
    assert scorer.trained_on["half"] == "tune" and scorer.trained_on["users"] == len(tune)
    assert scorer.boost == result["chosen"]["cross_validation"]["boost"] in trainer.BOOSTS
    assert trainer.main(["--data", str(tmp_path / "absent.tsv")]) == 0
