"""Bad input: empty, huge, binary, invalid UTF-8, control characters, SQL, broken images, ids.

Every bad value must raise a clear :mod:`confidante.errors` error (never a driver or codec
exception), store nothing, and leave the database working; odd but valid text (control
characters, SQL, full-text query syntax) must be stored and read back exactly.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from workers.common import HashEmbedder

from confidante import Agent
from confidante.errors import ConfidanteError, InvalidInputError, NotFoundError
from confidante.memory.store import Memory
from confidante.settings import Settings

HUGE = "x" * 1_000_000
BAD_TEXTS: dict[str, Any] = {
    "empty": "",
    "blank": " \n\t ",
    "huge-1MB": HUGE,
    "bytes": b"\x89PNG\r\n\x1a\n\x00\x00binary",
    "bytearray": bytearray(b"\xff\xfe\x00"),
    "none": None,
    "int": 42,
    "nul": "hello\x00world",
    "lone-surrogate": "caf\udce9 au lait",
    "surrogateescape": b"\xff\xfeinvalid \xc3\x28 utf8".decode("utf-8", "surrogateescape"),
    "high-surrogate": "\ud800",
}
ODD_BUT_VALID = [
    "bell\x07 escape\x1b[31m red\x1b[0m tab\tvertical\x0bform\x0c",
    "'; DROP TABLE concepts; --",
    'Robert"); DELETE FROM users WHERE ("1"="1',
    "1 OR 1=1; SELECT * FROM concepts WHERE user_id != 'me'",
    'NEAR("unbalanced * OR AND NOT ^col: "',
    "emoji 🐕 and RTL \u202eevil\u202c and zero-width\u200bjoiner",
    "%s %d {0} {user_id} $(rm -rf /) `id`",
]
BAD_IDS: list[Any] = ["", " ", "\x00", "a\x00b", "x" * 10_000, "\udcff", None, 7, b"id"]
BAD_USERS: list[Any] = ["", "   ", "a\x00b", "\udcff", "line\nbreak", "x" * 201, None, 3, b"u"]


@pytest.fixture
def mem(settings: Settings) -> Iterator[Memory]:
    memory = Memory.open(settings=settings, embedder=HashEmbedder())
    yield memory
    memory.close()


def _all_rows(memory: Memory) -> int:
    path = memory.database.engine.url.database
    assert path is not None
    with sqlite3.connect(path) as connection:
        return sum(
            connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for table in ("concepts", "concept_vectors", "events", "audit_log")
        )


@pytest.mark.parametrize("value", list(BAD_TEXTS.values()), ids=list(BAD_TEXTS))
def test_bad_text_is_refused_with_a_clear_error_and_stores_nothing(mem: Memory, value: Any) -> None:
    before = _all_rows(mem)
    with pytest.raises(InvalidInputError):
        mem.remember("ana", value)
    with pytest.raises(InvalidInputError):
        mem.remember_many("ana", ["a fine text", value])
    with pytest.raises(InvalidInputError):
        mem.record_event("ana", "user", value)
    with pytest.raises(InvalidInputError):
        mem.retrieve("ana", value)
    assert _all_rows(mem) == before, "a refused write stored something"
    mem.remember("ana", "The database still works.")
    assert [hit.text for hit in mem.list_items("ana")] == ["The database still works."]


@pytest.mark.parametrize("value", list(BAD_TEXTS.values()), ids=list(BAD_TEXTS))
def test_bad_messages_to_the_agent_are_refused(settings: Settings, value: Any) -> None:
    agent = Agent(user_id="ana", settings=settings)
    with pytest.raises(InvalidInputError):
        agent.chat(value)
    assert agent.memory.events("ana") == []
    assert agent.chat("My dog is called Biscuit.")  # the agent still works
    agent.close()


@pytest.mark.parametrize("text", ODD_BUT_VALID)
def test_odd_text_is_stored_verbatim_and_is_only_data(mem: Memory, text: str) -> None:
    item_id = mem.remember("ana", text)
    assert mem.get("ana", item_id).text == text.strip()
    hits = mem.retrieve("ana", text, k=5)  # full-text query syntax in the query is not parsed
    assert [hit.id for hit in hits] == [item_id]
    assert mem.retrieve("bob", text, k=5) == []
    updated = mem.update("ana", item_id, text=text + " (edited)")
    assert updated.text == (text + " (edited)").strip()
    mem.forget("ana", item_id)
    assert mem.list_items("ana") == []
    mem.remember("ana", "Tables are intact.")
    assert len(mem.list_items("ana")) == 1


@pytest.mark.parametrize("user", BAD_USERS, ids=[repr(u)[:20] for u in BAD_USERS])
def test_bad_user_ids_are_refused_everywhere(mem: Memory, settings: Settings, user: Any) -> None:
    calls = [
        lambda: mem.remember(user, "text"),
        lambda: mem.retrieve(user, "text"),
        lambda: mem.list_items(user),
        lambda: mem.forget_user(user),
        lambda: mem.record_event(user, "user", "text"),
        lambda: mem.export(user),
    ]
    for call in calls:
        with pytest.raises(InvalidInputError):
            call()
    with pytest.raises(InvalidInputError):
        Agent(user_id=user, settings=settings)


@pytest.mark.parametrize("item_id", BAD_IDS, ids=[repr(i)[:20] for i in BAD_IDS])
def test_bad_or_unknown_ids_are_not_found(mem: Memory, item_id: Any) -> None:
    mine = mem.remember("ana", "Ana likes tea.")
    for call in (
        lambda: mem.get("ana", item_id),
        lambda: mem.update("ana", item_id, text="changed"),
        lambda: mem.forget("ana", item_id),
        lambda: mem.history("ana", item_id),
        lambda: mem.merge("ana", [mine, item_id]),
    ):
        with pytest.raises(InvalidInputError):
            call()
    assert [hit.id for hit in mem.list_items("ana")] == [mine]


def test_unknown_users_and_other_users_ids_look_the_same(mem: Memory) -> None:
    mine = mem.remember("ana", "Ana likes tea.")
    assert mem.list_items("nobody") == []
    assert mem.retrieve("nobody", "tea") == []
    assert mem.forget_user("nobody")["concepts"] == 0
    for user in ("nobody", "bob"):
        with pytest.raises(NotFoundError) as stranger:
            mem.get(user, mine)
        with pytest.raises(NotFoundError) as unknown:
            mem.get(user, "0" * 32)
        assert str(stranger.value).replace(mine, "ID") == str(unknown.value).replace("0" * 32, "ID")
        with pytest.raises(NotFoundError):
            mem.update(user, mine, text="hijacked")
        with pytest.raises(NotFoundError):
            mem.forget(user, mine)
    assert mem.get("ana", mine).text == "Ana likes tea."


def _png(size: tuple[int, int] = (8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def _bad_images(tmp_path: Path) -> dict[str, Any]:
    png = _png()
    (tmp_path / "text.png").write_text("not an image")
    return {
        "empty-bytes": b"",
        "random-bytes": b"\x00\x01garbage" * 50,
        "truncated-png": png[: len(png) // 2],
        "png-header-only": png[:16],
        "corrupt-body": png[:40] + b"\x00" * 40 + png[80:],
        "missing-file": tmp_path / "absent.png",
        "directory": tmp_path,
        "text-file": tmp_path / "text.png",
        "zero-size-image": Image.new("RGB", (0, 0)),
    }


def test_malformed_images_are_refused_and_leave_no_file(mem: Memory, tmp_path: Path) -> None:
    bad = _bad_images(tmp_path)
    for name, image in bad.items():
        with pytest.raises(InvalidInputError):
            mem.remember_image("ana", image, caption=f"broken {name}")
    assert mem.list_items("ana") == []
    assert not any(path.is_file() for path in mem.images.root.rglob("*")), "orphan image file"
    item_id = mem.remember_image("ana", _png(), caption="A red square.")
    assert mem.get("ana", item_id).image_path


def test_every_refusal_is_a_confidante_error(mem: Memory) -> None:
    """No codec, driver or PIL exception escapes: callers can catch one base class."""
    calls: list[Any] = []
    for value in BAD_TEXTS.values():
        calls += [
            lambda value=value: mem.remember("ana", value),
            lambda value=value: mem.remember_image("ana", value, caption="c"),
            lambda value=value: mem.remember_image("ana", _png(), caption=value),
        ]
    for value in BAD_IDS:
        calls += [
            lambda value=value: mem.update("ana", value, text="x"),
            lambda value=value: mem.remember(value, "x"),
        ]
    for call in calls:
        try:
            call()
        except ConfidanteError:
            continue
        pytest.fail("a bad value was accepted")
    assert len(calls) == 3 * len(BAD_TEXTS) + 2 * len(BAD_IDS)
    assert mem.list_items("ana") == []
