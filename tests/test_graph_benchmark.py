"""benchmarks/turn_cost.py runs end to end on a tiny store and writes its JSON figures."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "turn_cost.py"


def test_turn_cost_benchmark_on_a_tiny_store(cli_env: dict[str, str], tmp_path: Path) -> None:
    out = tmp_path / "turn_cost.json"
    command = [sys.executable, str(BENCHMARK), "--sizes", "1000", "--turns", "3", "--warmup", "1"]
    result = subprocess.run(
        [*command, "--history", "20", "--json", str(out)],
        env=cli_env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    figures = json.loads(out.read_text())
    for key in ("p50_ms_1k", "p95_ms_1k", "model_p50_ms_1k", "embedding_p50_ms_1k"):
        assert figures[key] >= 0
    assert figures["p95_ms_1k"] >= figures["p50_ms_1k"]
    assert figures["wall_p50_ms_1k"] >= figures["p50_ms_1k"]
    assert figures["ratio_vs_bare_1k"] > 0 and figures["bare_p50_ms"] > 0
    assert figures["bare_4_steps_p50_ms"] > 0 and figures["ratio_vs_bare_4_steps_1k"] > 0
    assert figures["cpu_p50_ms_1k"] > 0 and figures["bare_cpu_p50_ms"] > 0
    # model calls and tokens per turn, and per memory write (TurnResult.usage)
    assert figures["model_calls_per_turn_1k"] >= 1 and figures["tokens_per_turn_1k"] > 0
    assert 0 < figures["write_tokens_per_turn_1k"] < figures["tokens_per_turn_1k"]
    assert 0 < figures["write_model_calls_per_turn_1k"] < figures["model_calls_per_turn_1k"]
    ratio = figures["cpu_p50_ms_1k"] / figures["bare_cpu_p50_ms"]
    assert abs(figures["cpu_ratio_vs_bare_1k"] - ratio) < 1e-9
    # prompt tokens at equal recall, on questions whose answers span many memories
    target = figures["target_recall"]
    assert figures["recall_summary_plus_retrieval"] >= target
    assert figures["recall_retrieval_alone"] >= target
    assert 0 <= figures["summary_plus_retrieval_k"] <= figures["memories"]
    assert 1 <= figures["retrieval_alone_k"] <= figures["memories"]
    assert figures["tokens_full_history"] > 0 and figures["tokens_retrieval_alone"] > 0
    ratio = figures["tokens_summary_plus_retrieval"] / figures["tokens_retrieval_alone"]
    assert abs(figures["summary_tokens_ratio"] - ratio) < 1e-9
    assert figures["gold_facts_per_question"] > 1 and figures["summary_text_recommendation"]
    # the graph's choice: every question asks about tastes, so it carries that summary
    assert figures["summary_model"] == "scripted"
    assert figures["summary_tasks"] == ", ".join(["recommendation"] * figures["questions"])
    assert "turn cost" in result.stdout
