"""Expiry of items and retention of raw turns, on every backend of the ``memory`` fixture.

Time is moved by writing the stored times back (``expires_at``, an event's ``created_at``), so
no test sleeps and none depends on the machine's speed.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text as sql
from sqlmodel import Session, col, select, update

from confidante import InvalidInputError, NotFoundError
from confidante.memory.storage.records import AuditEntry, Concept, ConceptVector, Event, Summary
from confidante.memory.store import Memory
from confidante.memory.subjects.names import Mention
from confidante.memory.sweep import ERASED_SOURCE


def _backdate_expiry(memory: Memory, *item_ids: str) -> None:
    """Make items expire a minute ago, as if that much time had passed."""
    past = datetime.now(UTC) - timedelta(minutes=1)

    def write(session: Session) -> None:
        session.exec(
            update(Concept).where(col(Concept.id).in_(item_ids)).values(expires_at=past)  # type: ignore[call-overload]
        )

    memory.database.run_sync(write)


def _backdate_events(memory: Memory, days: float, *event_ids: str) -> None:
    when = datetime.now(UTC) - timedelta(days=days)

    def write(session: Session) -> None:
        session.exec(
            update(Event).where(col(Event.id).in_(event_ids)).values(created_at=when)  # type: ignore[call-overload]
        )

    memory.database.run_sync(write)


def _rows(memory: Memory, table: type, **where: str) -> list:
    def read(session: Session) -> list:
        query = select(table)
        for name, value in where.items():
            query = query.where(getattr(table, name) == value)
        return list(session.exec(query).all())

    return memory.database.run_sync(read, write=False)


def test_an_item_with_an_expiry_is_read_until_it_expires(memory: Memory) -> None:
    item = memory.remember("ana", "Ana is in Rome this week.", ttl=timedelta(days=7))
    hit = memory.get("ana", item)
    assert hit.expires_at is not None
    left = hit.expires_at - datetime.now(UTC)
    assert timedelta(days=6, hours=23) < left <= timedelta(days=7)
    assert [h.id for h in memory.retrieve("ana", "Where is Ana this week?", k=3)] == [item]


def test_an_expired_item_is_never_returned(memory: Memory) -> None:
    subject = memory.resolve("ana", [Mention(name="Lea", relation="sister")])[0].id
    gone = memory.remember(
        "ana", "Ana's sister Lea is visiting.", key="visitor", subject_id=subject, ttl=3600
    )
    kept = memory.remember("ana", "Ana's sister Lea lives in Paris.", subject_id=subject)
    other = memory.remember("bob", "Lea is visiting Bob.", ttl=3600)  # another user: untouched
    _backdate_expiry(memory, gone)
    assert [h.id for h in memory.list_items("ana")] == [kept]
    assert [h.id for h in memory.list_items("ana", include_history=True)] == [kept]
    assert gone not in [h.id for h in memory.retrieve("ana", "Lea is visiting", k=5)]
    assert gone not in [h.id for h in memory.retrieve("ana", "visiting", k=5, kinds=["fact"])]
    many = memory.retrieve_many("ana", ["Lea visiting", "sister"], k=5)
    assert all(gone not in [h.id for h in hits] for hits in many)
    with pytest.raises(NotFoundError):
        memory.get("ana", gone)
    with pytest.raises(NotFoundError):
        memory.update("ana", gone, text="Lea is visiting again.")
    assert [h.id for h in memory.subject_facts("ana", [subject])] == [kept]
    assert memory.slot_values("ana", "visitor", subject) == []
    assert [i["id"] for i in memory.export("ana")["items"]] == [kept]
    assert [h.id for h in memory.list_items("bob")] == [other]


def test_remembering_an_expired_text_again_makes_a_new_item(memory: Memory) -> None:
    first = memory.remember("ana", "Ana parks on level 3.", ttl=60)
    _backdate_expiry(memory, first)
    second = memory.remember("ana", "Ana parks on level 3.")
    assert second != first
    assert [h.id for h in memory.list_items("ana")] == [second]


def test_remembering_the_same_text_keeps_the_longer_life(memory: Memory) -> None:
    item = memory.remember("ana", "Ana is on call.", ttl=timedelta(hours=1))
    assert memory.remember("ana", "Ana is on call.", ttl=timedelta(days=2)) == item
    assert memory.get("ana", item).expires_at > datetime.now(UTC) + timedelta(days=1)
    assert memory.remember("ana", "Ana is on call.", ttl=timedelta(minutes=5)) == item
    assert memory.get("ana", item).expires_at > datetime.now(UTC) + timedelta(days=1)
    assert memory.remember("ana", "Ana is on call.") == item  # no expiry: kept for good
    assert memory.get("ana", item).expires_at is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"expires_at": datetime.now(UTC) - timedelta(seconds=1)}, "not in the future"),
        ({"ttl": -5}, "positive"),
        ({"ttl": 0}, "positive"),
        ({"ttl": timedelta(seconds=-1)}, "positive"),
        ({"ttl": float("nan")}, "positive"),
        ({"ttl": "1h"}, "timedelta or seconds"),
        ({"ttl": 5, "expires_at": datetime.now(UTC) + timedelta(days=1)}, "not both"),
        ({"expires_at": "2099-01-01"}, "must be a datetime"),
    ],
)
def test_bad_expiries_are_refused(memory: Memory, options: dict, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        memory.remember("ana", "Ana likes tea.", **options)
    assert memory.list_items("ana") == []


def test_a_naive_expiry_is_taken_as_utc(memory: Memory) -> None:
    naive = (datetime.now(UTC) + timedelta(days=3)).replace(tzinfo=None, microsecond=0)
    item = memory.remember("ana", "Ana's passport is at the embassy.", expires_at=naive)
    assert memory.get("ana", item).expires_at == naive.replace(tzinfo=UTC)
    aware = datetime(2999, 1, 1, 12, tzinfo=UTC).astimezone(timezone(timedelta(hours=5)))
    other = memory.remember("ana", "Ana's visa is being renewed.", expires_at=aware)
    assert memory.get("ana", other).expires_at == datetime(2999, 1, 1, 12, tzinfo=UTC)


def test_the_sweep_erases_expired_items_as_forget_does(memory: Memory) -> None:
    gone = memory.remember("ana", "Ana's door code is 4411.", ttl=60)
    kept = memory.remember("ana", "Ana likes jazz.", ttl=timedelta(days=1))
    theirs = memory.remember("bob", "Bob's door code is 9000.", ttl=60)
    _backdate_expiry(memory, gone, theirs)
    report = memory.sweep(users=["ana"])  # one user only
    assert report.expired == 1
    assert _rows(memory, Concept, id=gone) == []
    assert _rows(memory, ConceptVector, concept_id=gone) == []
    trail = _rows(memory, AuditEntry, concept_id=gone)
    assert trail[-1].action == "expire"
    assert all(e.after in (None, {"redacted": True}) for e in trail)
    assert [h.id for h in memory.list_items("ana")] == [kept]
    assert len(_rows(memory, Concept, id=theirs)) == 1  # bob was not swept
    assert memory.sweep().expired == 1
    assert _rows(memory, Concept, id=theirs) == []
    assert memory.sweep().expired == 0  # nothing left


def test_an_image_takes_the_same_expiry_options(memory: Memory) -> None:
    from pathlib import Path

    from PIL import Image

    red, blue = Image.new("RGB", (8, 8), "red"), Image.new("RGB", (8, 8), "blue")
    brief = memory.remember_image("ana", red, caption="Ana's parking ticket", ttl=3600)
    hit = memory.get("ana", brief)
    assert hit.expires_at is not None and hit.image_path and Path(hit.image_path).is_file()
    soon = datetime.now(UTC) + timedelta(days=2)
    kept = memory.remember_image("ana", blue, caption="Ana's boarding pass", expires_at=soon)
    assert memory.get("ana", kept).expires_at == soon
    again = memory.remember_image("ana", blue, caption="Ana's boarding pass")  # no expiry now
    assert again == kept and memory.get("ana", kept).expires_at is None  # the longer life
    with pytest.raises(InvalidInputError):
        memory.remember_image("ana", red, caption="x", ttl=60, expires_at=soon)
    _backdate_expiry(memory, brief)
    assert [h.id for h in memory.list_items("ana")] == [kept]
    assert memory.sweep().expired == 1
    assert not Path(hit.image_path).exists()  # erased as forget erases: the file too


def test_update_moves_or_removes_an_expiry(memory: Memory) -> None:
    from confidante.memory.storage.expiry import NEVER

    item = memory.remember("ana", "Ana is at the dentist.", ttl=60)
    first = memory.get("ana", item).expires_at
    assert first is not None
    later = memory.update("ana", item, ttl=timedelta(hours=2)).expires_at
    assert later is not None and later - first > timedelta(hours=1)
    assert memory.update("ana", item, importance=0.9).expires_at == later  # None: unchanged
    when = datetime(2999, 1, 1, 12, 0)  # naive: UTC
    assert memory.update("ana", item, expires_at=when).expires_at == when.replace(tzinfo=UTC)
    assert memory.update("ana", item, expires_at=NEVER).expires_at is None
    assert memory.get("ana", item).expires_at is None
    for options in (
        {"ttl": 60, "expires_at": NEVER},
        {"expires_at": datetime.now(UTC) - timedelta(seconds=1)},
        {"expires_at": "tomorrow"},
        {"ttl": 0},
    ):
        with pytest.raises(InvalidInputError):
            memory.update("ana", item, **options)  # type: ignore[arg-type]
    with pytest.raises(NotFoundError):
        memory.update("bob", item, ttl=60)  # never another user's
    memory.update("ana", item, ttl=60)
    _backdate_expiry(memory, item)
    with pytest.raises(NotFoundError):
        memory.update("ana", item, ttl=3600)  # an expired item cannot be brought back


def test_forget_erases_an_expired_item_too(memory: Memory) -> None:
    item = memory.remember("ana", "Ana's locker is 12.", ttl=60)
    _backdate_expiry(memory, item)
    memory.forget("ana", item)
    assert _rows(memory, Concept, id=item) == []
    with pytest.raises(NotFoundError):
        memory.forget("bob", item)  # never another user's


def test_retention_erases_old_turns_and_marks_what_was_learned(memory: Memory) -> None:
    old = memory.record_event("ana", "user", "I moved to Lisbon last month.")
    recent = memory.record_event("ana", "user", "I started learning Portuguese.")
    theirs = memory.record_event("bob", "user", "I moved to Oslo.")
    fact = memory.remember("ana", "Ana lives in Lisbon.", provenance=[old, "doc-1"])
    fresh = memory.remember("ana", "Ana is learning Portuguese.", provenance=[recent])
    observed = memory.observe("ana", "We met at the Lisbon café.", speaker="Ana", source_id="m-1")
    copies = [h.id for h in memory.list_items("ana", kinds=["turn", "episode"])]
    assert copies
    _backdate_events(memory, 40, old, theirs, observed)
    report = memory.sweep(keep_turns_days=30, users=["ana"])
    assert (report.turns, report.copies, report.marked) == (2, len(copies), 1)
    assert {e.id for e in _rows(memory, Event, user_id="ana")} == {recent}
    assert memory.list_items("ana", kinds=["turn", "episode"]) == []
    learned = memory.get("ana", fact)
    assert sorted(learned.provenance) == sorted([f"{ERASED_SOURCE}{old}", "doc-1"])
    assert memory.get("ana", fresh).provenance == [recent]
    assert [e.id for e in _rows(memory, Event, user_id="bob")] == [theirs]  # not swept
    assert memory.sweep(keep_turns_days=30).turns == 1
    assert memory.sweep(keep_turns_days=30).turns == 0


def test_retention_erases_only_conversation_turns(memory: Memory) -> None:
    from confidante.memory.ingest.events import NewEvent
    from confidante.tools.recommend import interactions
    from confidante.tools.recommend.catalog import Catalog, CatalogItem, CatalogRecord

    said = memory.record_event("ana", "user", "Recommend me a film.")
    answered = memory.record_event("ana", "assistant", "Try Stalker.")
    memory.record_event("ana", "user", "Thanks!")  # recent: kept
    asyncio.run(interactions.arecord(memory, "ana", [("rated", "film-7", 9.0, None)]))
    (interaction,) = [e.id for e in _rows(memory, Event, role=interactions.ROLE)]
    (logged,) = memory.record_events(
        "ana", [NewEvent(role="weather_tool", text='{"city": "Lisbon"}', extraction="skipped")]
    )
    catalog = Catalog(memory.database)
    asyncio.run(catalog.aadd([CatalogItem(id="film-7", title="Stalker")]))
    _backdate_events(memory, 90, said, answered, interaction, logged)

    def backdate_catalog(session: Session) -> None:
        old = datetime.now(UTC) - timedelta(days=90)
        session.exec(update(CatalogRecord).values(created_at=old))  # type: ignore[call-overload]

    memory.database.run_sync(backdate_catalog)
    assert memory.sweep(keep_turns_days=30).turns == 2
    left = {e.id: e.role for e in _rows(memory, Event, user_id="ana")}
    assert said not in left and answered not in left
    assert left[interaction] == interactions.ROLE and left[logged] == "weather_tool"
    assert [i.item for i in asyncio.run(interactions.aload(memory, "ana"))] == ["film-7"]
    assert [item.id for item in asyncio.run(catalog.aitems())] == ["film-7"]


def test_retention_is_off_by_default_and_checked(memory: Memory) -> None:
    old = memory.record_event("ana", "user", "Hello there.")
    _backdate_events(memory, 4000, old)
    assert memory.sweep().turns == 0
    for bad in (0, -1, float("nan"), "30"):
        with pytest.raises(InvalidInputError):
            memory.sweep(keep_turns_days=bad)  # type: ignore[arg-type]
    assert [e.id for e in _rows(memory, Event, user_id="ana")] == [old]


def test_an_old_database_without_expiry_still_opens(memory_url: str, settings) -> None:
    memory = Memory.open(memory_url, settings=settings)
    item = memory.remember("ana", "Ana likes figs.")
    memory.database.run_sync(
        lambda session: [
            session.exec(sql(statement))  # type: ignore[call-overload]
            for statement in (
                "DROP INDEX IF EXISTS ix_concepts_expires_at",
                "ALTER TABLE concepts DROP COLUMN expires_at",
                "ALTER TABLE summaries DROP COLUMN expires_at",
            )
        ]
    )
    memory.close()
    reopened = Memory.open(memory_url, settings=settings)
    try:
        assert [h.id for h in reopened.list_items("ana")] == [item]
        later = reopened.remember("ana", "Ana is in Nice.", ttl=60)
        assert reopened.get("ana", later).expires_at is not None
    finally:
        reopened.close()


def test_a_summary_is_not_read_once_an_item_it_saw_expires(memory: Memory) -> None:
    from confidante.memory.summaries.job import SummaryJob
    from confidante.models.scripted import ScriptedChatModel

    memory.remember("ana", "The user likes jazz.")
    brief = memory.remember("ana", "The user is training for a marathon.", ttl=timedelta(days=2))
    report = SummaryJob(memory, ScriptedChatModel(), users=["ana"], tasks=["chat"]).run()
    assert report.totals()["generated"] == 1 and report.swept is not None
    view = memory.summary("ana", "chat")
    assert view is not None and view.expires_at is not None
    assert view.expires_at == memory.get("ana", brief).expires_at  # the soonest of its items
    past = datetime.now(UTC) - timedelta(minutes=1)
    _backdate_expiry(memory, brief)  # time passes for the item and the summary alike
    memory.database.run_sync(
        lambda session: session.exec(update(Summary).values(expires_at=past))  # type: ignore[call-overload]
    )
    assert memory.summary("ana", "chat") is None  # it may state the expired item
    again = SummaryJob(memory, ScriptedChatModel(), users=["ana"], tasks=["chat"]).run()
    assert again.swept is not None and again.swept.expired == 1
    assert again.totals()["generated"] == 1
    fresh = memory.summary("ana", "chat")
    assert fresh is not None and "marathon" not in fresh.text and fresh.expires_at is None


def test_cli_sweep(cli_env: dict[str, str]) -> None:
    cli = [sys.executable, "-m", "confidante.cli"]
    done = subprocess.run(
        [*cli, "sweep", "--keep-turns-days", "30", "--json"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"expired": 0, "turns": 0, "copies": 0, "marked": 0}
    bad = subprocess.run(
        [*cli, "sweep", "--keep-turns-days", "-3"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert bad.returncode == 2 and "keep_turns_days must be positive" in bad.stderr


def test_export_and_import_carry_the_expiry(memory: Memory, tmp_path, settings) -> None:
    from confidante.memory.portability.format import JSON_SCHEMA, VERSION

    lasting = memory.remember("ana", "Ana keeps bees.")
    soon = datetime.now(UTC) + timedelta(days=3)
    brief = memory.remember("ana", "Ana is in Ghent until Friday.", expires_at=soon)
    gone = memory.remember("ana", "Ana's parcel waits at the depot.", ttl=3600)
    _backdate_expiry(memory, gone)
    export = json.loads(json.dumps(memory.export("ana")))
    assert export["version"] == VERSION == 4 and "expires_at" in str(JSON_SCHEMA)
    by_id = {item["id"]: item for item in export["items"]}
    assert set(by_id) == {lasting, brief}  # an expired item is not exported
    assert by_id[lasting]["expires_at"] is None
    assert datetime.fromisoformat(by_id[brief]["expires_at"]) == soon
    other = Memory.open(tmp_path / "other.db", settings=settings)
    try:
        # an item of the document that has expired since it was written is skipped
        stale = {**by_id[lasting], "id": "stale-1", "text": "Ana's door code is 1234."}
        stale["expires_at"] = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        ids = other.import_("bea", {**export, "items": [*export["items"], stale]})
        assert len(ids) == 2
        imported = {h.text: h for h in other.list_items("bea", include_history=True)}
        assert set(imported) == {"Ana keeps bees.", "Ana is in Ghent until Friday."}
        assert imported["Ana is in Ghent until Friday."].expires_at == soon
        assert imported["Ana keeps bees."].expires_at is None
        # a version 3 document (no expiries) still imports; its items never expire
        legacy = {**export, "version": 3, "items": [{**by_id[lasting], "id": "old-1"}]}
        legacy["items"][0].pop("expires_at")
        (kept,) = other.import_("cleo", legacy)
        assert other.get("cleo", kept).expires_at is None
        with pytest.raises(InvalidInputError, match="expires_at"):
            bad = {**by_id[lasting], "expires_at": "next week"}
            other.import_("dora", {**export, "items": [bad]})
    finally:
        other.close()
