"""Export and import of a user's memory (format ``confidante.memory``, version 1)."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from confidante._sync import run_sync
from confidante.errors import InvalidInputError
from confidante.memory.items import MemoryItem
from confidante.memory.portability.transfer import FORMAT, VERSION
from confidante.memory.store import Memory
from confidante.settings import Settings

COMPARED = ("text", "key", "kind", "importance", "provenance", "attributes")
TIMES = ("created_at", "valid_from", "valid_to")


def fill(memory: Memory, user: str) -> None:
    memory.remember(user, "I live in Porto.", key="home_city", provenance=["turn:1"])
    memory.remember(user, "I live in Lisbon.", key="home_city", provenance=["turn:7"])
    memory.remember(
        user, "I prefer window seats.", kind="preference", importance=0.8, seat="window"
    )
    run_sync(
        memory.aremember_many(
            user,
            [
                MemoryItem(
                    text="Book the train to Porto early.",
                    kind="document",
                    provenance=["file:/notes.md#chars=0-30", "node:/notes.md#0"],
                    attributes={"file_name": "notes.md", "title": "Trip notes", "chunk": 0},
                ),
                "My dog is called Biscuit.",
            ],
        )
    )


def essentials(export: dict[str, Any]) -> list[tuple[Any, ...]]:
    # items remembered in one batch share their time: compare regardless of order
    return sorted((tuple(item[f] for f in COMPARED + TIMES) for item in export["items"]), key=repr)


@pytest.fixture
def other(tmp_path: Path, settings: Settings) -> Iterator[Memory]:
    """A second memory on its own SQLite database."""
    store = Memory.open(tmp_path / "other.db", settings=settings)
    yield store
    store.close()


def test_round_trip_into_another_user_and_database(memory: Memory, other: Memory) -> None:
    fill(memory, "alice")
    export = json.loads(json.dumps(memory.export("alice")))  # survives JSON as is
    assert export["format"] == FORMAT and export["version"] == VERSION
    assert export["user_id"] == "alice" and len(export["items"]) == 5  # history included
    assert set(export["items"][0]) == {"id", "subject_id", "expires_at", *COMPARED, *TIMES}
    ids = other.import_("carol", export)
    assert len(ids) == 5 and set(ids).isdisjoint(item["id"] for item in export["items"])
    again = other.export("carol")
    assert essentials(again) == essentials(export)
    current = {item.text for item in other.list_items("carol")}
    assert "I live in Porto." not in current and "I live in Lisbon." in current
    (porto,) = [i for i in other.list_items("carol", include_history=True) if "Porto." in i.text]
    assert porto.valid_to is not None and porto.key == "home_city"
    hits = other.retrieve("carol", "Where do I live?", k=1)
    assert hits[0].text == "I live in Lisbon."
    # a new value for the slot still supersedes the imported one
    other.remember("carol", "I live in Madrid.", key="home_city")
    assert [i.text for i in other.list_items("carol") if i.key == "home_city"] == [
        "I live in Madrid."
    ]
    assert other.list_items("alice") == []


def test_import_twice_adds_nothing_and_merges_with_existing(memory: Memory) -> None:
    fill(memory, "alice")
    memory.remember("bob", "I live in Berlin.", key="home_city")
    memory.remember("bob", "My dog is called Biscuit.", provenance=["turn:b"])
    export = memory.export("alice")
    first = memory.import_("bob", export)
    assert memory.import_("bob", export) == first
    items = memory.list_items("bob", include_history=True)
    assert len(items) == 6  # Berlin (superseded by the imported Lisbon) + 5, no duplicates
    current = {item.text: item for item in memory.list_items("bob")}
    assert "I live in Berlin." not in current and "I live in Lisbon." in current
    assert current["My dog is called Biscuit."].provenance == ["turn:b"]  # merged, kept
    assert len(memory.list_items("alice", include_history=True)) == 5  # source untouched


def test_keep_ids(memory: Memory, other: Memory) -> None:
    fill(memory, "alice")
    export = memory.export("alice")
    ids = other.import_("alice", export, keep_ids=True)
    assert ids == [item["id"] for item in export["items"]]
    restored = other.export("alice")
    assert [i["id"] for i in restored["items"]] == ids
    assert essentials(restored) == essentials(export)
    assert other.get("alice", ids[1]).text == "I live in Lisbon."
    history = other.history("alice", ids[1])
    assert history and history[0]["action"] == "add"
    with pytest.raises(InvalidInputError, match="already in the database"):
        memory.import_("dave", export, keep_ids=True)
    assert memory.export("dave")["items"] == []


def _valid() -> dict[str, Any]:
    item = {
        "id": "a" * 32,
        "text": "I live in Lisbon.",
        "key": "home_city",
        "kind": "fact",
        "importance": 0.5,
        "provenance": [],
        "attributes": {},
        "created_at": "2026-01-02T03:04:05+00:00",
        "valid_from": "2026-01-02T03:04:05+00:00",
        "valid_to": None,
    }
    return {"format": FORMAT, "version": VERSION, "user_id": "x", "items": [item]}


def _broken(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(_valid())
    data["items"].insert(0, {**data["items"][0], "id": "b" * 32, "key": None})  # a valid one
    target: Any = data
    *parents, last = path.split(".")
    for part in parents:
        target = target[int(part)] if part.isdigit() else target[part]
    index: Any = int(last) if last.isdigit() else last
    if value is KeyError:
        del target[index]
    else:
        target[index] = value
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([1, 2], "JSON object"),
        (_broken("format", "something.else"), "not a memory export"),
        (_broken("version", 5), "unsupported export version 5"),
        (_broken("items", {"a": 1}), "'items' must be a list"),
        (_broken("items.1.text", KeyError), r"items\[1\] lacks text"),
        (_broken("items.1.text", "   "), r"items\[1\]: text must be a non-empty"),
        (_broken("items.1.importance", 3), r"importance must be between 0 and 1"),
        (_broken("items.1.importance", "high"), r"items\[1\]\.importance must be a number"),
        (_broken("items.1.valid_from", "yesterday"), r"items\[1\]\.valid_from is not an ISO"),
        (_broken("items.1.valid_to", "2020-01-01T00:00:00"), r"valid_to is before"),
        (_broken("items.1.attributes", []), r"attributes must be an object"),
        (_broken("items.1.id", "b" * 32), "ids must be unique"),
        (_broken("items.1", "text"), r"items\[1\] must be an object"),
    ],
)
def test_import_refuses_a_malformed_export_and_writes_nothing(
    settings: Settings, data: Any, message: str
) -> None:
    memory = Memory.open(settings.resolved_database_url, settings=settings)
    try:
        with pytest.raises(InvalidInputError, match=message):
            memory.import_("eve", data)
        assert memory.export("eve")["items"] == []
    finally:
        memory.close()


async def test_async_api_and_naive_times(memory: Memory) -> None:
    data = _valid()
    data["items"][0]["created_at"] = data["items"][0]["valid_from"] = "2026-01-02T03:04:05"
    (item_id,) = await memory.aimport("frank", data)
    export = await memory.aexport("frank")
    assert export["items"][0]["id"] == item_id
    assert export["items"][0]["created_at"] == "2026-01-02T03:04:05+00:00"


CLI = [sys.executable, "-m", "confidante.cli"]


def test_cli_export_import(cli_env: dict[str, str], tmp_path: Path) -> None:
    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], env=cli_env, capture_output=True, text=True, timeout=300
        )

    assert run("memory", "add", "--user", "u1", "I live in Porto.", "--key", "city").returncode == 0
    assert (
        run("memory", "add", "--user", "u1", "I live in Lisbon.", "--key", "city").returncode == 0
    )
    printed = run("memory", "export", "--user", "u1")
    assert printed.returncode == 0, printed.stderr
    assert len(json.loads(printed.stdout)["items"]) == 2
    out = tmp_path / "u1.json"
    written = run("memory", "export", "--user", "u1", "--out", str(out))
    assert written.returncode == 0 and written.stdout == ""
    imported = run("memory", "import", "--user", "u2", str(out), "--json")
    assert imported.returncode == 0, imported.stderr
    assert json.loads(imported.stdout)["items"] == 2
    listed = json.loads(run("memory", "list", "--user", "u2", "--history", "--json").stdout)
    assert sorted(item["text"] for item in listed) == ["I live in Lisbon.", "I live in Porto."]
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "confidante.memory", "version": 1, "items": [{"text": 1}]}')
    refused = run("memory", "import", "--user", "u3", str(bad))
    assert refused.returncode == 1 and "items[0] lacks" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert json.loads(run("memory", "list", "--user", "u3", "--json").stdout) == []
