"""Subjects: the people and pets in a user's life, kept apart per user on every backend."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from confidante import InvalidInputError, NotFoundError
from confidante._sync import run_sync
from confidante.memory.items import MemoryItem
from confidante.memory.store import Memory
from confidante.memory.subjects.directory import (
    Mention,
    SubjectView,
    clean_name,
    find_subject,
    is_relation_word,
    kind_of,
    mentioned_in,
    normalise_relation,
)

# ----------------------------------------------------------------- isolation (every backend)


def _alice_with_ana(memory: Memory) -> tuple[SubjectView, str]:
    (ana,) = memory.resolve("alice", [Mention(name="Ana", relation="sister")])
    fact = memory.remember("alice", "Ana lives in Berlin.", key="home_city", subject_id=ana.id)
    return ana, fact


def test_one_users_subjects_are_invisible_to_another(memory: Memory) -> None:
    ana, fact = _alice_with_ana(memory)
    assert [s.id for s in memory.subjects("alice")] == [ana.id]
    assert memory.subjects("bob") == []
    assert [s.id for s in memory.mentioned("alice", "Where does Ana live?")] == [ana.id]
    assert [s.id for s in memory.mentioned("alice", "where does my sister live")] == [ana.id]
    assert memory.mentioned("bob", "Where does Ana live? My sister Ana.") == []
    assert [hit.id for hit in memory.subject_facts("alice", [ana.id])] == [fact]
    assert memory.subject_facts("bob", [ana.id]) == []
    assert memory.slot_values("bob", "home_city", ana.id) == []


def test_another_users_subject_cannot_be_edited_or_forgotten(memory: Memory) -> None:
    ana, fact = _alice_with_ana(memory)
    memory.remember("bob", "Bob likes tea.")  # bob exists
    with pytest.raises(NotFoundError):
        memory.update_subject("bob", ana.id, name="Eve")
    with pytest.raises(NotFoundError):
        memory.update_subject("bob", ana.id, relation="friend")
    with pytest.raises(NotFoundError):
        memory.forget_subject("bob", ana.id)
    with pytest.raises(NotFoundError):
        memory.forget_subject("alice", "no-such-subject")
    (still,) = memory.subjects("alice")
    assert (still.name, still.relation, still.aliases) == ("Ana", "sister", [])
    assert [hit.id for hit in memory.subject_facts("alice", [ana.id])] == [fact]


def test_remembering_about_another_users_subject_writes_nothing(memory: Memory) -> None:
    ana, _ = _alice_with_ana(memory)
    with pytest.raises(NotFoundError):
        memory.remember("bob", "Ana lives in Paris.", key="home_city", subject_id=ana.id)
    with pytest.raises(NotFoundError):  # a batch with one bad item writes none of its items
        memory.remember_many(
            "bob",
            [
                MemoryItem(text="Bob likes tea."),
                MemoryItem(text="Ana lives in Paris.", key="home_city", subject_id=ana.id),
            ],
        )
    assert memory.list_items("bob", include_history=True) == []
    assert [i.text for i in memory.list_items("alice")] == ["Ana lives in Berlin."]
    counts = memory.forget_user("bob")
    assert counts["concepts"] == 0 and counts["subjects"] == 0 and counts["concept_vectors"] == 0


def test_resolving_the_same_mention_for_two_users_gives_two_subjects(memory: Memory) -> None:
    ana, _ = _alice_with_ana(memory)
    (bobs_ana,) = memory.resolve("bob", [Mention(name="ana", relation="friend")])
    assert bobs_ana.id != ana.id and bobs_ana.relation == "friend"
    assert [s.relation for s in memory.subjects("alice")] == ["sister"]


async def test_async_api_keeps_users_apart(memory: Memory) -> None:
    (ana,) = await memory.aresolve("alice", [Mention(name="Ana", relation="sister")])
    await memory.aremember("alice", "Ana works as a nurse.", key="job_title", subject_id=ana.id)
    assert await memory.asubjects("bob") == []
    assert await memory.amentioned("bob", "Ana") == []
    assert await memory.asubject_facts("bob", [ana.id]) == []
    with pytest.raises(NotFoundError):
        await memory.aupdate_subject("bob", ana.id, name="Eve")
    with pytest.raises(NotFoundError):
        await memory.aforget_subject("bob", ana.id)
    with pytest.raises(NotFoundError):
        await memory.aremember("bob", "Ana is tall.", subject_id=ana.id)
    assert await memory.alist_items("bob", include_history=True) == []


# ----------------------------------------------------------------- resolve, rename, forget


def test_resolve_finds_by_name_case_insensitively(memory: Memory) -> None:
    (ana,) = memory.resolve("alice", [Mention(name="Ana", relation="sister")])
    assert (ana.name, ana.relation, ana.kind) == ("Ana", "sister", "person")
    found = memory.resolve("alice", [Mention(name="ANA"), Mention(name=" ana. ")])
    assert [s.id for s in found] == [ana.id, ana.id]
    assert len(memory.subjects("alice")) == 1


def test_resolve_finds_by_alias_after_a_rename(memory: Memory) -> None:
    (pet,) = memory.resolve("alice", [Mention(name="Peppa", relation="dog")])
    assert pet.kind == "pet"
    renamed = memory.update_subject("alice", pet.id, name="Pepper")
    assert (renamed.name, renamed.aliases) == ("Pepper", ["Peppa"])
    assert [s.id for s in memory.resolve("alice", [Mention(name="peppa")])] == [pet.id]
    assert [s.id for s in memory.resolve("alice", [Mention(name="Pepper")])] == [pet.id]
    back = memory.update_subject("alice", pet.id, name="Peppa")  # renamed back: no duplicate
    assert (back.name, back.aliases) == ("Peppa", ["Pepper"])
    assert len(memory.subjects("alice")) == 1
    with pytest.raises(InvalidInputError):
        memory.update_subject("alice", pet.id, name="she")


def test_a_relation_only_subject_gets_its_name_later(memory: Memory) -> None:
    (mother,) = memory.resolve("alice", [Mention(name="mother", relation="mother")])
    assert (mother.name, mother.relation) == (None, "mother")
    assert mother.label == "the user's mother"
    (carla,) = memory.resolve("alice", [Mention(name="Carla", relation="mum")])
    assert carla.id == mother.id and (carla.name, carla.relation) == ("Carla", "mother")
    assert carla.label == "Carla (the user's mother)"
    (again,) = memory.resolve("alice", [Mention(relation="my mom")])
    assert again.id == mother.id
    (other,) = memory.resolve("alice", [Mention(name="Rita", relation="mother")])
    assert other.id != mother.id  # the mother is named Carla now: Rita is someone else
    assert [s.name for s in memory.subjects("alice")] == ["Carla", "Rita"]


def test_a_mention_without_name_or_relation_is_refused(memory: Memory) -> None:
    with pytest.raises(InvalidInputError):
        memory.resolve("alice", [Mention(name="Ana"), Mention(name="she")])
    assert memory.subjects("alice") == []  # one transaction: Ana was not created either


def test_forget_subject_removes_the_subject_and_only_its_facts(memory: Memory) -> None:
    ana, fact = _alice_with_ana(memory)
    (tom,) = memory.resolve("alice", [Mention(name="Tom", relation="brother")])
    old = memory.remember("alice", "Ana works at Acme.", key="employer", subject_id=ana.id)
    memory.remember("alice", "Ana works at Initech.", key="employer", subject_id=ana.id)
    toms = memory.remember("alice", "Tom lives in Leeds.", key="home_city", subject_id=tom.id)
    mine = memory.remember("alice", "The user lives in Lisbon.", key="home_city")
    assert memory.forget_subject("alice", ana.id) == 3  # history included
    assert [s.id for s in memory.subjects("alice")] == [tom.id]
    left = {item.id for item in memory.list_items("alice", include_history=True)}
    assert left == {toms, mine}
    assert fact not in left and old not in left
    assert memory.subject_facts("alice", [ana.id]) == []
    hits = memory.retrieve("alice", "Ana Berlin Acme Initech", include_history=True)
    assert {hit.id for hit in hits} <= {toms, mine}
    with pytest.raises(NotFoundError):
        memory.forget_subject("alice", ana.id)


def test_forget_user_removes_subjects(memory: Memory) -> None:
    _alice_with_ana(memory)
    memory.resolve("alice", [Mention(name="Tom", relation="brother")])
    memory.resolve("bob", [Mention(name="Eve", relation="friend")])
    counts = memory.forget_user("alice")
    assert counts["subjects"] == 2 and counts["concepts"] == 1
    assert memory.subjects("alice") == []
    assert [s.name for s in memory.subjects("bob")] == ["Eve"]


def test_subject_facts_are_current_newest_first_and_limited(memory: Memory) -> None:
    (ana,) = memory.resolve("alice", [Mention(name="Ana", relation="sister")])
    memory.remember("alice", "Ana lives in Berlin.", key="home_city", subject_id=ana.id)
    memory.remember("alice", "Ana lives in Rome.", key="home_city", subject_id=ana.id)
    memory.remember("alice", "Ana likes jazz.", subject_id=ana.id)
    memory.remember("alice", "Ana has a cat.", subject_id=ana.id)
    texts = [hit.text for hit in memory.subject_facts("alice", [ana.id])]
    assert texts == ["Ana has a cat.", "Ana likes jazz.", "Ana lives in Rome."]
    assert len(memory.subject_facts("alice", [ana.id, ana.id, "junk id!"], limit=2)) == 2
    assert memory.subject_facts("alice", []) == []


# ----------------------------------------------------------------- the pure helpers


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("Mum", "mother"),
        ("my mom", "mother"),
        ("the user's bro", "brother"),
        ("Best  Friend", "best friend"),
        ("husband's mother", "mother-in-law"),
        ("biggest client right now", "biggest client"),
        ("co-worker", "coworker"),
        ("Chidi's mum", "Chidi's mother"),
        ("self", None),
        ("user", None),
        ("", None),
        (None, None),
    ],
)
def test_normalise_relation(given: str | None, expected: str | None) -> None:
    assert normalise_relation(given) == expected


def test_names_relations_and_kinds() -> None:
    assert clean_name("my Ana.") == "Ana" and clean_name("she") is None and clean_name("") is None
    assert is_relation_word("twin sister") and is_relation_word("kitten")
    assert not is_relation_word("Berlin") and not is_relation_word("user")
    assert kind_of("cat") == "pet" and kind_of("little brother") == "person"
    assert kind_of(None) == "person"
    assert Mention(name="mother", relation="Mum").cleaned() == Mention(
        name=None, relation="mother", kind="person"
    )


def _view(id_: str, name: str | None, relation: str | None, minutes: int = 0, **kw: object):
    at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)
    return SubjectView(id=id_, name=name, relation=relation, created_at=at, updated_at=at, **kw)


def test_mentioned_in_finds_names_and_relations() -> None:
    ana = _view("ana", "Ana", "sister")
    rex = _view("rex", "Pepper", "dog", aliases=["Peppa"])
    may = _view("may", "May", "friend")
    subjects = [ana, rex, may]

    def found(text: str) -> list[str]:
        return [s.id for s in mentioned_in(subjects, text)]

    assert found("Where does my sister live?") == ["ana"]
    assert found("how is ANA doing") == ["ana"]
    assert found("Is Anastasia coming?") == []
    assert found("did Peppa eat?") == ["rex"]  # an earlier name
    assert found("walk our dog") == ["rex"]
    assert found("I'll see you in may") == []  # a word-like name counts only capitalised
    assert found("May called me") == ["may"]
    assert found("the sister of a friend") == []  # not "my"
    assert found("what are my dogs' names?") == ["rex"]  # each of them
    assert found("are my friends coming?") == ["may"]


def test_find_subject_prefers_names_then_the_latest_by_relation() -> None:
    older = _view("1", None, "cousin", minutes=0)
    newer = _view("2", None, "cousin", minutes=5)
    named = _view("3", "Ana", "sister")
    subjects = [older, newer, named]
    assert find_subject(subjects, Mention(relation="cousin").cleaned()) is newer
    assert find_subject(subjects, Mention(name="ana").cleaned()) is named
    assert find_subject(subjects, Mention(name="Zoe", relation="cousin").cleaned()) is newer
    assert find_subject(subjects, Mention(name="Zoe").cleaned()) is None


def test_mentioned_in_finds_a_relation_with_an_adjective() -> None:
    ana = _view("ana", "Ana", "sister")
    twin = _view("twin", None, "twin sister")
    assert [s.id for s in mentioned_in([ana], "Where does my older sister live?")] == ["ana"]
    assert [s.id for s in mentioned_in([twin], "my twin sister called")] == ["twin"]


def test_async_twins_run_concurrently_for_two_users(memory: Memory) -> None:
    async def both() -> None:
        await asyncio.gather(
            memory.aresolve("alice", [Mention(name="Ana", relation="sister")]),
            memory.aresolve("bob", [Mention(name="Ana", relation="cousin")]),
        )

    run_sync(both())
    assert [s.relation for s in memory.subjects("alice")] == ["sister"]
    assert [s.relation for s in memory.subjects("bob")] == ["cousin"]
