"""The secret policy on every write path of the memory and on the agent's turns.

Memory writes run on SQLite and PostgreSQL; agent turns on the scripted model. Where no trace
of a secret may be left on disk at all is proven in ``test_reliability_erasure.py``.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import fresh_postgres_database
from PIL import Image
from workers.common import HashEmbedder

from confidante import Agent, SecretRefusedError
from confidante.memory.secrets import SecretPolicy, refusal_reply, withheld_note
from confidante.memory.storage.database import Database
from confidante.memory.store import Memory
from confidante.settings import Settings

CARD = "4111 1111 1111 1111"
KEY = "sk-test-Qm7Yc2Lp9Xr4Vb8Nw3Tz6Hd1"
PASSWORD_LINE = "my wifi password is hunter2-Zq7"
SECRETS = (CARD, "4111111111111111", KEY, "hunter2-Zq7", "GB82WEST12345698765432")


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'memory.db'}"
        return
    with fresh_postgres_database(request.getfixturevalue("postgres_admin_url")) as url:
        yield url


def _memory(url: str, tmp_path: Path, policy: SecretPolicy) -> Memory:
    return Memory(
        Database.open(url), HashEmbedder(), images_dir=tmp_path / "images", secret_policy=policy
    )


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 10, 10)).save(buffer, format="PNG")
    return buffer.getvalue()


def _document(user: str) -> dict[str, Any]:
    """An export holding secrets in an item's text and attributes and in an event."""
    at = "2026-01-02T03:04:05+00:00"
    return {
        "format": "confidante.memory",
        "version": 3,
        "user_id": user,
        "items": [
            {
                "id": "a" * 32,
                "text": "The user's IBAN is GB82 WEST 1234 5698 7654 32.",
                "key": None,
                "kind": "fact",
                "importance": 0.5,
                "provenance": [],
                "attributes": {"note": f"key {KEY}"},
                "created_at": at,
                "valid_from": at,
                "valid_to": None,
            }
        ],
        "events": [
            {
                "id": "b" * 32,
                "session_id": "s",
                "role": "user",
                "text": PASSWORD_LINE,
                "created_at": at,
            }
        ],
    }


async def _write_everywhere(memory: Memory, user: str) -> None:
    """Send a secret through each write path of the memory."""
    first = await memory.aremember(user, f"My card is {CARD}.", attributes={"api": KEY})
    await memory.aremember_many(user, [f"The deploy key is {KEY}.", PASSWORD_LINE])
    plain = await memory.aremember(user, "Ana likes tea.")
    await memory.aupdate(user, plain, text=f"Ana likes tea. {PASSWORD_LINE}", attributes={"k": KEY})
    other = await memory.aremember(user, "Ana likes green tea.")
    await memory.amerge(user, [plain, other], text=f"Ana likes tea; card {CARD}.")
    await memory.arecord_event(user, "user", f"pay with {CARD}")
    await memory.aobserve(user, f"use {KEY}", speaker="Bo", image_caption=PASSWORD_LINE)
    await memory.aremember_image(user, _png(), caption=f"A photo of the card {CARD}")
    await memory.aimport(user, _document(user))
    assert first


def _dump(value: Any) -> str:
    return json.dumps(value, default=str)


async def test_every_write_path_redacts_under_redact(database_url: str, tmp_path: Path) -> None:
    memory = _memory(database_url, tmp_path, "redact")
    await _write_everywhere(memory, "ana")
    export = _dump(await memory.aexport("ana"))
    history = _dump([await memory.ahistory("ana", h.id) for h in await memory.alist_items("ana")])
    for secret in SECRETS:
        assert secret not in export and secret not in history
    for placeholder in ("[card number removed]", "[API key removed]", "[password removed]"):
        assert placeholder in export
    assert "[IBAN removed]" in export
    texts = [hit.text for hit in await memory.alist_items("ana", include_history=True)]
    assert "My card is [card number removed]." in texts
    assert "my wifi password is [password removed]" in texts
    events = [event.text for event in await memory.aevents("ana")]
    assert "pay with [card number removed]" in events and "use [API key removed]" in events
    memory.close()


async def test_refuse_refuses_each_write_and_stores_nothing(
    database_url: str, tmp_path: Path
) -> None:
    memory = _memory(database_url, tmp_path, "refuse")
    item = await memory.aremember("ana", "Ana likes tea.")
    other = await memory.aremember("ana", "Ana likes green tea.")
    attempts = [
        memory.aremember("ana", f"My card is {CARD}."),
        memory.aremember("ana", "Ana likes coffee.", attributes={"api": KEY}),
        memory.aremember_many("ana", ["A harmless fact.", PASSWORD_LINE]),  # none of the two
        memory.aupdate("ana", item, text=PASSWORD_LINE),
        memory.aupdate("ana", item, attributes={"k": [KEY]}),
        memory.amerge("ana", [item, other], text=f"card {CARD}"),
        memory.arecord_event("ana", "user", f"pay with {CARD}"),
        memory.aobserve("ana", "hello", speaker="Bo", image_caption=PASSWORD_LINE),
        memory.aremember_image("ana", _png(), caption=f"card {CARD}"),
        memory.aimport("ana", _document("ana")),
    ]
    for attempt in attempts:
        with pytest.raises(SecretRefusedError, match="secrets are not stored") as refused:
            await attempt
        assert refused.value.kinds
        assert not any(secret in str(refused.value) for secret in SECRETS)
    assert sorted(h.text for h in await memory.alist_items("ana", include_history=True)) == [
        "Ana likes green tea.",
        "Ana likes tea.",
    ]
    assert await memory.aevents("ana") == []
    memory.close()


async def test_allow_stores_texts_as_they_are(tmp_path: Path) -> None:
    memory = _memory(f"sqlite:///{tmp_path / 'm.db'}", tmp_path, "allow")
    await memory.aremember("ana", f"My card is {CARD}.")
    assert [hit.text for hit in await memory.alist_items("ana")] == [f"My card is {CARD}."]
    memory.close()


def test_memory_open_takes_the_policy_from_the_settings(settings: Settings) -> None:
    memory = Memory.open(settings=settings.model_copy(update={"secret_policy": "refuse"}))
    assert memory.secret_policy == "refuse"
    memory.close()
    memory = Memory.open(settings=settings)
    assert memory.secret_policy == "redact"
    memory.close()


# ------------------------------------------------------------------------- the agent
async def test_a_chat_turn_redacts_the_message_before_the_graph_and_says_so(
    settings: Settings,
) -> None:
    async with Agent(user_id="ana", settings=settings) as agent:
        result = await agent.aturn(f"I paid with my card {CARD} and it went fine.")
        assert result.route == "chat" and result.withheld == ["card_number"]
        assert result.reply.endswith(" " + withheld_note(["card_number"]))
        state = await agent.astate()
        said = [message.content for message in state["messages"]]
        assert said[0] == "I paid with my card [card number removed] and it went fine."
        assert said[1] == result.reply  # the checkpointed reply says it too
        assert not any(CARD in text for text in [*said, result.model_dump_json()])
        assert [e.text for e in await agent.memory.aevents("ana")] == [said[0]]

        pieces: list[str] = []
        events: list[dict[str, Any]] = []
        async for kind, data in agent.astream(f"Nice weather. {PASSWORD_LINE}"):
            if kind == "token":
                pieces.append(data["text"])
            elif kind == "custom":
                events.append(data)
        assert "".join(pieces).endswith(" " + withheld_note(["password"]))
        (said_it,) = [event for event in events if event.get("event") == "withheld"]
        assert said_it["kinds"] == ["password"]


async def test_a_turn_without_secrets_is_untouched(settings: Settings) -> None:
    async with Agent(user_id="ana", settings=settings) as agent:
        result = await agent.aturn("My dog is called Biscuit and my number is +44 20 7946 0958.")
        assert result.withheld == [] and "did not keep" not in result.reply


async def test_refuse_in_chat_keeps_nothing_and_says_so(settings: Settings) -> None:
    strict = settings.model_copy(update={"secret_policy": "refuse"})
    async with Agent(user_id="ana", settings=strict) as agent:
        result = await agent.aturn(f"My key is {KEY}, remember it.")
        assert result.reply == refusal_reply(["api_key"]) and result.withheld == ["api_key"]
        assert await agent.memory.aevents("ana") == []
        assert (await agent.astate()).get("messages", []) == []
        streamed = [item async for item in agent.astream(PASSWORD_LINE)]
        assert streamed[:2] == [
            ("custom", {"event": "withheld", "kinds": ["password"], "refused": True}),
            ("updates", {"respond": {"reply": refusal_reply(["password"])}}),
        ]
        (kind, usage), *more = streamed[2:]  # the stream ends with the turn's usage: no call
        assert kind == "usage" and usage.calls == 0 and not more
        assert await agent.memory.aevents("ana") == []
        assert (await agent.aturn("My dog is called Biscuit.")).withheld == []


async def test_allow_in_chat_passes_the_message_through(settings: Settings) -> None:
    loose = settings.model_copy(update={"secret_policy": "allow"})
    async with Agent(user_id="ana", settings=loose) as agent:
        result = await agent.aturn(f"My card number is {CARD}.")
        assert result.withheld == [] and "did not keep" not in result.reply
        state = await agent.astate()
        assert state["messages"][0].content == f"My card number is {CARD}."


def test_a_paused_turn_says_so_and_edited_arguments_are_redacted(settings: Settings) -> None:
    with Agent(user_id="ana", settings=settings) as agent:
        paused = agent.turn(f"Remind me to water the plants on Sunday. {PASSWORD_LINE}")
        assert paused.approvals and paused.withheld == ["password"]
        assert paused.reply.endswith(" " + withheld_note(["password"]))
        done = agent.resume("edit", args={"text": f"pay {CARD}", "when": "Monday"})
        assert done.results[-1]["arguments"] == {
            "text": "pay [card number removed]",
            "when": "Monday",
        }
        reminders = [hit.text for hit in agent.memory.list_items("ana", kinds=["reminder"])]
        assert reminders == ["Reminder: pay [card number removed] (Monday)"]
