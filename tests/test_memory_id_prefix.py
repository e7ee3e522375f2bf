"""Items named by a prefix of their id, as listings show them: one user's items only.

``memory`` is the conftest fixture: every backend (SQLite, PostgreSQL, PostgreSQL + pgvector).
"""

from __future__ import annotations

from typing import Any

import pytest

from confidante.errors import InvalidInputError, NotFoundError
from confidante.memory.id_prefix import match_id_prefix
from confidante.memory.store import Memory


def with_ids(memory: Memory, user: str, ids_and_texts: dict[str, str]) -> None:
    """Give ``user`` items with chosen ids (through an export imported with ``keep_ids``)."""
    for text in ids_and_texts.values():
        memory.remember("scratch", text)
    data: dict[str, Any] = memory.export("scratch")
    by_text = {text: item_id for item_id, text in ids_and_texts.items()}
    for item in data["items"]:
        item["id"] = by_text[item["text"]]
    memory.forget_user("scratch")
    memory.import_(user, data, keep_ids=True)


def test_a_unique_prefix_names_the_item(memory: Memory) -> None:
    item_id = memory.remember("ana", "Ana's dog is called Biscuit.")
    found = memory.resolve_item("ana", item_id[:12])
    assert (found.id, found.text) == (item_id, "Ana's dog is called Biscuit.")
    assert memory.resolve_item("ana", item_id).id == item_id
    with pytest.raises(NotFoundError, match="at least 6 characters"):
        memory.resolve_item("ana", item_id[:3])
    with pytest.raises(NotFoundError, match="no memory"):
        memory.resolve_item("bob", item_id[:12])  # another user's item is not found


def test_an_ambiguous_prefix_lists_the_candidates_of_that_user_only(memory: Memory) -> None:
    with_ids(memory, "ana", {"abcdef01": "Ana rows.", "abcdef02": "Ana swims."})
    with_ids(memory, "bob", {"abcdef13": "Bob cycles."})
    with pytest.raises(InvalidInputError, match="ambiguous") as raised:
        memory.resolve_item("ana", "abcdef0")
    message = str(raised.value)
    assert "abcdef01  Ana rows." in message and "abcdef02  Ana swims." in message
    assert "abcdef13" not in message and not isinstance(raised.value, NotFoundError)
    assert memory.resolve_item("ana", "abcdef02").text == "Ana swims."
    assert memory.resolve_item("bob", "abcdef").text == "Bob cycles."  # ana's never compete
    with pytest.raises(NotFoundError):
        memory.resolve_item("ana", "abcdef1")


def test_an_exact_short_id_wins_over_longer_ones() -> None:
    candidates = {"a1": "short", "a1b2c3d4": "long"}
    assert match_id_prefix("a1", candidates, what="memory") == "a1"
    assert match_id_prefix("a1b2c3", candidates, what="memory") == "a1b2c3d4"
    with pytest.raises(NotFoundError, match="no API key 'zz'"):
        match_id_prefix("zz", candidates, what="API key")
