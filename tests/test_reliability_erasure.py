"""Erasure: after ``forget_user`` nothing anywhere holds the user's content.

A canary string is planted in everything a user can leave behind: chat turns (events,
checkpoints), extracted facts and their vectors, full-text index, audit log, summaries, image
captions and files, observed conversation turns and episodes, persona membership, a failed
extraction's error, and log output. After ``Agent.aforget_user`` the test scans GENERICALLY,
so that tables and files added later are covered without editing it:

- every table of the memory database (reflected with SQLAlchemy, FTS shadow tables
  included), every cell of every row;
- the raw bytes of the SQLite files (database, WAL), so freed pages count too;
- the raw bytes of the checkpoint database and its WAL;
- every file under the memory's image folder and the data directory;
- every log record emitted while the user was served.

A second user's canary must survive everything (erasure is not over-deletion).

The same scan proves that secrets never land (``secret_policy``, see
:mod:`confidante.memory.secrets`): after chat turns and direct writes holding a valid test
card number, a fake API key, a password and an IBAN, none of them is in any table, file of the
data directory, log line or export, under the default ``redact`` policy; under ``allow`` the
scan finds them (so it can see them).
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import fresh_postgres_database
from PIL import Image
from sqlalchemy import create_engine, inspect, text
from workers.common import HashEmbedder

from confidante import Agent
from confidante.memory.storage.database import Database
from confidante.memory.store import Memory
from confidante.memory.summaries.job import SummaryJob
from confidante.models.scripted import ScriptedChatModel
from confidante.models.scripted_rules import default_reply
from confidante.settings import Settings


def canary_pair() -> tuple[str, str]:
    """Return a fresh canary (a capitalised name, so the fact rules extract it) twice.

    It ends in "x", which no Porter rule strips: the full-text index keeps it whole (a hex
    token ending in "e" or "ed" was stored stemmed, and the planted-word check failed).
    """
    token = uuid.uuid4().hex[:12]
    return f"Zq{token}x", f"zq{token}x"


def _png(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (6, 6), colour).save(buffer, format="PNG")
    return buffer.getvalue()


class Capture(logging.Handler):
    """Keep every formatted log record (and its exception text).

    confidante's own loggers are kept from DEBUG up; other libraries' from INFO up (at DEBUG,
    aiosqlite logs every statement with its parameters: a deployment that turns on
    third-party DEBUG logging accepts that its log holds the data).
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno < logging.INFO and not record.name.startswith("confidante"):
            return
        self.lines.append(self.format(record))
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


@pytest.fixture
def log_capture() -> Iterator[Capture]:
    handler = Capture()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(level)


def echoing_model() -> ScriptedChatModel:
    """Default rules, except a failed extraction that echoes the user's words in its output."""

    def answer(payload: dict[str, Any]) -> Any:
        user = payload["messages"][-1].get("content") or ""
        name = ((payload.get("response_format") or {}).get("json_schema") or {}).get("name")
        if name == "FactExtraction" and "broken" in user:
            return '{"facts": [{"key": "x", "value": "' + user  # invalid JSON echoing the user
        return default_reply(payload)

    return ScriptedChatModel(function=answer)


async def _serve(settings: Settings, memory: Memory, user: str, name: str) -> Agent:
    """Leave ``name`` everywhere a user can leave content."""
    agent = Agent(user_id=user, settings=settings, memory=memory, model=echoing_model())
    await agent.aturn(f"My dog is called {name}.")
    await agent.aturn(f"I live in {name} City and I like {name.lower()} soup.")
    await agent.aturn(f"Remind me to call {name} tomorrow.")
    await agent.aturn(f"This broken sentence mentions {name} twice, {name}.")
    await agent.aturn(f"Tell me what you know about {name}?", session_id="second")
    await memory.aremember(user, f"Secret note: {name} is my password hint.", key="hint")
    await memory.aremember(user, f"The user's dog is now called {name}2.", key="dog_name")
    await memory.aremember_image(user, _png((10, 200, 30)), caption=f"A photo of {name}.")
    await memory.aobserve(user, f"{name} told me a story.", speaker="friend", session_id="obs")
    await memory.ajoin_persona(user, "gardeners")
    hit = (await memory.alist_items(user))[0]
    await memory.aupdate(user, hit.id, text=f"{hit.text} Updated about {name}.")
    await SummaryJob(memory, agent.model, users=[user]).arun()
    assert (await memory.asummary(user, "chat")) is not None
    return agent


def _scan_tables(url: str, needle: str) -> list[str]:
    """Return ``table.column`` of every cell whose text or bytes contain ``needle``."""
    found: list[str] = []
    engine = create_engine(url)
    try:
        tables = inspect(engine).get_table_names()
        assert {"concepts", "events", "summaries", "audit_log"} <= set(tables)
        with engine.connect() as connection:
            for table in tables:
                result = connection.execute(text(f'SELECT * FROM "{table}"'))
                columns = list(result.keys())
                for row in result:
                    for column, value in zip(columns, row, strict=True):
                        if value is None:
                            continue
                        raw = value if isinstance(value, bytes) else str(value).encode()
                        if needle.encode() in raw.lower():
                            found.append(f"{table}.{column}")
    finally:
        engine.dispose()
    return sorted(set(found))


def _scan_files(paths: list[Path], needle: str) -> list[str]:
    hits = []
    for path in paths:
        if path.is_file() and needle.encode() in path.read_bytes().lower():
            hits.append(str(path))
    return hits


def _files_under(*roots: Path) -> list[Path]:
    return [path for root in roots if root.exists() for path in root.rglob("*") if path.is_file()]


async def test_forget_user_leaves_no_trace_anywhere(
    settings: Settings, log_capture: Capture
) -> None:
    victim, victim_needle = canary_pair()
    keeper, keeper_needle = canary_pair()
    memory = Memory.open(settings=settings)
    gone = await _serve(settings, memory, "victim", victim)
    kept = await _serve(settings, memory, "keeper", keeper)
    url = memory.database.engine.url.render_as_string(hide_password=False)
    db_path = Path(str(memory.database.engine.url.database))
    checkpoint = Path(settings.checkpoint_path)
    assert _scan_tables(url, victim_needle), "the canary was planted in the tables"

    counts = await gone.aforget_user()
    await gone.aclose()
    assert counts["concepts"] > 0 and counts["checkpoint_threads"] == 2

    leftovers = {
        "tables": _scan_tables(url, victim_needle),
        "database files": _scan_files(
            [db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-journal")], victim_needle
        ),
        "checkpoint files": _scan_files(
            [checkpoint, Path(f"{checkpoint}-wal"), Path(f"{checkpoint}-journal")], victim_needle
        ),
        "images and data files": _scan_files(
            _files_under(memory.images.root, settings.data_dir), victim_needle
        ),
        "log lines": [line[:120] for line in log_capture.lines if victim_needle in line.lower()],
    }
    assert leftovers == {key: [] for key in leftovers}, leftovers

    # erasure is not over-deletion: the other user keeps everything
    assert _scan_tables(url, keeper_needle)
    assert any(keeper_needle in hit.text.lower() for hit in await memory.alist_items("keeper"))
    assert (await memory.asummary("keeper", "chat")) is not None
    assert any(memory.images.user_folder("keeper").iterdir())
    assert "Zq" in (await kept.achat("What is my dog called?"))
    await kept.aclose()
    memory.close()


async def test_forget_user_on_postgres_empties_every_table(
    postgres_admin_url: str, tmp_path: Path
) -> None:
    victim, needle = canary_pair()
    with fresh_postgres_database(postgres_admin_url) as url:
        memory = Memory(Database.open(url), HashEmbedder(), images_dir=tmp_path / "images")
        await memory.aremember("victim", f"The user's dog is called {victim}.", key="dog_name")
        await memory.arecord_event("victim", "user", f"My dog is called {victim}.")
        await memory.aobserve("victim", f"{victim} said hi.", speaker="friend")
        await memory.aremember_image("victim", _png((1, 2, 3)), caption=f"{victim} photo")
        await memory.ajoin_persona("victim", "gardeners")
        await SummaryJob(memory, ScriptedChatModel(), users=["victim"]).arun()
        await memory.aremember("keeper", "The user's cat is called Tom.")
        sa_url = memory.database.engine.url.render_as_string(hide_password=False)
        assert _scan_tables(sa_url, needle)
        await memory.aforget_user("victim")
        assert _scan_tables(sa_url, needle) == []
        assert _scan_files(_files_under(memory.images.root), needle) == []
        assert [hit.text for hit in await memory.alist_items("keeper")]
        memory.close()


def _fts_index_bytes(url: str) -> bytes:
    """Return the raw blocks of the full-text index (where deleted words can linger)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT block FROM concepts_fts_data")).all()
    finally:
        engine.dispose()
    return b"".join(bytes(row[0]) for row in rows if row[0] is not None).lower()


async def test_forget_one_item_leaves_its_words_in_no_index_segment_or_page(
    settings: Settings,
) -> None:
    name, needle = canary_pair()
    memory = Memory.open(settings=settings)
    item = await memory.aremember("ana", f"My locker word is {name}.")
    await memory.aremember("ana", "I like green tea.")
    await memory.aremember("bob", "Bob likes green tea too.")
    url = memory.database.engine.url.render_as_string(hide_password=False)
    db_path = Path(str(memory.database.engine.url.database))
    assert needle.encode() in _fts_index_bytes(url), "the word was planted in the index"

    await memory.aforget("ana", item)
    assert needle.encode() not in _fts_index_bytes(url)
    assert _scan_tables(url, needle) == []
    assert _scan_files([db_path, Path(f"{db_path}-wal"), Path(f"{db_path}-journal")], needle) == []
    # the rest of the index still answers, for both users
    assert [hit.text for hit in await memory.aretrieve("ana", "green tea", k=1)] == [
        "I like green tea."
    ]
    assert "Bob likes green tea too." in [h.text for h in await memory.aretrieve("bob", "tea")]
    memory.close()


# ------------------------------------------------------------------- secrets never land
TEST_CARD = "4111 1111 1111 1111"  # the well-known Visa test number: valid, never issued


def secret_canaries() -> dict[str, str]:
    """Fresh secrets of each kind (lower case, as the scans compare), and the card's digits."""
    token = uuid.uuid4().hex
    return {
        "card": TEST_CARD,
        "card digits": TEST_CARD.replace(" ", ""),
        "api key": f"sk-{token}",
        "password": f"zq{token[:10]}x",
        "iban": "gb82west12345698765432",
    }


async def _type_secrets(settings: Settings, memory: Memory, user: str, s: dict[str, str]) -> None:
    """Send the secrets through chat turns (plain and streamed) and direct memory writes."""
    agent = Agent(user_id=user, settings=settings, memory=memory, model=echoing_model())
    await agent.aturn(f"My dog is called Rex and my card number is {s['card']}.")
    await agent.aturn(f"I use the api key {s['api key']} at work.")
    await agent.aturn(f"This broken sentence has the wifi password is {s['password']}.")
    async for _ in agent.astream(f"Remind me to pay rent from {s['iban'].upper()}."):
        pass
    await agent.aturn(f"My password is {s['password']} and my IBAN is {s['iban'].upper()}.")
    await memory.aremember(
        user, f"Ana's backup key is {s['api key']}.", attributes={"c": s["card digits"]}
    )
    await memory.aremember_image(user, _png((9, 9, 9)), caption=f"A photo of card {TEST_CARD}")
    await memory.aobserve(user, f"my password is {s['password']}", speaker="Bo")
    await SummaryJob(memory, agent.model, users=[user]).arun()
    await agent.aclose()


def _everywhere(settings: Settings, memory: Memory, log: Capture, needle: str) -> dict[str, Any]:
    """Where ``needle`` is: tables, database and checkpoint files, data files, log lines."""
    url = memory.database.engine.url.render_as_string(hide_password=False)
    return {
        "tables": _scan_tables(url, needle),
        "files of the data directory": _scan_files(
            _files_under(memory.images.root, settings.data_dir), needle
        ),
        "log lines": [line[:120] for line in log.lines if needle in line.lower()],
    }


@pytest.mark.parametrize("policy", ["redact", "allow"])
async def test_secrets_typed_in_chat_land_nowhere(
    settings: Settings, log_capture: Capture, policy: str
) -> None:
    settings = settings.model_copy(update={"secret_policy": policy})
    secrets = secret_canaries()
    memory = Memory.open(settings=settings)
    await _type_secrets(settings, memory, "ana", secrets)
    exported = json.dumps(await memory.aexport("ana")).lower()
    assert "data" in {path.name for path in settings.data_dir.parent.iterdir()}
    assert Path(f"{settings.checkpoint_path}").is_file()  # the checkpoints are in the scan
    found = {
        name: {**_everywhere(settings, memory, log_capture, needle), "export": needle in exported}
        for name, needle in secrets.items()
    }
    memory.close()
    if policy == "allow":  # the scan sees a secret that is stored
        assert all(where["tables"] and where["export"] for where in found.values()), found
        return
    nowhere = {"tables": [], "files of the data directory": [], "log lines": [], "export": False}
    assert found == {name: nowhere for name in secrets}, found
    assert "[card number removed]" in exported and "[api key removed]" in exported


async def test_secrets_written_to_postgres_land_in_no_table(
    postgres_admin_url: str, tmp_path: Path
) -> None:
    secrets = secret_canaries()
    with fresh_postgres_database(postgres_admin_url) as url:
        memory = Memory(Database.open(url), HashEmbedder(), images_dir=tmp_path / "images")
        await memory.aremember(
            "ana", f"The card is {TEST_CARD}.", attributes={"k": secrets["api key"]}
        )
        await memory.arecord_event("ana", "user", f"my password is {secrets['password']}")
        await memory.aobserve("ana", f"IBAN {secrets['iban'].upper()}", speaker="Bo")
        await memory.aremember_image("ana", _png((4, 5, 6)), caption=f"key {secrets['api key']}")
        sa_url = memory.database.engine.url.render_as_string(hide_password=False)
        for needle in secrets.values():
            assert _scan_tables(sa_url, needle) == [], needle
            assert _scan_files(_files_under(memory.images.root), needle) == []
        assert _scan_tables(sa_url, "[card number removed]")
        memory.close()
