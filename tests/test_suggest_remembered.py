"""What the suggestion ranker remembers to be fast gives the answers it gave when computed anew."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from confidante.tools.suggest import Activity, GlobalLayer, Ranker, UserProfile
from confidante.tools.suggest.features import learned_features, make_context
from confidante.tools.suggest.learned import LogisticPart
from confidante.tools.suggest.text import extract_entities, terms

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)


def session(*texts: str, day: int = 0) -> list[Activity]:
    """One session on day ``day``: queries two minutes apart."""
    start = T0 + timedelta(days=day)
    return [Activity(text, start + timedelta(minutes=2 * i)) for i, text in enumerate(texts)]


def profile() -> UserProfile:
    return UserProfile.build(
        [
            *session("surf lisbon", "ericeira surf camp", "lisbon trams"),
            *session("surf lisbon", "ericeira surf camp", day=1),
            *session("lisbon trams", "porto wine tour", day=2),
        ]
    )


def test_words_and_entities_are_fresh_lists_on_every_call() -> None:
    first = terms("Cheap flights to New York")
    first.append("changed")
    assert terms("Cheap flights to New York") == ["cheap", "flights", "new", "york"]
    names = extract_entities("cheap flights to new york")
    names.clear()
    assert extract_entities("cheap flights to new york")[:2] == ["cheap flights", "new york"]


def test_entity_link_is_the_sum_over_the_session_entities_links() -> None:
    store = profile()
    context = make_context(["surf lisbon"], 0.25, store, GlobalLayer())
    for name in ("ericeira", "trams", "porto", "nowhere"):
        expected = sum(weight * neighbours.get(name, 0.0) for weight, neighbours in context.links)
        assert math.isclose(context.linked(name), expected)
        assert context.linked(name) == context.linked(name)  # remembered, unchanged
    features = learned_features("ericeira surf camp", context, store, GlobalLayer())
    entities = store.queries["ericeira surf camp"].entities
    assert math.isclose(features["entity_link"], sum(context.linked(e) for e in entities))
    assert features["entity_link"] > 0


def test_a_missing_feature_counts_as_zero() -> None:
    part = LogisticPart(("a", "b"), (0.0, 0.0), (1.0, 1.0), (1.0, -2.0), 0.5)
    missing, zero = part.probabilities([{"a": 1.0}, {"a": 1.0, "b": 0.0}])
    assert missing == zero == 1.0 / (1.0 + math.exp(-1.5))
    alone = LogisticPart(("a",), (0.0,), (1.0,), (2.0,), 0.0)
    assert list(alone.probabilities([{"a": 0.0}, {}])) == [0.5, 0.5]


def test_the_same_call_gives_the_same_suggestions() -> None:
    ranker = Ranker(GlobalLayer(), scorer=None)
    store = profile()
    first = [s.as_dict() for s in ranker.suggest(["surf lisbon"], store)]
    again = [s.as_dict() for s in ranker.suggest(["surf lisbon"], store)]
    assert first == again
    assert first[0]["query"] in {"surf lisbon", "ericeira surf camp"}
    assert any("ericeira" in s["entities"] or "surf" in s["entities"] for s in first)
