"""Moving in from Letta, Zep/Graphiti and LangGraph: what arrives, with its own times.

The fixtures in ``tests/fixtures/imports/`` were written by hand from each format's public
definition (Letta's ``AgentFileSchema``, Graphiti's ``EpisodicNode`` / ``EntityEdge`` /
``EntityNode``, LangGraph's ``Item``); the LangGraph round trip dumps a real ``InMemoryStore``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from langgraph.store.memory import InMemoryStore
from sqlmodel import col, update

from confidante.integrations.importers import convert_export
from confidante.integrations.importers.letta import letta_to_export
from confidante.integrations.langgraph_store import ConfidanteStore
from confidante.memory.storage.records import Concept
from confidante.memory.store import Memory
from confidante.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures" / "imports"
FILES = {
    "letta": "letta_agent.af",
    "graphiti": "graphiti_export.json",
    "langgraph": "langgraph_store.json",
}


def fixture(file_format: str) -> Any:
    return json.loads((FIXTURES / FILES[file_format]).read_text(encoding="utf-8"))


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture
def memory(settings: Settings) -> Iterator[Memory]:
    store = Memory.open(settings=settings)
    yield store
    store.close()


def test_letta_agent_file(memory: Memory) -> None:
    memory.import_("ana", convert_export("letta", fixture("letta"), user_id="ana"))
    items = {item.text: item for item in memory.list_items("ana")}
    assert {
        "First name: Ana",
        "Vegetarian",
        "Partner: Rui",
        "Lives in Lisbon since spring 2024.",
    } <= set(items)
    assert "Last name: ?" not in items  # an unfilled template line
    assert not any("Sol" in text for text in items)  # the persona block is the agent's own
    # a block has no time of its own in the current schema: the file's created_at
    assert items["Vegetarian"].created_at == at("2025-04-12T08:00:00+00:00")
    assert items["Vegetarian"].attributes["letta"]["label"] == "human"
    assert items["Vegetarian"].provenance == ["letta:block:block-0"]
    seasick = items["Ana gets seasick on long boat trips."]  # an archival passage
    assert seasick.created_at == at("2025-04-01T07:30:00+00:00")
    assert seasick.attributes["letta"]["tags"] == ["travel", "health"]
    events = memory.export("ana")["events"]
    assert [(e["role"], at(e["created_at"])) for e in events] == [
        ("user", at("2025-03-02T10:15:00+00:00")),
        ("assistant", at("2025-03-02T10:15:07+00:00")),
        ("user", at("2025-04-11T18:42:10.250000+01:00")),
        ("assistant", at("2025-04-11T18:42:15+01:00")),
    ]
    said = [e["text"] for e in events]
    assert said[0] == "I moved to Lisbon last spring and I am vegetarian."  # unpacked
    assert said[1].startswith("Lisbon is lovely!")  # send_message, not the inner thoughts
    assert {e["session_id"] for e in events} == {"letta:travel_buddy"}
    hit = memory.retrieve("ana", "does she get seasick on boats?", k=1)[0]
    assert hit.id == seasick.id


def test_letta_first_schema_and_string_wrapped_file(memory: Memory) -> None:
    first = {  # letta.serialize_schemas.pydantic_agent_schema.AgentSchema
        "agent_type": "memgpt_agent",
        "name": "old_agent",
        "created_at": "2024-11-02T10:00:00",
        "updated_at": "2024-12-01T10:00:00",
        "version": "0.6.4",
        "core_memory": [
            {
                "label": "human",
                "value": "Name: Ana\nLikes jazz",
                "limit": 5000,
                "description": None,
                "is_template": False,
                "template_name": None,
                "metadata_": {},
                "created_at": "2024-11-02T10:00:00",
                "updated_at": "2024-11-20T21:00:00",
            }
        ],
        "messages": [
            {
                "role": "user",
                "content": [{"type": "text", "text": "I love jazz."}],
                "created_at": "2024-11-20T20:59:00",
                "updated_at": "2024-11-20T20:59:00",
                "name": None,
                "model": None,
                "group_id": None,
                "tool_call_id": None,
                "tool_calls": [],
                "tool_returns": [],
            }
        ],
        "tags": [],
        "tools": [],
        "tool_rules": [],
        "tool_exec_environment_variables": [],
        "in_context_message_indices": [0],
        "message_buffer_autoclear": False,
        "system": "You are a helpful assistant.",
    }
    document = letta_to_export(first, user_id="ana")
    assert letta_to_export(json.dumps(first), user_id="ana")["items"] == document["items"]
    memory.import_("ana", document)
    jazz = {item.text: item for item in memory.list_items("ana")}["Likes jazz"]
    assert jazz.created_at == at("2024-11-02T10:00:00+00:00")  # the block's own times
    assert jazz.valid_from == at("2024-11-20T21:00:00+00:00")
    (event,) = memory.export("ana")["events"]
    assert event["text"] == "I love jazz." and at(event["created_at"]) == at(
        "2024-11-20T20:59:00+00:00"
    )


def test_letta_v1_agents_reply_in_their_text() -> None:
    data = fixture("letta")
    agent = data["agents"][0]
    reply = {
        "type": "message",
        "role": "assistant",
        "content": [
            {"type": "reasoning", "reasoning": "She likes hiking; note it."},
            {"type": "text", "text": "Noted: I'll look for trails near Porto."},
        ],
        "tool_calls": [
            {
                "id": "call-9",
                "type": "function",
                "function": {"name": "memory_insert", "arguments": "{}"},
            }
        ],
        "id": "message-9",
        "created_at": "2025-05-01T12:00:00+00:00",
    }
    agent["messages"].append(reply)
    memgpt = [e["text"] for e in letta_to_export(data, user_id="ana")["events"]]
    assert "Noted: I'll look for trails near Porto." not in memgpt  # inner thoughts
    agent["agent_type"] = "letta_v1_agent"
    v1 = [e["text"] for e in letta_to_export(data, user_id="ana")["events"]]
    assert v1[-1] == "Noted: I'll look for trails near Porto."


def test_graphiti_invalidated_facts_arrive_as_history(memory: Memory) -> None:
    memory.import_("ana", convert_export("graphiti", fixture("graphiti"), user_id="ana"))
    current = {item.text: item for item in memory.list_items("ana")}
    assert "Ana lives in Lisbon." not in current
    history = {i.text: i for i in memory.list_items("ana", include_history=True)}
    lisbon = history["Ana lives in Lisbon."]
    assert lisbon.valid_from == at("2023-01-10T19:30:00Z")
    assert lisbon.valid_to == at("2024-04-25T00:00:00Z")  # invalid_at: when it stopped being true
    porto = current["Ana lives in Porto."]
    assert porto.valid_to is None and porto.valid_from == at("2024-04-25T00:00:00Z")
    assert porto.created_at == at("2024-06-01T12:00:07Z")
    assert porto.attributes["graphiti"]["source"] == "Ana"
    assert porto.attributes["graphiti"]["target"] == "Porto"
    # a future invalid_at: still true today, the date is kept
    library = current["Ana works at the city library until the end of 2099."]
    assert library.attributes["graphiti"]["invalid_at"].startswith("2099-12-31")
    events = {e["id"]: e for e in memory.export("ana")["events"]}
    (moved,) = [events[source] for source in porto.provenance if source in events]
    assert moved["text"] == "Ana: We finally moved to Porto last week."
    assert at(moved["created_at"]) == at("2024-05-02T08:15:00+02:00")  # valid_at, not ingestion
    hits = memory.retrieve("ana", "which city does Ana live in?", k=3)
    assert "Ana lives in Lisbon." not in {hit.text for hit in hits}
    assert "Ana lives in Porto." in {hit.text for hit in hits}


def test_langgraph_dump_round_trip_through_a_real_store(memory: Memory) -> None:
    source = InMemoryStore()
    source.put(("ana", "memories"), "diet", {"text": "Ana is vegetarian."})
    source.put(("ana", "memories"), "pet", {"text": "Ana's beagle is Biscuit.", "since": 2019})
    source.put(("ana", "profile"), "languages", {"spoken": ["Portuguese", "English"]})
    source.put(("ana", "memories"), "diet", {"text": "Ana is vegan now."})  # updated later
    dump = json.loads(json.dumps([item.dict() for item in source.search(("ana",), limit=100)]))

    memory.import_("ana", convert_export("langgraph", dump, user_id="ana"))
    store = ConfidanteStore(memory)
    for original in source.search(("ana",), limit=100):
        moved = store.get(original.namespace, original.key)
        assert moved is not None
        assert moved.value == original.value
        assert moved.created_at == original.created_at and moved.updated_at == original.updated_at
    again = [item.dict() for item in store.search(("ana",), limit=100)]
    assert sorted(again, key=lambda i: i["key"]) == sorted(dump, key=lambda i: i["key"])
    hit = store.search(("ana", "memories"), query="what does she eat?", limit=1)[0]
    assert hit.key == "diet" and hit.value == {"text": "Ana is vegan now."}


def test_langgraph_fixture_keeps_its_times_and_ttl(memory: Memory) -> None:
    memory.import_("ana", convert_export("langgraph", fixture("langgraph"), user_id="ana"))
    store = ConfidanteStore(memory)
    diet = store.get(("ana", "memories"), "diet", refresh_ttl=False)
    assert diet is not None
    assert diet.created_at == at("2025-01-05T09:00:00+00:00")
    assert diet.updated_at == at("2025-02-10T17:30:00+00:00")
    row = store.get(("ana", "trips"), "azores", refresh_ttl=False)  # a SQL store row
    assert row is not None and row.value == {"text": "Hiking in the Azores in September."}
    (item,) = [i for i in memory.list_items("ana") if "Azores" in i.text]
    assert item.attributes["langgraph"]["ttl"] == 525600.0


def _comparable(export: dict[str, Any]) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """An export without its ids (they are new in each database) or its export time."""
    items = sorted(
        (
            i["text"],
            i["kind"],
            i["key"],
            i["created_at"],
            i["valid_from"],
            i["valid_to"],
            json.dumps(i["attributes"], sort_keys=True),
        )
        for i in export["items"]
    )
    events = sorted(
        (e["id"], e["session_id"], e["role"], e["text"], e["created_at"], e["occurred_at"])
        for e in export["events"]
    )
    return items, events


@pytest.mark.parametrize("file_format", sorted(FILES))
def test_round_trip_through_confidante_export(
    file_format: str, memory: Memory, settings: Settings, tmp_path: Path
) -> None:
    document = convert_export(file_format, fixture(file_format), user_id="ana")
    first = memory.import_("ana", document)
    assert memory.import_("ana", document) and len(
        memory.list_items("ana", include_history=True)
    ) == len(set(first))
    exported = memory.export("ana")
    assert len(exported["events"]) == len(document["events"])  # importing twice added nothing
    other = Memory.open(tmp_path / "other.db", settings=settings)
    try:
        other.import_("ben", json.loads(json.dumps(exported)))
        assert _comparable(other.export("ben")) == _comparable(exported)
    finally:
        other.close()


def _sqlite_store_rows(store: Any) -> list[dict[str, Any]]:
    """The rows of a LangGraph ``SqliteStore``'s ``store`` table, as a dump of it holds them."""
    cursor = store.conn.execute(
        "SELECT prefix, key, value, created_at, updated_at, expires_at, ttl_minutes FROM store"
    )
    names = [column[0] for column in cursor.description]
    rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        if isinstance(row["value"], bytes):
            row["value"] = row["value"].decode()
    return json.loads(json.dumps(rows, default=str))


def test_langgraph_items_keep_their_expiry(memory: Memory) -> None:
    """A dump of a real ``SqliteStore`` with TTLs: each item expires when it would have there."""
    sqlite_store = pytest.importorskip("langgraph.store.sqlite")
    ttl = {"refresh_on_read": True}
    with sqlite_store.SqliteStore.from_conn_string(":memory:", ttl=ttl) as source:
        source.setup()
        source.put(("ana", "trips"), "lisbon", {"text": "Ana is in Lisbon this week."}, ttl=60)
        source.put(("ana", "trips"), "azores", {"text": "Ana hikes the Azores in May."}, ttl=90)
        source.put(("ana", "memories"), "diet", {"text": "Ana is vegetarian."})
        dump = _sqlite_store_rows(source)
    deadlines = {row["key"]: row["expires_at"] for row in dump}
    assert deadlines["diet"] is None and deadlines["lisbon"] is not None

    memory.import_("ana", convert_export("langgraph", dump, user_id="ana"))
    items = {i.attributes["langgraph"]["key"]: i for i in memory.list_items("ana")}
    for key in ("lisbon", "azores"):
        assert items[key].expires_at == at(deadlines[key].replace(" ", "T"))
    assert items["diet"].expires_at is None
    store = ConfidanteStore(memory)
    lisbon = store.get(("ana", "trips"), "lisbon", refresh_ttl=False)
    assert lisbon is not None and lisbon.value == {"text": "Ana is in Lisbon this week."}
    # a confidante export carries it on
    exported = memory.export("ana")
    expiries = {i["attributes"]["langgraph"]["key"]: i["expires_at"] for i in exported["items"]}
    assert at(expiries["lisbon"]) == items["lisbon"].expires_at and expiries["diet"] is None
    # once its moment passes, the item is gone, as it would be from the LangGraph store
    past = datetime.now(UTC) - timedelta(minutes=1)
    memory.database.run_sync(
        lambda session: session.exec(
            update(Concept)  # type: ignore[call-overload]
            .where(col(Concept.id) == items["lisbon"].id)
            .values(expires_at=past)
        )
    )
    assert store.get(("ana", "trips"), "lisbon") is None
    assert store.get(("ana", "trips"), "azores", refresh_ttl=False) is not None
    assert memory.sweep().expired == 1
