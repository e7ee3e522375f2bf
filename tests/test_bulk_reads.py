"""What tools use instead of the memory's tables: event-log methods, bulk reads, tool tables.

Every backend: one user's call never returns another user's rows, all-users reads say so in
their names, watermarks move when (and only when) the rows they cover change, and bad input is
refused before anything is read or written.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlmodel import Field, SQLModel

from confidante.errors import InvalidInputError
from confidante.memory.bulk_reads import NOT_READ, BulkReads
from confidante.memory.ingest.events import NewEvent
from confidante.memory.scopes import persona_owner
from confidante.memory.store import Memory
from confidante.memory.tool_tables import create_tool_tables, insert_if_absent

T0 = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
KIND = "probe_kind"


def _at(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _as_utc(when: datetime) -> datetime:
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


# ------------------------------------------------------------------ the event log (Memory)
def test_record_events_then_timeline_reads_one_user_in_occurrence_order(memory: Memory) -> None:
    ids = memory.record_events(
        "ana",
        [
            NewEvent("probe", "second", occurred_at=_at(2), extraction="skipped"),
            NewEvent("probe", "first", occurred_at=_at(1), source_id="item-1"),
        ],
    )
    memory.record_events("bob", [NewEvent("probe", "bob's", occurred_at=_at(0))])
    memory.record_event("ana", "user", "a chat message")

    timeline = memory.timeline("ana", "probe")

    assert len(ids) == 2 and len(set(ids)) == 2
    assert [e.text for e in timeline] == ["first", "second"]
    assert {e.user_id for e in timeline} == {"ana"}
    assert [_as_utc(e.at) for e in timeline] == [_at(1), _at(2)]
    assert [e.text for e in memory.timeline("bob", "probe")] == ["bob's"]
    assert memory.timeline("carol", "probe") == []
    stored = {e.text: e.extraction for e in memory.events("ana", role="probe")}
    assert stored == {"first": "pending", "second": "skipped"}


def test_recorded_events_are_exported_and_forgotten_with_their_user(memory: Memory) -> None:
    memory.record_events("ana", [NewEvent("probe", '{"item": "x"}')])

    assert [e["text"] for e in memory.export("ana")["events"]] == ['{"item": "x"}']
    memory.forget_user("ana")
    assert memory.timeline("ana", "probe") == []


def test_record_events_validates_every_event_before_writing_any(memory: Memory) -> None:
    good = NewEvent("probe", "fine")
    bad_events = [
        NewEvent("probe", "   "),
        NewEvent("r" * 33, "role too long"),
        NewEvent("probe", "x", extraction="maybe"),
        NewEvent("probe", "x", source_id="s" * 201),
        NewEvent("probe", "x", session_id="nul\x00"),
    ]
    for bad in bad_events:
        with pytest.raises(InvalidInputError):
            memory.record_events("ana", [good, bad])
    with pytest.raises(InvalidInputError):
        memory.record_events("", [good])
    assert memory.timeline("ana", "probe") == []
    assert memory.record_events("ana", []) == []


def test_recent_messages_are_the_users_own_latest_newest_first(memory: Memory) -> None:
    for text in ("one", "two", "three"):
        memory.record_event("ana", "user", text)
    memory.record_event("ana", "assistant", "a reply is not a message of the user")
    memory.record_event("bob", "user", "bob wrote this last")

    assert [m.text for m in memory.recent_messages("ana", 2)] == ["three", "two"]
    assert [m.text for m in memory.recent_messages("ana", 10)] == ["three", "two", "one"]
    assert {m.user_id for m in memory.recent_messages("ana", 10)} == {"ana"}
    assert memory.recent_messages("ana", 0) == []
    with pytest.raises(InvalidInputError):
        memory.recent_messages("ana", -1)
    with pytest.raises(InvalidInputError):
        memory.timeline("", "probe")


# ------------------------------------------------------------------ set-level reads
def test_items_of_kind_reads_only_the_named_user_and_only_when_changed(memory: Memory) -> None:
    reads = BulkReads(memory.database)
    memory.remember("ana", "Ana probes one.", kind=KIND, attributes={"n": 1})
    memory.remember("ana", "Ana probes two.", kind=KIND, provenance=["p@2"])
    memory.remember("ana", "Ana likes tea.")  # another kind
    memory.remember("bob", "Bob probes.", kind=KIND)
    memory.record_event("ana", "user", "hello")
    memory.record_event("bob", "user", "bob says hi")

    first = reads.items_of_kind("ana", KIND, messages=5)

    assert first.items is not None
    assert [(i.user_id, i.attributes, i.provenance) for i in first.items] == [
        ("ana", {"n": 1}, []),
        ("ana", {}, ["p@2"]),
    ]
    assert [m.text for m in first.messages] == ["hello"]
    assert first.version[0].count == 2 and first.version[1].count == 1
    unchanged = reads.items_of_kind("ana", KIND, messages=5, known=first.version)
    assert unchanged.items is None and unchanged.messages == []
    assert unchanged.version == first.version

    memory.remember("bob", "Bob probes again.", kind=KIND)  # another user's change
    assert reads.items_of_kind("ana", KIND, messages=5, known=first.version).items is None
    memory.record_event("ana", "user", "a new message")
    changed = reads.items_of_kind("ana", KIND, messages=5, known=first.version)
    assert changed.items is not None
    assert [m.text for m in changed.messages][:1] == ["a new message"]

    without_messages = reads.items_of_kind("ana", KIND)
    assert without_messages.version[1] == NOT_READ and without_messages.messages == []


def test_items_of_kind_refuses_bad_input(memory: Memory) -> None:
    reads = BulkReads(memory.database)
    for call in (
        lambda: reads.items_of_kind("", KIND),
        lambda: reads.items_of_kind("ana", "k" * 33),
        lambda: reads.items_of_kind("ana", KIND, messages=-1),
        lambda: reads.every_user_items_of_kind("k" * 33),
    ):
        with pytest.raises(InvalidInputError):
            call()


def test_every_user_items_of_kind_covers_users_but_not_shared_scopes(memory: Memory) -> None:
    reads = BulkReads(memory.database)
    memory.remember("ana", "Ana probes.", kind=KIND)
    memory.remember("bob", "Bob probes.", kind=KIND)
    memory.remember(persona_owner("cyclists"), "Cyclists probe.", kind=KIND)
    old = memory.remember("bob", "Bob's old probe.", kind=KIND)
    memory.forget("bob", old)

    snapshot = reads.every_user_items_of_kind(KIND)

    assert snapshot.items is not None
    assert sorted(i.user_id for i in snapshot.items) == ["ana", "bob"]
    assert snapshot.version[0].count == 2
    assert reads.every_user_items_of_kind(KIND, known=snapshot.version).items is None
    memory.forget_user("ana")
    after = reads.every_user_items_of_kind(KIND, known=snapshot.version)
    assert after.items is not None and [i.user_id for i in after.items] == ["bob"]


def test_events_of_users_reads_the_named_users_only(memory: Memory) -> None:
    reads = BulkReads(memory.database)
    for user in ("ana", "bob", "carol"):
        memory.record_events(
            user,
            [
                NewEvent("probe", f"{user} later", occurred_at=_at(5)),
                NewEvent("probe", f"{user} earlier", occurred_at=_at(1)),
            ],
        )

    found = reads.events_of_users(["bob", "ana", "bob", "dan"], "probe")

    assert set(found) == {"ana", "bob"}
    assert [e.text for e in found["bob"]] == ["bob earlier", "bob later"]
    assert reads.events_of_users([], "probe") == {}
    for bad in ("ana", ["ana", ""]):
        with pytest.raises(InvalidInputError):
            reads.events_of_users(bad, "probe")


def test_every_user_events_and_their_watermark(memory: Memory) -> None:
    reads = BulkReads(memory.database)
    empty = reads.every_user_event_watermark("probe")
    memory.record_events("ana", [NewEvent("probe", "a1"), NewEvent("probe", "a2")])
    memory.record_events("bob", [NewEvent("probe", "b1")])
    memory.record_event("bob", "user", "not a probe")

    found = reads.every_user_events("probe")
    mark = reads.every_user_event_watermark("probe")

    assert empty.count == 0
    assert {user: [e.text for e in events] for user, events in found.items()} == {
        "ana": ["a1", "a2"],
        "bob": ["b1"],
    }
    assert mark.count == 3 and mark != empty
    memory.forget_user("bob")
    assert reads.every_user_event_watermark("probe").count == 2


def test_persona_members_without_the_asking_user(memory: Memory) -> None:
    reads = BulkReads(memory.database)
    memory.join_persona("ana", "parents")
    memory.join_persona("bob", "parents")
    memory.join_persona("carol", "cyclists")
    memory.join_persona("dan", "chess")

    assert reads.persona_members(["parents", "cyclists"]) == ["ana", "bob", "carol"]
    assert reads.persona_members(["parents"], excluding="ana") == ["bob"]
    assert reads.persona_members([]) == []
    for call in (
        lambda: reads.persona_members("parents"),
        lambda: reads.persona_members(["p" * 101]),
        lambda: reads.persona_members(["parents"], excluding=""),
    ):
        with pytest.raises(InvalidInputError):
            call()


# ------------------------------------------------------------------ a tool's own tables
class _ProbeRow(SQLModel, table=True):
    __tablename__ = "probe_tool_rows"

    id: str = Field(primary_key=True, max_length=20)
    value: int = 0


class _NotATable(SQLModel):
    id: str


def test_a_tool_creates_and_writes_its_own_table(memory: Memory) -> None:
    create_tool_tables(memory.database, [_ProbeRow])
    create_tool_tables(memory.database, [_ProbeRow])  # again: nothing to do

    inserted = memory.database.run_sync(
        lambda session: [
            insert_if_absent(session, _ProbeRow(id="a", value=1)),
            insert_if_absent(session, _ProbeRow(id="a", value=2)),
        ]
    )

    assert inserted == [True, False]
    with pytest.raises(TypeError):
        create_tool_tables(memory.database, [_NotATable])
