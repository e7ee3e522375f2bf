"""Exports carry the user's subjects and what each item is about (format version 3)."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from confidante.errors import InvalidInputError
from confidante.memory.items import MemoryHit
from confidante.memory.portability.format import JSON_SCHEMA
from confidante.memory.store import Memory
from confidante.memory.subjects.directory import Mention, SubjectView
from confidante.settings import Settings

SUBJECT_FIELDS = {"id", "name", "relation", "kind", "aliases", "created_at"}


@pytest.fixture
def other(tmp_path: Path, settings: Settings) -> Iterator[Memory]:
    """A second memory on its own SQLite database."""
    store = Memory.open(tmp_path / "other.db", settings=settings)
    yield store
    store.close()


def learn(memory: Memory, user: str) -> dict[str, SubjectView]:
    """Ana (sister, once "Anna"), a mother known by relation only, Rex the dog; their facts."""
    anna, mother, rex = memory.resolve(
        user,
        [
            Mention(name="Anna", relation="sister"),
            Mention(relation="mum"),
            Mention(name="Rex", relation="dog"),
        ],
    )
    ana = memory.update_subject(user, anna.id, name="Ana")
    memory.remember(user, "I live in Lisbon.", key="home_city")
    memory.remember(user, "Ana lives in Berlin.", key="home_city", subject_id=ana.id)
    memory.remember(user, "Ana lives in Madrid.", key="home_city", subject_id=ana.id)
    memory.remember(user, "My mother likes green tea.", subject_id=mother.id)
    memory.remember(user, "Rex is scared of thunder.", subject_id=rex.id)
    return {"ana": ana, "mother": mother, "rex": rex}


def described(subject: SubjectView) -> tuple[Any, ...]:
    return (subject.name or "", subject.relation, subject.kind, sorted(subject.aliases))


def about(memory: Memory, user: str) -> dict[str, tuple[str | None, str | None]]:
    """Each item's text (history too) -> (name, relation) of its subject; (None, None): the user."""
    subjects = {subject.id: subject for subject in memory.subjects(user)}
    result: dict[str, tuple[str | None, str | None]] = {}
    for item in memory.list_items(user, include_history=True):
        subject = subjects.get(item.subject_id) if item.subject_id else None
        assert item.subject_id is None or subject is not None, "an item names a foreign subject"
        result[item.text] = (subject.name, subject.relation) if subject else (None, None)
    return result


EXPECTED_ABOUT = {
    "I live in Lisbon.": (None, None),
    "Ana lives in Berlin.": ("Ana", "sister"),
    "Ana lives in Madrid.": ("Ana", "sister"),
    "My mother likes green tea.": (None, "mother"),
    "Rex is scared of thunder.": ("Rex", "dog"),
}


def test_subjects_and_what_items_are_about_round_trip(memory: Memory, other: Memory) -> None:
    subjects = learn(memory, "alice")
    export = json.loads(json.dumps(memory.export("alice")))  # survives JSON as is
    assert export["version"] == 4
    assert [set(s) for s in export["subjects"]] == [SUBJECT_FIELDS] * 3
    exported = {s["id"]: s for s in export["subjects"]}
    assert exported[subjects["ana"].id] | {"created_at": None} == {
        "id": subjects["ana"].id,
        "name": "Ana",
        "relation": "sister",
        "kind": "person",
        "aliases": ["Anna"],
        "created_at": None,
    }
    by_text = {item["text"]: item["subject_id"] for item in export["items"]}
    assert by_text["I live in Lisbon."] is None
    assert by_text["Ana lives in Berlin."] == by_text["Ana lives in Madrid."] == subjects["ana"].id
    assert by_text["Rex is scared of thunder."] == subjects["rex"].id

    ids = other.import_("carol", export)
    assert len(ids) == 5
    mine = other.subjects("carol")
    assert sorted(map(described, mine)) == sorted(map(described, subjects.values()))
    assert {s.id for s in mine}.isdisjoint(exported)  # fresh ids
    assert about(other, "carol") == EXPECTED_ABOUT
    # a slot's value is per subject: Ana's city did not supersede carol's, and the reverse
    current = {item.text for item in other.list_items("carol")}
    assert {"I live in Lisbon.", "Ana lives in Madrid."} <= current
    assert "Ana lives in Berlin." not in current
    # the imported subjects work as the user's own: resolving Ana finds her, not a new one
    (ana,) = other.resolve("carol", [Mention(name="anna")])
    assert ana.name == "Ana" and len(other.subjects("carol")) == 3
    again = other.export("carol")["subjects"]
    assert sorted(
        (s["name"] or "", s["relation"], s["kind"], s["aliases"]) for s in again
    ) == sorted(map(described, subjects.values()))


def test_an_export_matches_the_json_schema(memory: Memory) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    validator = jsonschema.Draft202012Validator(
        JSON_SCHEMA, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    learn(memory, "alice")
    export = memory.export("alice")
    validator.validate(export)
    assert 3 in JSON_SCHEMA["properties"]["version"]["enum"]
    broken = copy.deepcopy(export)
    broken["subjects"][0]["name"] = broken["subjects"][0]["relation"] = None
    assert len(list(validator.iter_errors(broken))) == 1


def test_importing_twice_adds_no_subject_and_merges_with_the_users_own(memory: Memory) -> None:
    learn(memory, "alice")
    # bob already knows his sister (another spelling), and his mother by relation only
    memory.resolve("bob", [Mention(name="ANA", relation="sister"), Mention(relation="mother")])
    export = memory.export("alice")
    first = memory.import_("bob", export)
    assert memory.import_("bob", export) == first
    bobs = memory.subjects("bob")
    assert sorted(map(described, bobs)) == [
        ("", "mother", "person", []),
        ("ANA", "sister", "person", ["Anna"]),  # kept his name, learned the old one
        ("Rex", "dog", "pet", []),
    ]
    assert about(memory, "bob") == EXPECTED_ABOUT | {
        "Ana lives in Berlin.": ("ANA", "sister"),
        "Ana lives in Madrid.": ("ANA", "sister"),
    }
    assert len(memory.list_items("bob", include_history=True)) == 5


def test_the_source_users_subjects_are_untouched(memory: Memory) -> None:
    subjects = learn(memory, "alice")
    before = memory.subjects("alice")
    items_before = memory.list_items("alice", include_history=True)
    # bob knows a sister by relation only: alice's Ana becomes his sister's name
    (sister,) = memory.resolve("bob", [Mention(relation="sister")])
    memory.import_("bob", memory.export("alice"))
    bobs = {subject.id: subject for subject in memory.subjects("bob")}
    assert bobs[sister.id].name == "Ana" and bobs[sister.id].aliases == ["Anna"]
    assert set(bobs).isdisjoint(s.id for s in before)
    assert memory.subjects("alice") == before
    assert memory.list_items("alice", include_history=True) == items_before
    assert about(memory, "alice") == EXPECTED_ABOUT
    assert about(memory, "bob") == EXPECTED_ABOUT
    # forgetting bob's Ana leaves alice's
    memory.forget_subject("bob", sister.id)
    assert subjects["ana"].id in {s.id for s in memory.subjects("alice")}
    assert about(memory, "alice") == EXPECTED_ABOUT


def test_keep_ids_keeps_subject_ids_and_refuses_taken_ones(memory: Memory, other: Memory) -> None:
    subjects = learn(memory, "alice")
    export = memory.export("alice")
    other.import_("alice", export, keep_ids=True)
    assert {s.id for s in other.subjects("alice")} == {s.id for s in subjects.values()}
    assert about(other, "alice") == EXPECTED_ABOUT
    only_subjects = {**export, "items": [], "events": []}
    with pytest.raises(InvalidInputError, match="subject ids already in the database"):
        memory.import_("dave", only_subjects, keep_ids=True)
    assert memory.subjects("dave") == []
    memory.import_("dave", only_subjects)  # without keep_ids: fresh ids
    assert len(memory.subjects("dave")) == 3


def test_an_image_item_keeps_its_subject(memory: Memory, other: Memory) -> None:
    subjects = learn(memory, "alice")
    pixels = np.random.default_rng(3).integers(0, 256, (20, 24, 3), dtype=np.uint8)
    image_id = memory.remember_image("alice", Image.fromarray(pixels), caption="Rex asleep")
    export = memory.export("alice")
    (image,) = [item for item in export["items"] if item["id"] == image_id]
    image["subject_id"] = subjects["rex"].id
    ids = other.import_("carol", export)
    picture = other.get("carol", ids[export["items"].index(image)])
    assert isinstance(picture, MemoryHit) and picture.kind == "image"
    (rex,) = [s for s in other.subjects("carol") if s.name == "Rex"]
    assert picture.subject_id == rex.id


def _document() -> dict[str, Any]:
    subject = {
        "id": "s" * 32,
        "name": "Ana",
        "relation": "sister",
        "kind": "person",
        "aliases": [],
        "created_at": "2026-01-02T03:04:05+00:00",
    }
    item = {
        "id": "a" * 32,
        "text": "Ana lives in Berlin.",
        "key": "home_city",
        "kind": "fact",
        "importance": 0.5,
        "provenance": [],
        "attributes": {},
        "created_at": "2026-01-02T03:04:05+00:00",
        "valid_from": "2026-01-02T03:04:05+00:00",
        "valid_to": None,
        "subject_id": "s" * 32,
    }
    mine = {**item, "id": "b" * 32, "text": "I live in Lisbon.", "subject_id": None}
    data = {"format": "confidante.memory", "version": 3, "user_id": "x"}
    return data | {"subjects": [subject], "items": [mine, item]}


def _broken(path: str, value: Any) -> dict[str, Any]:
    data = copy.deepcopy(_document())
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
        (_broken("items.1.subject_id", "z" * 32), r"items\[1\]\.subject_id must be null or the"),
        (_broken("items.1.subject_id", 7), r"items\[1\]\.subject_id must be null or the"),
        (_broken("subjects", KeyError), r"items\[1\]\.subject_id must be null or the"),
        (_broken("subjects", {"a": 1}), "'subjects' must be a list"),
        (_broken("subjects.0", "Ana"), r"subjects\[0\] must be an object"),
        (_broken("subjects.0.id", KeyError), r"subjects\[0\]\.id must be a string of 1 to 32"),
        (_broken("subjects.0.id", "s" * 33), r"subjects\[0\]\.id must be a string of 1 to 32"),
        (_broken("subjects.0.name", None), None),  # a relation is enough: valid
        (_broken("subjects.0.name", "A" * 201), r"subjects\[0\]\.name must be a string or null"),
        (_broken("subjects.0.relation", 5), r"subjects\[0\]\.relation must be a string or null"),
        (_broken("subjects.0.kind", "k" * 17), r"subjects\[0\]\.kind must be a string or null"),
        (_broken("subjects.0.aliases", ["Anna", 2]), r"subjects\[0\]\.aliases must be a list"),
        (_broken("subjects.0.created_at", "then"), r"subjects\[0\]\.created_at is not an ISO"),
    ],
)
def test_a_malformed_subject_or_reference_is_refused_and_nothing_is_written(
    settings: Settings, data: Any, message: str | None
) -> None:
    memory = Memory.open(settings.resolved_database_url, settings=settings)
    try:
        if message is None:
            memory.import_("eve", data)
            assert [s.relation for s in memory.subjects("eve")] == ["sister"]
            return
        with pytest.raises(InvalidInputError, match=message):
            memory.import_("eve", data)
        left = memory.export("eve")
        assert (left["subjects"], left["items"], left["events"]) == ([], [], [])
    finally:
        memory.close()


def test_nameless_relationless_and_duplicate_subjects_are_refused(settings: Settings) -> None:
    memory = Memory.open(settings.resolved_database_url, settings=settings)
    try:
        nameless = _broken("subjects.0.name", " ")
        nameless["subjects"][0]["relation"] = None
        twice = _document()
        twice["subjects"].append({**twice["subjects"][0], "name": "Bea"})
        for data, message in [
            (nameless, r"subjects\[0\] needs a non-empty name or relation"),
            (twice, "subject ids must be unique"),
        ]:
            with pytest.raises(InvalidInputError, match=message):
                memory.import_("eve", data)
            left = memory.export("eve")
            assert (left["subjects"], left["items"]) == ([], [])
    finally:
        memory.close()


def test_version_2_and_1_documents_still_import(memory: Memory) -> None:
    memory.remember("alice", "I live in Lisbon.", key="home_city")
    export = memory.export("alice")
    legacy = {key: value for key, value in export.items() if key != "subjects"}
    legacy["items"] = [
        {k: v for k, v in item.items() if k != "subject_id"} for item in legacy["items"]
    ]
    for version, user in ((2, "dave"), (1, "erin")):
        (item_id,) = memory.import_(user, {**legacy, "version": version})
        assert memory.get(user, item_id).text == "I live in Lisbon."
        again = memory.export(user)
        assert again["version"] == 4 and again["subjects"] == []
        assert [item["subject_id"] for item in again["items"]] == [None]
    # a version 2 document imports into a user who has subjects: they are left alone
    (mother,) = memory.resolve("dave", [Mention(relation="mother")])
    memory.import_("dave", {**legacy, "version": 2})
    assert memory.subjects("dave") == [mother]
