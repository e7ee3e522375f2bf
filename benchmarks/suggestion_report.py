"""The ratios, goals and tables of ``benchmarks/query_suggestion.py``'s figures.

:func:`mrr_ratio` compares two systems' MRR@10 on a part of the targets, :func:`goals` checks
issue 22's targets on the held-out users, and :func:`print_table` prints the figures
(aggregates only: the data is personal).
"""

from __future__ import annotations

from typing import Any


def _mrr(figures: dict[str, Any], part: str) -> float:
    for key in () if part == "all" else part.split("."):
        figures = figures[key]
    return float(figures["mrr@10"])


def mrr_ratio(mine: dict[str, Any], theirs: dict[str, Any], part: str) -> float | None:
    """MRR@10 of ``mine`` over ``theirs`` on ``part`` (``all``, ``held_out.new_queries``...)."""
    a, b = _mrr(mine, part), _mrr(theirs, part)
    return round(a / b, 3) if b else None


def goals(result: dict[str, Any]) -> dict[str, Any]:
    """Issue 22's targets, on the held-out users: each ratio, its goal and whether it is met."""
    ratios = result["ratios"]
    new = ratios["vs_followups_plus_frequent"]["held_out.new_queries"] or 0.0
    every = ratios["vs_session_only"]["held_out"] or 0.0
    p95 = result["latency_ms"]["p95"]
    return {
        "held_out_new_queries_vs_followups_plus_frequent": {
            "ratio": new,
            "goal": 1.3,
            "met": new >= 1.3,
        },
        "held_out_all_vs_session_only": {"ratio": every, "goal": 1.2, "met": every >= 1.2},
        "latency_p95_ms": {"value": p95, "goal": 10.0, "met": p95 < 10.0},
    }


def print_table(result: dict[str, Any]) -> None:
    """Print the figures of :func:`query_suggestion.run` (aggregates only)."""
    from rich.console import Console
    from rich.table import Table

    title = (
        f"query suggestion on {result['data']} ({result['users']} users, k={result['min_users']})"
    )
    table = Table(title=title)
    columns = (
        "system",
        "MRR@10",
        "HR@10",
        "MRR tune",
        "MRR held-out",
        "MRR new queries",
        "targets",
    )
    for column in columns:
        table.add_column(column)
    rows = [("personalized", result), *result["baselines"].items()]
    for name, row in rows:
        table.add_row(
            name,
            f"{row['mrr@10']:.4f}",
            f"{row['hr@10']:.4f}",
            f"{row['tune']['mrr@10']:.4f}",
            f"{row['held_out']['mrr@10']:.4f}",
            f"{row['new_queries']['mrr@10']:.4f}",
            str(row["targets"]),
        )
    held = Table(title="held-out users (what the ranker was never fitted or tuned on)")
    for column in ("system", "MRR@10", "MRR@10 new queries", "HR@10 new queries", "targets"):
        held.add_column(column)
    for name, row in rows:
        part = row["held_out"]
        held.add_row(
            name,
            f"{part['mrr@10']:.4f}",
            f"{part['new_queries']['mrr@10']:.4f}",
            f"{part['new_queries']['hr@10']:.4f}",
            f"{part['targets']} ({part['new_queries']['targets']} new)",
        )
    console = Console()
    console.print(table)
    console.print(held)
    console.print(f"issue 22 goals (held-out): {result['goals']}")
    console.print(f"ratios (MRR@10, personalized / baseline): {result['ratios']}")
    console.print(f"candidate recall (MRR@10 of a perfect ranking): {result['candidate_recall']}")
    console.print(f"ratio vs session_only, 95% over users: {result['ratio_ci95_vs_session_only']}")
    held = result["breakdown"]["held_out"]
    console.print(
        "held-out targets by kind (share; MRR@10 part personalized/session_only; recall part): "
        + "; ".join(
            f"{kind} {row['share']:.3f} {row['personalized']['mrr_part']:.4f}/"
            f"{row['session_only']['mrr_part']:.4f} {row['personalized']['recall_part']:.4f}"
            for kind, row in held.items()
        )
    )
    moved = result["breakdown"]["bounds"]["held_out"]
    console.print(f"held-out MRR@10 with the re-found targets moved up: {moved}")
    wall, cpu = result["latency_ms"], result["cpu_ms"]
    console.print(
        f"suggestion latency ms: wall p50 {wall['p50']} p95 {wall['p95']}; "
        f"CPU p50 {cpu['p50']} p95 {cpu['p95']}"
    )
