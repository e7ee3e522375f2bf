"""The recommender on every memory backend: catalog table, interactions as events, forget_user."""

from __future__ import annotations

import pytest

from confidante._sync import run_sync
from confidante.memory.store import Memory
from confidante.tools.recommend import CatalogItem, Recommender
from confidante.tools.recommend.interactions import aload


@pytest.mark.slow  # starts the PostgreSQL servers
def test_recommend_on_each_backend(memory: Memory) -> None:
    recommender = Recommender(memory)
    items = [CatalogItem(id=str(i), title=f"Item {i}") for i in range(6)]
    assert run_sync(recommender.catalog.aadd(items)).added == 6
    assert run_sync(recommender.catalog.aadd(items[:1])).unchanged == 1
    renamed = [items[0].model_copy(update={"title": "Item zero"})]
    assert run_sync(recommender.catalog.aadd(renamed)).kept == 1
    assert run_sync(recommender.catalog.aadd(renamed, replace=True)).replaced == 1
    assert run_sync(recommender.catalog.aitems(["0"]))[0].title == "Item zero"
    assert run_sync(recommender.catalog.acount()) == 6
    for user, seen in {"a": "012", "b": "013", "c": "45"}.items():
        for item in seen:
            recommender.interact(user, item, "rated", rating=4.0)
    recommender.interact("d", "0")
    found = recommender.recommend("d", k=2)
    assert found[0].item.id == "1"  # seen after 0 by two users
    memory.forget_user("a")
    assert run_sync(aload(memory, "a")) == []
    assert [i.item for i in run_sync(aload(memory, "b"))] == ["0", "1", "3"]
