"""The learned query-suggestion ranker: the user's habits, its features, the scorer, fitting."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from confidante.errors import InvalidInputError
from confidante.tools.suggest import Activity, GlobalLayer, Ranker, UserProfile
from confidante.tools.suggest.features import NEW_FEATURES, SESSION_FEATURES
from confidante.tools.suggest.learned import (
    LearnedScorer,
    LogisticPart,
    TrainingRow,
    fit_scorer,
    shipped_scorer,
)
from confidante.tools.suggest.ranker import MIN_TRANSITIONS

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def session(*texts: str, day: int = 0) -> list[Activity]:
    """One session on day ``day``: queries two minutes apart."""
    start = T0 + timedelta(days=day)
    return [Activity(text, start + timedelta(minutes=2 * i)) for i, text in enumerate(texts)]


def test_habits_are_counted_before_each_query_is_added() -> None:
    profile = UserProfile.build(
        [
            *session("bank login", "news today", "bank login"),  # again in the session
            *session("bank login", "news today", day=1),  # a habit, and a re-found query
            *session("weather", "weather", "recipes", day=2),  # repeated; then new
        ]
    )
    habits = profile.habits
    assert habits.transitions == 5
    assert (habits.again, habits.session, habits.refinds, habits.follows) == (1, 2, 1, 1)
    assert habits.rate(habits.again) == pytest.approx(2 / 7)
    assert profile.repeat_rate == habits.rate(habits.session)
    assert profile.chains[("bank login", "news today")] == {"bank login": 1}
    assert profile.sessions == 3
    assert profile.last_session == {"bank login": 1, "news today": 1, "weather": 2, "recipes": 2}
    assert profile.count_rank["bank login"] == 0 and profile.total == 8


def habit_and_frequency() -> UserProfile:
    """After "bank login" this user reads the news; alone, they check the weather most."""
    history: list[Activity] = []
    for day in range(30):
        history += session("bank login", "news today", day=2 * day)
        history += session("weather", "weather", "weather", day=2 * day + 1)
    return UserProfile.build(history)


def test_features_tell_the_habit_after_this_query_from_the_most_frequent_query() -> None:
    profile = habit_and_frequency()
    found = Ranker(GlobalLayer(), scorer=None).featurize(["bank login"], profile, learned=True)
    habit, frequent = found["news today"], found["weather"]
    assert habit["follow_share"] > 0.9 and frequent["follow_share"] == 0.0
    assert frequent["count_rank"] == 1.0 and habit["count_rank"] < 1.0
    assert habit["rate_again"] == frequent["rate_again"] > 0.3  # the user's own calibration
    assert found["bank login"]["is_latest"] == 1.0 and habit["is_latest"] == 0.0
    assert set(SESSION_FEATURES) | set(NEW_FEATURES) <= set(habit)


def test_the_ranker_ranks_with_the_shipped_model_given_enough_history() -> None:
    profile = habit_and_frequency()
    assert profile.transitions >= MIN_TRANSITIONS
    ranker = Ranker(GlobalLayer())
    assert ranker.scorer is shipped_scorer()
    ranked = ranker.suggest(["bank login"], profile)
    queries = [s.query for s in ranked]
    assert queries.index("news today") < queries.index("weather")
    assert "follow_share" in ranked[queries.index("news today")].features
    found = ranker.featurize(["bank login"], profile)
    for suggestion in ranked:  # the features shown are those scored
        nonzero = {name: round(v, 4) for name, v in found[suggestion.query].items() if v}
        assert nonzero == suggestion.features
    linear = Ranker(GlobalLayer(), scorer=None).suggest(["bank login"], profile)
    assert "follow_share" not in linear[0].features
    short = UserProfile.build(session("bank login", "news today"))
    assert not ranker.learned_applies(["bank login"], short)  # too little history
    assert not ranker.learned_applies([], profile)


def part(names: tuple[str, ...], coef: tuple[float, ...], intercept: float = 0.0) -> LogisticPart:
    return LogisticPart(names, (0.0,) * len(names), (1.0,) * len(names), coef, intercept)


def test_scorer_puts_both_models_on_one_list_and_round_trips(tmp_path: object) -> None:
    scorer = LearnedScorer(part(("is_latest",), (2.0,)), part(("follow_share",), (4.0,)), 1.0)
    candidates = {"bank login": {"is_latest": 1.0}, "news today": {"follow_share": 1.0}}
    scores = scorer.score(candidates, {"bank login"})
    assert scores["news today"] > scores["bank login"]  # sigmoid(4) > sigmoid(2)
    damped = LearnedScorer(scorer.again, scorer.new, boost=0.5).score(candidates, {"bank login"})
    assert damped["news today"] < damped["bank login"]
    assert LearnedScorer.from_dict(scorer.to_dict()) == scorer
    with pytest.raises(InvalidInputError):
        LearnedScorer.from_dict({"again": {}})
    with pytest.raises(InvalidInputError):
        LogisticPart(("a", "b"), (0.0,), (1.0,), (1.0,), 0.0)


def test_fit_scorer_learns_from_hits_and_misses() -> None:
    rows = []
    for index in range(40):
        rows.append(TrainingRow({"is_latest": 1.0}, in_session=True, hit=index % 4 == 0))
        rows.append(TrainingRow({"is_latest": 0.0}, in_session=True, hit=False))
        rows.append(TrainingRow({"follow_share": 0.9}, in_session=False, hit=index % 2 == 0))
        rows.append(TrainingRow({"follow_share": 0.0}, in_session=False, hit=index % 20 == 0))
    scorer = fit_scorer(rows, boost=1.5, strength=10.0, trained_on={"half": "tune"})
    assert scorer.boost == 1.5 and scorer.trained_on == {"half": "tune"}
    assert scorer.again.features == SESSION_FEATURES and scorer.new.features == NEW_FEATURES
    scores = scorer.score(
        {"latest": {"is_latest": 1.0}, "habit": {"follow_share": 0.9}, "other": {}}, {"latest"}
    )
    assert scores["habit"] > scores["latest"] > scores["other"]
    with pytest.raises(InvalidInputError):
        fit_scorer([TrainingRow({}, in_session=True, hit=False)] * 3)


def test_the_shipped_model_was_fitted_on_the_tune_half_only() -> None:
    shipped = shipped_scorer()
    assert shipped.trained_on["half"] == "tune"
    assert shipped.again.features == SESSION_FEATURES
    assert shipped.new.features == NEW_FEATURES
    assert shipped.boost > 0
