"""Generated candidates: edits of the latest query, personal and k-anonymous, and isolation."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from confidante.tools.suggest import Activity, GlobalLayer, Ranker, UserProfile, Weights
from confidante.tools.suggest.generate import (
    Edit,
    added_word_edits,
    drop_word_edits,
    edit_between,
    entity_additions,
)

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def acts(*texts: str, start: datetime = T0) -> list[Activity]:
    return [Activity(text, start + timedelta(minutes=2 * i)) for i, text in enumerate(texts)]


def test_edit_between_finds_added_and_dropped_words_only() -> None:
    assert edit_between("hotels", "hotels boston") == Edit("after", "boston")
    assert edit_between("hotels", "cheap hotels") == Edit("before", "cheap")
    assert edit_between("cheap hotels boston", "cheap boston") == Edit("drop", "")
    assert edit_between("hotels", "hotels in boston ma 2006") is None  # four words added
    assert edit_between("hotels boston", "motels boston") is None
    assert edit_between("a b", "a b") is None


def test_drop_and_add_generators() -> None:
    assert sorted(drop_word_edits("cheap hotels boston")) == [
        "cheap boston",
        "cheap hotels",
        "hotels boston",
    ]
    assert list(drop_word_edits("hotels")) == []
    edits = {Edit("after", "reviews"): 3.0, Edit("before", "cheap"): 1.0, Edit("drop", ""): 5.0}
    got = dict(added_word_edits("pizza places", edits, limit=5))
    assert got == {"pizza places reviews": 3.0 / 10, "cheap pizza places": 1.0 / 10}
    assert list(added_word_edits("pizza reviews", edits, limit=5)) == [
        ("cheap pizza reviews", 0.1)  # "reviews" is already there
    ]
    assert len(list(added_word_edits("pizza places", edits, limit=1))) == 1
    ranked = [("boston", 3.0), ("pizza", 2.0), ("red sox", 1.0)]
    assert [q for q, _ in entity_additions(ranked, "pizza places", 5)] == [
        "pizza places boston",
        "pizza places red sox",
    ]


def test_profile_and_global_layer_learn_edits() -> None:
    profile = UserProfile.build(
        [
            *acts("pizza", "pizza reviews"),
            *acts("sushi", "sushi reviews", start=T0 + timedelta(hours=3)),
            *acts("cheap hotels boston", "hotels boston", start=T0 + timedelta(hours=6)),
        ]
    )
    assert profile.edits == {Edit("after", "reviews"): 2, Edit("drop", ""): 1}
    users = {f"u{i}": acts("weather", "weather boston") for i in range(3)}
    users["u0"] = [*users["u0"], *acts("tacos", "tacos 12 elm street", start=T0 + timedelta(1))]
    layer = GlobalLayer.build(users, min_users=3)
    assert layer.edits == {Edit("after", "boston"): 3}  # one user's edit stays out


def test_the_user_store_gives_personal_edits_of_the_latest_query_only_as_real_queries() -> None:
    profile = UserProfile.build(
        [
            *acts("pizza", "pizza reviews"),
            *acts("sushi", "sushi reviews", start=T0 + timedelta(hours=3)),
            *acts("boston weather", "boston weather", start=T0 + timedelta(hours=6)),
            *acts("tacos reviews", "tacos boston", start=T0 + timedelta(hours=9)),
        ]
    )
    ranker = Ranker(GlobalLayer())
    found = ranker.featurize(["tacos"], profile)
    assert found["tacos reviews"]["user_edit"] > 0  # how this user refines, and a query of theirs
    assert found["tacos boston"]["entity_edit"] > 0  # the user's heaviest entity, typed before
    alone = ranker.featurize(["tacos"], None)
    assert "tacos reviews" not in alone and "tacos boston" not in alone
    weighted = Ranker(GlobalLayer(), replace(Weights(), user_edit=50.0))
    top = weighted.suggest(["tacos"], profile, k=1)[0]
    assert top.query == "tacos reviews" and "user_edit" in top.sources
    # the same edits of a query the user never typed make no candidate
    glued = ranker.featurize(["burrito"], profile)
    assert "burrito reviews" not in glued and "burrito boston" not in glued


def test_session_only_gets_the_non_personal_edits() -> None:
    users = {
        f"u{i}": [
            *acts("weather", "weather boston"),
            *acts("pizza boston", start=T0 + timedelta(1)),
        ]
        for i in range(3)
    }
    ranker = Ranker(GlobalLayer.build(users, min_users=3))
    found = ranker.featurize(["cheap pizza", "pizza"], None)
    assert found["pizza boston"]["global_edit"] > 0  # k users typed it
    assert "sushi boston" not in ranker.featurize(["sushi"], None)  # nobody typed that
    assert "pizza" in ranker.featurize(["cheap pizza"], None)  # a word dropped
    assert ranker.featurize(["cheap pizza"], None)["pizza"]["session_edit"] == 1.0


def test_generated_candidates_never_hold_another_users_private_words() -> None:
    ana = acts("pizza", "pizza reviews", "ana street 12 lisbon", "ana street 12 lisbon")
    bob = acts("tacos", "tacos bob secret clinic", "bob secret clinic", "bob secret clinic")
    others = {f"u{i}": acts("weather", "weather lisbon") for i in range(3)}
    users = {"ana": ana, "bob": bob, **others}
    layer = GlobalLayer.build(users, min_users=3)
    profiles = {user: UserProfile.build(history) for user, history in users.items()}
    ranker = Ranker(layer)
    bob_words = {"bob", "secret", "clinic"}
    for session in (["tacos"], ["pizza"], ["weather"], ["clinic"], []):
        for query in ranker.featurize(session, profiles["ana"]):
            own = set(session[-1].split()) if session else set()
            assert not (bob_words - own) & set(query.split()), query
    generated = ranker.featurize(["tacos"], profiles["ana"])
    assert "tacos bob secret clinic" not in generated
    assert not any(q.startswith("tacos ") and "lisbon" in q for q in generated)  # not glued


def test_memory_words_are_never_glued_onto_the_session() -> None:
    """Issue 25: ``ericeira biscuit and i``, ``ericeira remind``, ``ericeira take``."""
    said = [
        Activity("Biscuit and I walked to the beach", T0, kind="topic"),
        Activity("Remind me to take Biscuit to the vet", T0 + timedelta(minutes=1), kind="topic"),
        Activity("Biscuit and I love Lisbon", T0 + timedelta(minutes=2), kind="topic"),
        *acts("surf lisbon", "surf lisbon", "surf camp", start=T0 + timedelta(hours=2)),
    ]
    profile = UserProfile.build(said)
    session = ["surf lisbon", "ericeira"]
    real = set(profile.queries)
    for ranker in (Ranker(GlobalLayer()), Ranker(GlobalLayer(), scorer=None)):
        for found in (ranker.featurize(session, profile), ranker.featurize(session, None)):
            for query in found:
                grounded = set(query.split()) <= {"surf", "lisbon", "ericeira"}
                assert query in real or grounded, query
        queries = [s.query for s in ranker.suggest(session, profile, k=20)]
        assert not [q for q in queries if q.startswith("ericeira ")], queries
        assert "surf camp" in queries  # the user's own query stays a candidate
