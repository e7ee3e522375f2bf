"""Query suggestion without a database: extraction, the profile, the k-anonymous global layer,
the ranker and the chat-model rerank."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

import confidante.tools.suggest as suggest
from confidante.errors import InvalidInputError
from confidante.models.scripted import ScriptedChatModel
from confidante.tools.suggest import (
    Activity,
    GlobalLayer,
    Ranker,
    UserProfile,
    Weights,
    extract_entities,
    scripted_rerank,
)
from confidante.tools.suggest.rerank import arerank

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def acts(*texts: str, start: datetime = T0, step_min: int = 2) -> list[Activity]:
    return [Activity(text, start + timedelta(minutes=step_min * i)) for i, text in enumerate(texts)]


def test_public_names() -> None:
    for name in suggest.__all__:
        assert getattr(suggest, name) is not None


def test_entities_are_phrases_between_stopwords_and_their_words() -> None:
    assert extract_entities("cheap flights to new york")[:2] == ["cheap flights", "new york"]
    assert "bank of america" in extract_entities("Deals at Bank of America")
    assert extract_entities("www.myspace.com") == ["myspace"]
    assert extract_entities("the of and") == []


def test_activity_validation() -> None:
    with pytest.raises(InvalidInputError):
        Activity("  ", T0)
    with pytest.raises(InvalidInputError):
        Activity("x", T0, kind="purchase")  # type: ignore[arg-type]
    assert Activity("x", datetime(2026, 1, 1)).at.tzinfo is not None


def test_profile_counts_decay_links_and_follows() -> None:
    old = acts("surf lisbon", "surf lessons lisbon", start=T0 - timedelta(days=14))
    new = acts("surf lisbon", "ericeira surf camp")
    profile = UserProfile.build([*old, *new], half_life_days=7, as_of=T0)
    stats = profile.queries["surf lisbon"]
    assert stats.count == 2
    assert stats.weight == pytest.approx(1.0 + 0.25, abs=1e-6)  # now + two half-lives ago
    assert profile.follows["surf lisbon"] == {"surf lessons lisbon": 1, "ericeira surf camp": 1}
    assert profile.links["surf"]["lisbon"] > 0
    assert profile.top_entities(1)[0][0] == "surf"


def test_sessions_split_after_thirty_minutes() -> None:
    profile = UserProfile.build(acts("a query", "b query", step_min=31))
    assert not profile.follows  # never in the same session


def test_clicks_and_topics_feed_entities_but_are_never_suggested() -> None:
    profile = UserProfile.build(
        [Activity("Surfing in Ericeira", T0, kind="click"), Activity("surf", T0, kind="topic")]
    )
    assert "ericeira" in profile.entities and not profile.queries


def test_global_layer_keeps_only_what_k_users_share() -> None:
    shared = ["weather lisbon", "lisbon tram 28"]
    users = {f"u{i}": acts(*shared) for i in range(3)}
    users["u0"] = acts(*shared, "ana private address 12")
    users["u9"] = acts("weather lisbon", "only u9 follows this")
    layer = GlobalLayer.build(users, min_users=3)
    assert layer.queries["weather lisbon"] == 4  # distinct users, not occurrences
    assert "ana private address 12" not in layer.queries
    assert "only u9 follows this" not in layer.queries
    assert layer.follows["weather lisbon"] == {"lisbon tram 28": 3}
    assert GlobalLayer.build(users, min_users=5).queries == {}
    with pytest.raises(InvalidInputError):
        GlobalLayer.build(users, min_users=1)


def test_global_counts_users_not_repeats() -> None:
    users = {"a": acts(*["secret thing"] * 10), "b": acts("other")}
    assert GlobalLayer.build(users, min_users=2).queries == {}


def test_the_user_store_changes_the_ranking() -> None:
    history = acts("surf lisbon", "ericeira surf camp", start=T0 - timedelta(days=1))
    profile = UserProfile.build(history)
    ranker = Ranker(GlobalLayer())
    personal = ranker.suggest(["surf lisbon"], profile, k=10)
    # the user always went on to the camp: that follow-up beats repeating the query
    assert [s.query for s in personal][:2] == ["ericeira surf camp", "surf lisbon"]
    assert "surf" in personal[0].entities and "user_follow" in personal[0].sources
    alone = ranker.suggest(["surf lisbon"], None, k=10)
    assert "ericeira surf camp" not in [s.query for s in alone]
    without = ranker.suggest(["surf lisbon"], profile, include_session=False)
    assert "surf lisbon" not in [s.query for s in without]


def test_session_habits_and_repeat_streak() -> None:
    history = [
        *acts("bank login", "weather lisbon", "news today"),
        *acts("news today", "bank login", start=T0 + timedelta(hours=5)),
    ]
    profile = UserProfile.build(history)
    assert profile.cosession["bank login"] == {"weather lisbon": 1, "news today": 2}
    ranker = Ranker(GlobalLayer())
    # typed in the same sessions as "news today", though never right after it
    found = {s.query: s for s in ranker.suggest(["news today"], profile)}
    assert "user_session" in found["weather lisbon"].sources
    assert found["weather lisbon"].features["user_cosession"] > 0
    streaky = Ranker(GlobalLayer(), Weights(repeat_streak=5.0))
    paging = streaky.suggest(["bank login", "news today", "news today"], profile)
    assert paging[0].query == "news today" and paging[0].features["repeat_streak"] == 1.0
    assert "repeat_streak" not in ranker.suggest(["news today"], profile)[0].features


def test_featurize_gives_what_suggest_weighs() -> None:
    profile = UserProfile.build(acts("surf lisbon", "ericeira surf camp", "lisbon tram 28"))
    ranker = Ranker(GlobalLayer())
    found = ranker.featurize(["surf lisbon"], profile)
    for suggestion in ranker.suggest(["surf lisbon"], profile):
        nonzero = {name: round(v, 4) for name, v in found[suggestion.query].items() if v}
        assert nonzero == suggestion.features


def test_cold_start_falls_back_to_the_global_layer() -> None:
    users = {f"u{i}": acts("weather lisbon", "lisbon tram 28") for i in range(3)}
    ranker = Ranker(GlobalLayer.build(users))
    assert [s.query for s in ranker.suggest([], None)] == ["lisbon tram 28", "weather lisbon"]
    follow = ranker.suggest(["weather lisbon"], UserProfile())
    assert follow[1].query == "lisbon tram 28" and "global_follow" in follow[1].sources


async def test_rerank_puts_interests_first_and_keeps_grounded_rewrites_only() -> None:
    profile = UserProfile.build(acts("ericeira surf camp", "ericeira surf camp"))
    candidates = Ranker(GlobalLayer()).suggest(["lisbon"], profile) + Ranker().suggest(
        ["vegetarian food"], None
    )
    model = ScriptedChatModel(function=scripted_rerank)
    reranked = await arerank(model, ["lisbon"], profile, "Likes surfing.", candidates, 3)
    assert reranked[0].query == "ericeira surf camp"
    request = model.calls[0]["messages"][-1]["content"]
    assert "User's interests:" in request and "Likes surfing." in request
    rewrite = ScriptedChatModel(responses=[{"queries": ["ericeira surf lisbon", "bitcoin price"]}])
    got = await arerank(rewrite, ["lisbon"], profile, "", candidates, 3)
    assert got[0].query == "ericeira surf lisbon" and got[0].sources == ["model"]
    assert "bitcoin price" not in [s.query for s in got]  # not grounded: dropped
    broken = ScriptedChatModel(responses=[{"nope": 1}, {"nope": 2}])
    fallback = await arerank(broken, ["lisbon"], profile, "", candidates, 2)
    assert fallback == candidates[:2]
