"""The breakdown of query-suggestion targets (benchmarks/suggestion_breakdown.py)."""

from __future__ import annotations

from datetime import datetime, timedelta
from types import ModuleType

import pytest
from conftest import load_benchmark

from confidante.tools.suggest import Activity, UserProfile


@pytest.fixture(scope="module")
def sb() -> ModuleType:
    return load_benchmark("suggestion_breakdown.py", "benchmark_suggestion_breakdown")


def test_categories(sb: ModuleType) -> None:
    start = datetime(2026, 3, 1, 8)
    profile = UserProfile.build(
        [Activity("surf lisbon", start), Activity("tide table", start + timedelta(minutes=2))]
    )
    session = ["hotels porto", "cheap hotels porto"]
    assert sb.category(session, "hotels porto", profile) == "in_session"
    assert sb.category(session, "tide table", profile) == "refinding"
    assert sb.category(session, "tide table", None) == "unrelated"  # no store: nothing known
    assert sb.category(session, "cheap hotels porto ribeira", profile) == "edit"
    assert sb.category(session, "hotels porto", None) == "in_session"
    assert sb.category(session, "porto airport", profile) == "shares_word"
    assert sb.category(session, "weather", profile) == "unrelated"


def outcome(sb: ModuleType, user: str, half: str, kind: str, mine: float, theirs: float) -> object:
    return sb.Outcome(
        user,
        half,
        kind,
        {"a": mine, "b": theirs},
        {"a": mine > 0 or kind == "refinding", "b": True},
    )


def test_parts_add_up_to_the_mrr_and_the_recall(sb: ModuleType) -> None:
    outcomes = [
        outcome(sb, "u1", "tune", "in_session", 1.0, 1.0),
        outcome(sb, "u1", "tune", "refinding", 0.5, 0.0),
        outcome(sb, "u2", "held_out", "refinding", 0.0, 0.0),
        outcome(sb, "u2", "held_out", "unrelated", 0.0, 0.25),
    ]
    table = sb.breakdown(outcomes, ("a", "b"))
    assert set(table["all"]) == set(sb.CATEGORIES)
    assert set(table) == {"all", "tune", "held_out", "bounds"}
    for part, mrr_a, recall_a in (("all", 1.5 / 4, 3 / 4), ("held_out", 0.0, 1 / 2)):
        rows = table[part].values()
        assert sum(row["share"] for row in rows) == pytest.approx(1.0)
        assert sum(row["a"]["mrr_part"] for row in rows) == pytest.approx(mrr_a)
        assert sum(row["a"]["recall_part"] for row in rows) == pytest.approx(recall_a)
    assert table["held_out"]["unrelated"]["b"]["mrr_part"] == pytest.approx(0.125)
    # the covered re-found targets moved up (u1's from rank 2, u2's from beyond the top 10)
    bounds = table["bounds"]
    assert bounds["all"]["a_mrr_if_refound_first"] == pytest.approx(3.0 / 4)
    assert bounds["all"]["a_mrr_if_refound_second"] == pytest.approx(2.0 / 4)
    assert bounds["all"]["b_mrr_if_refound_first"] == pytest.approx(3.25 / 4)
    assert bounds["held_out"]["a_mrr_if_refound_second"] == pytest.approx(0.5 / 2)
    # a re-found target the system did not cover stays where it was
    missed = [outcome(sb, "u3", "tune", "in_session", 0.0, 0.0)]
    missed.append(
        sb.Outcome("u3", "tune", "refinding", {"a": 0.0, "b": 0.0}, {"a": False, "b": True})
    )
    assert sb.breakdown(missed, ("a", "b"))["bounds"]["tune"] == {
        "a_mrr_if_refound_first": 0.0,
        "a_mrr_if_refound_second": 0.0,
        "b_mrr_if_refound_first": 0.5,
        "b_mrr_if_refound_second": 0.25,
    }


def test_user_bootstrap(sb: ModuleType) -> None:
    same = [
        outcome(sb, f"u{i}", "held_out", "in_session", 1.0 / (i + 1), 1.0 / (i + 1))
        for i in range(5)
    ]
    interval = sb.user_bootstrap(same, "a", "b")
    assert interval["held_out"] == {"users": 5, "low": 1.0, "high": 1.0}
    assert interval["tune"] is None
    # one user carries all the lift: the interval is wide and reaches 1
    skewed = [outcome(sb, "u0", "tune", "refinding", 1.0, 0.0)] + [
        outcome(sb, f"u{i}", "tune", "in_session", 0.5, 0.5) for i in range(1, 6)
    ]
    ratio = sb.user_bootstrap(skewed, "a", "b", rounds=500, seed=3)["tune"]
    assert ratio["low"] == 1.0 and ratio["high"] > 1.3
    assert ratio == sb.user_bootstrap(skewed, "a", "b", rounds=500, seed=3)["tune"]
