"""Exports carry the raw events and the pictures of image items (format version 2)."""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from confidante.errors import InvalidInputError
from confidante.memory.embeddings.images import ClipImageEmbedder
from confidante.memory.store import Memory
from confidante.models.tiny_clip import build_tiny_clip
from confidante.settings import Settings


def picture(seed: int) -> Image.Image:
    pixels = np.random.default_rng(seed).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    return Image.fromarray(pixels)


@pytest.fixture(scope="module")
def tiny_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny-clip")


@pytest.fixture
def other(tmp_path: Path, settings: Settings, tiny_clip: Path) -> Iterator[Memory]:
    """A second memory on its own SQLite database, with an image embedder."""
    store = Memory.open(tmp_path / "other.db", settings=settings)
    store.image_embedder = ClipImageEmbedder(str(tiny_clip))
    yield store
    store.close()


def learn(memory: Memory, user: str) -> dict[str, str]:
    """A turn with what was learned from it, and an image concept replaced by another."""
    event = memory.record_event(user, "user", "My cat Miso is ginger.", session_id="s1")
    memory.mark_event(user, event, "done")
    fact = memory.remember(user, "Miso is a ginger cat.", provenance=[event])
    first = memory.remember_image(user, picture(1), caption="Miso asleep", key="avatar")
    second = memory.remember_image(user, picture(2), caption="Miso on the sofa", key="avatar")
    return {"event": event, "fact": fact, "first": first, "second": second}


def test_events_and_pictures_round_trip(memory: Memory, other: Memory) -> None:
    ids = learn(memory, "alice")
    export = json.loads(json.dumps(memory.export("alice")))
    assert export["version"] == 4
    (event,) = export["events"]
    assert event["id"] == ids["event"] and event["text"] == "My cat Miso is ginger."
    assert event["extraction"] == "done" and event["session_id"] == "s1"
    pictures = {item["id"]: item.get("image_png") for item in export["items"]}
    assert pictures[ids["fact"]] is None and pictures[ids["first"]] and pictures[ids["second"]]

    new_ids = other.import_("carol", export)
    (stored_event,) = other.events("carol")
    assert stored_event.id == ids["event"] and stored_event.extraction == "done"
    fact = other.get("carol", new_ids[[i["id"] for i in export["items"]].index(ids["fact"])])
    assert fact.provenance == [ids["event"]]
    (current,) = other.list_items("carol", kinds=["image"])
    assert current.text == "Miso on the sofa" and current.key == "avatar"
    assert current.image_path and Path(current.image_path).is_file()
    assert Path(current.image_path).is_relative_to(other.images.root)
    with Image.open(current.image_path) as stored:
        assert np.array_equal(np.asarray(stored.convert("RGB")), np.asarray(picture(2)))
    history = other.list_items("carol", kinds=["image"], include_history=True)
    assert {item.text for item in history} == {"Miso asleep", "Miso on the sofa"}
    # the imported picture is found by image in the target memory
    (hit,) = other.retrieve("carol", image=picture(2), kinds=["image"], k=1)
    assert hit.id == current.id
    # importing again adds nothing: events, facts and pictures are recognised
    assert other.import_("carol", export) == new_ids
    assert len(other.events("carol")) == 1
    assert len(other.list_items("carol", include_history=True)) == 3
    assert len(list(other.images.user_folder("carol").glob("*.png"))) == 2


def test_an_event_id_held_by_another_user_is_renamed_and_provenance_follows(
    memory: Memory,
) -> None:
    ids = learn(memory, "alice")
    export = memory.export("alice")
    new_ids = memory.import_("bob", export)
    (event,) = memory.events("bob")
    assert event.id != ids["event"] and event.text == "My cat Miso is ginger."
    fact = memory.get("bob", new_ids[[i["id"] for i in export["items"]].index(ids["fact"])])
    assert fact.provenance == [event.id]
    assert memory.events("alice")[0].id == ids["event"]  # alice's own event untouched
    # bob's import is his: forgetting him leaves alice whole
    memory.forget_user("bob")
    assert len(memory.events("alice")) == 1 and len(memory.list_items("alice")) == 2


def test_a_version_1_document_still_imports(memory: Memory) -> None:
    memory.remember("alice", "I live in Lisbon.", key="home_city")
    export = memory.export("alice")
    legacy = {**export, "version": 1}
    del legacy["events"]
    (item_id,) = memory.import_("dave", legacy)
    assert memory.get("dave", item_id).text == "I live in Lisbon."


def _with(export: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(export)
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return data


def test_bad_events_or_pictures_are_refused_and_leave_nothing(memory: Memory) -> None:
    ids = learn(memory, "alice")
    export = memory.export("alice")
    image_index = next(i for i, item in enumerate(export["items"]) if item["id"] == ids["first"])
    fact_index = next(i for i, item in enumerate(export["items"]) if item["id"] == ids["fact"])
    not_png = base64.b64encode(b"not an image").decode()
    cases = [
        (_with(export, ("events",), {"a": 1}), "'events' must be a list"),
        (_with(export, ("events", 0, "role"), ""), r"events\[0\]\.role must be a string"),
        (_with(export, ("events", 0, "text"), 5), r"events\[0\]\.text must be a string"),
        (_with(export, ("events", 0, "created_at"), "soon"), r"events\[0\]\.created_at"),
        (_with(export, ("items", image_index, "image_png"), "%%%"), "not valid base64"),
        (_with(export, ("items", image_index, "image_png"), not_png), "not a readable image"),
        (_with(export, ("items", fact_index, "image_png"), not_png), "on an image item"),
    ]
    for data, message in cases:
        with pytest.raises(InvalidInputError, match=message):
            memory.import_("eve", data)
        left = memory.export("eve")
        assert (left["items"], left["events"]) == ([], [])
        assert not memory.images.user_folder("eve").exists() or not any(
            memory.images.user_folder("eve").iterdir()
        )
