"""The HTTP server for real: uvicorn on loopback, the openai client, the scripted model."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from langchain_core.tools import StructuredTool
from server_support import ADMIN_KEY, LiveServer, live_server, server_settings

from confidante.agent import Agent


def _boom(text: str) -> str:
    """A tool that fails (to prove no stack trace reaches clients)."""
    raise RuntimeError("secret internal detail /etc/passwd")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from confidante.memory.store import Memory
    from confidante.tools.memory_tools import memory_tools

    root = tmp_path_factory.mktemp("server")
    settings = server_settings(root, max_request_bytes=200_000)
    memory = Memory.open(settings=settings)
    boom = StructuredTool.from_function(_boom, name="boom")
    try:
        with live_server(root, settings=settings, memory=memory, tools=[boom]) as live:
            yield live
    finally:
        memory.close()
    assert memory_tools  # the memory tools are always offered (see test_tools)


@pytest.fixture(scope="module")
def ana(server: LiveServer) -> str:
    return server.key_for("ana")


@pytest.fixture(scope="module")
def bob(server: LiveServer) -> str:
    return server.key_for("bob")


def _openai(server: LiveServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)


# ------------------------------------------------------------------ OpenAI compatibility
def test_openai_client_chat_normal_and_streaming(server: LiveServer, ana: str) -> None:
    client = _openai(server, ana)
    assert [model.id for model in client.models.list()] == ["confidante"]

    told = client.chat.completions.create(
        model="confidante",
        messages=[{"role": "user", "content": "My cat is called Pixel."}],
        extra_headers={"X-Session-Id": "openai-test"},
    )
    assert told.object == "chat.completion"
    assert told.choices[0].message.role == "assistant"
    assert told.choices[0].message.content == "Thanks, I will remember that."
    extra = told.model_extra or {}
    remembered = extra["confidante"]["remembered"]
    assert [item["text"] for item in remembered] == ["Pixel is the user's cat."]

    stream = client.chat.completions.create(
        model="confidante",
        messages=[{"role": "user", "content": "Who is Pixel?"}],
        stream=True,
        extra_headers={"X-Session-Id": "openai-test"},
    )
    chunks = list(stream)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text == "From what you told me: Pixel (the user's cat): Pixel is the user's cat."
    # a question about someone named is checked for made-up specifics first: one piece
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) == 1
    advice = client.chat.completions.create(
        model="confidante",
        messages=[{"role": "user", "content": "Any ideas for a rainy afternoon?"}],
        stream=True,
        extra_headers={"X-Session-Id": "openai-test"},
    )
    assert len([c for c in advice if c.choices and c.choices[0].delta.content]) > 3  # streamed
    # a question about the user's own life is checked whole before it is sent: one piece
    mine = client.chat.completions.create(
        model="confidante",
        messages=[{"role": "user", "content": "What is my cat called?"}],
        stream=True,
        extra_headers={"X-Session-Id": "openai-test"},
    )
    pieces = [c.choices[0].delta.content for c in mine if c.choices and c.choices[0].delta.content]
    assert len(pieces) == 1  # retold to the user: "the user's cat" is "your cat"
    assert pieces[0] == "From what you told me: Pixel (your cat): Pixel is your cat."
    assert chunks[-1].choices[0].finish_reason == "stop"
    recalled = [
        item["text"]
        for chunk in chunks
        for item in ((chunk.model_extra or {}).get("confidante") or {}).get("recalled", [])
    ]
    assert "Pixel is the user's cat." in recalled


def test_the_body_user_field_never_overrides_the_key(server: LiveServer, bob: str) -> None:
    client = _openai(server, bob)
    client.chat.completions.create(
        model="x",
        user="ana",
        messages=[{"role": "user", "content": "My hamster is called Crumb."}],
    )
    answer = client.chat.completions.create(
        model="x", user="ana", messages=[{"role": "user", "content": "What is my cat called?"}]
    )
    assert "Pixel" not in (answer.choices[0].message.content or "")
    with server.client(bob) as http:
        texts = [item["text"] for item in http.get("/v1/memories").json()["data"]]
    assert "Crumb is the user's hamster." in texts
    assert not any("Pixel" in text for text in texts)


def test_chat_request_errors(server: LiveServer, ana: str) -> None:
    client = _openai(server, ana)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="x", messages=[{"role": "assistant", "content": "hello"}]
        )
    assert caught.value.body["code"] == "last_message_not_user"  # type: ignore[index]
    with pytest.raises(openai.AuthenticationError):
        _openai(server, "cft_not-a-key").models.list()
    with httpx.Client(base_url=server.url) as http:
        missing = http.post("/v1/chat/completions", json={"model": "x", "messages": []})
        assert missing.status_code == 401
        assert missing.json()["error"]["code"] == "missing_api_key"
    with server.client(ana) as http:
        empty = http.post("/v1/chat/completions", json={"model": "x", "messages": []})
        assert empty.status_code == 422
        assert set(empty.json()["error"]) == {"type", "code", "message", "param"}
        parts = http.post(
            "/v1/chat/completions",
            json={
                "model": "x",
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "text", "text": "What is my cat called?"}],
                    }
                ],
            },
        )
        assert parts.status_code == 200
        assert "Pixel" in parts.json()["choices"][0]["message"]["content"]


# ------------------------------------------------------------------------ memories API
def test_memory_endpoints(server: LiveServer) -> None:
    key = server.key_for("carla")
    with server.client(key) as http:
        created = http.post("/v1/memories", json={"text": "Carla plays the cello."})
        assert created.status_code == 201
        item = created.json()
        assert set(item) >= {"id", "text"} and item["text"] == "Carla plays the cello."
        http.post("/v1/memories", json={"text": "Carla's sister lives in Porto.", "kind": "fact"})

        listed = http.get("/v1/memories").json()["data"]
        assert [entry["text"] for entry in listed] == [
            "Carla plays the cello.",
            "Carla's sister lives in Porto.",
        ]
        found = http.get("/v1/memories", params={"query": "cello instrument", "k": 1}).json()
        assert [entry["id"] for entry in found["data"]] == [item["id"]]

        assert http.get(f"/v1/memories/{item['id']}").json()["text"] == "Carla plays the cello."
        edited = http.patch(f"/v1/memories/{item['id']}", json={"text": "Carla plays the viola."})
        assert edited.json()["text"] == "Carla plays the viola."
        actions = [
            entry["action"] for entry in http.get(f"/v1/memories/{item['id']}/history").json()
        ]
        assert actions[-1] == "update"

        exported = http.get("/v1/memories/export").json()
        assert len(exported["items"]) == 2
        assert http.delete(f"/v1/memories/{item['id']}").json() == {
            "id": item["id"],
            "object": "memory",
            "deleted": True,
        }
        assert http.get(f"/v1/memories/{item['id']}").status_code == 404

    dana = server.key_for("dana")
    with server.client(dana) as http:
        imported = http.post("/v1/memories/import", json=exported)
        assert imported.status_code == 201 and imported.json()["imported"] == 2
        texts = sorted(entry["text"] for entry in http.get("/v1/memories").json()["data"])
        assert texts == ["Carla plays the viola.", "Carla's sister lives in Porto."]
        bad = http.post("/v1/memories/import", json={"format": "nonsense"})
        assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"


def test_isolation_across_keys_on_every_memory_endpoint(server: LiveServer) -> None:
    eve, mallory = server.key_for("eve"), server.key_for("mallory")
    with server.client(eve) as http:
        secret = http.post("/v1/memories", json={"text": "Eve's bank PIN hint is kestrel."}).json()
        exported = http.get("/v1/memories/export").json()
    sid = secret["id"]
    with server.client(mallory) as http:
        assert http.get("/v1/memories").json()["data"] == []
        assert http.get("/v1/memories", params={"query": "bank PIN kestrel"}).json()["data"] == []
        for response in (
            http.get(f"/v1/memories/{sid}"),
            http.get(f"/v1/memories/{sid}/history"),
            http.patch(f"/v1/memories/{sid}", json={"text": "hijacked"}),
            http.delete(f"/v1/memories/{sid}"),
        ):
            assert response.status_code == 404, response.text  # not 403: ids do not leak
            assert response.json()["error"]["code"] == "not_found"
        assert http.get("/v1/memories/export").json()["items"] == []
        assert (
            http.post("/v1/tools/search_memory", json={"arguments": {"query": "bank PIN"}}).json()[
                "output"
            ]
            == "nothing found"
        )
        answer = http.post(
            "/v1/chat/completions",
            json={"model": "x", "messages": [{"role": "user", "content": "What is my PIN hint?"}]},
        ).json()
        assert answer["confidante"]["recalled"] == []
        assert "kestrel" not in answer["choices"][0]["message"]["content"]
        erased = http.delete("/v1/users/me").json()
        assert erased["user"] == "mallory"
        # importing Eve's export into Mallory copies it, it does not move or reveal Eve's rows
        http.post("/v1/memories/import", json=exported)
    with server.client(eve) as http:
        mine = http.get(f"/v1/memories/{sid}").json()
        assert mine["text"] == "Eve's bank PIN hint is kestrel."
        assert [item["id"] for item in http.get("/v1/memories").json()["data"]] == [sid]


def test_a_sessions_messages_are_read_back_by_their_user_only(server: LiveServer) -> None:
    greta, hans = server.key_for("greta"), server.key_for("hans")
    web = {"X-Session-Id": "web"}
    with server.client(greta) as http:
        for text in ("My sister is called Nora.", "What is my sister called?"):
            chat = {"model": "x", "messages": [{"role": "user", "content": text}]}
            http.post("/v1/chat/completions", json=chat, headers=web).raise_for_status()
        listed = http.get("/v1/chat/messages", headers=web).json()
        assert listed["object"] == "list" and listed["session_id"] == "web"
        roles = [message["role"] for message in listed["data"]]
        assert roles == ["user", "assistant", "user", "assistant"]
        assert listed["data"][0]["content"] == "My sister is called Nora."
        assert "Nora" in listed["data"][3]["content"]
        assert http.get("/v1/chat/messages").json()["data"] == []  # session "default"
        assert http.get("/v1/chat/messages", headers={"X-Session-Id": "a\tb"}).status_code == 400
    with server.client(hans) as http:  # the same session name is another user's own thread
        theirs = http.get("/v1/chat/messages", headers=web)
        assert theirs.status_code == 200 and theirs.json()["data"] == []
    anonymous = httpx.get(f"{server.url}/v1/chat/messages", headers=web)
    assert anonymous.status_code == 401
    with server.client(greta) as http:
        http.delete("/v1/users/me").raise_for_status()
        assert http.get("/v1/chat/messages", headers=web).json()["data"] == []


def test_delete_me_erases_memory_and_conversation(server: LiveServer) -> None:
    key = server.key_for("frank")
    with server.client(key) as http:
        chat = {"model": "x", "messages": [{"role": "user", "content": "I live in Lisbon."}]}
        assert http.post("/v1/chat/completions", json=chat).status_code == 200
        assert http.get("/v1/memories").json()["data"]
        erased = http.delete("/v1/users/me").json()
        assert erased["deleted"]["concepts"] >= 1 and erased["deleted"]["checkpoint_threads"] == 1
        assert http.get("/v1/memories").json()["data"] == []
        assert http.get("/v1/models").status_code == 200  # the key itself stays valid


# ------------------------------------------------------------------------------ keys
def test_keys_are_stored_hashed_and_revocable(server: LiveServer, tmp_path: Path) -> None:
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    with httpx.Client(base_url=server.url, headers=admin) as http:
        made = http.post("/v1/admin/keys", json={"user": "gina", "name": "laptop"}).json()
        key = made["key"]
        assert key.startswith("cft_") and len(key) > 40
        listed = http.get("/v1/admin/keys", params={"user": "gina"}).json()["data"]
        assert [entry["id"] for entry in listed] == [made["id"]]
        assert "key" not in listed[0]
    database = server.settings.resolved_database_url.removeprefix("sqlite:///")
    rows = sqlite3.connect(database).execute("SELECT key_hash, prefix FROM server_api_keys")
    stored = " ".join(" ".join(row) for row in rows)
    assert key not in stored and key[12:] not in stored

    with server.client(key) as http:
        assert http.get("/v1/memories").status_code == 200
    with httpx.Client(base_url=server.url, headers=admin) as http:
        assert http.delete(f"/v1/admin/keys/{made['id']}").json()["revoked_at"]
        assert http.delete("/v1/admin/keys/nope").status_code == 404
    with server.client(key) as http:
        refused = http.get("/v1/memories")
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"


def test_admin_api_needs_the_admin_key(server: LiveServer, ana: str) -> None:
    with server.client(ana) as http:
        assert http.post("/v1/admin/keys", json={"user": "ana"}).status_code == 401
        assert http.get("/v1/admin/keys").status_code == 401
    with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ADMIN_KEY}"}) as h:
        as_user = h.get("/v1/memories")
        assert as_user.status_code == 403 and as_user.json()["error"]["code"] == "admin_key"
        erased = h.delete("/v1/admin/users/gina").json()
        assert erased["deleted"]["server_api_keys"] == 1


# ------------------------------------------------------------- tools, approvals, errors
def test_tools_run_for_the_keys_user(server: LiveServer, ana: str, bob: str) -> None:
    with server.client(ana) as http:
        cards = {tool["name"]: tool for tool in http.get("/v1/tools").json()["data"]}
        assert {"search_memory", "add_reminder", "list_reminders", "boom"} <= set(cards)
        assert cards["add_reminder"]["side_effect"] and not cards["search_memory"]["side_effect"]
        saved = http.post(
            "/v1/tools/add_reminder", json={"arguments": {"text": "water the plants"}}
        )
        assert saved.status_code == 200 and "water the plants" in saved.json()["output"]
        listed = http.post("/v1/tools/list_reminders", json={}).json()
        assert "water the plants" in listed["output"]
        bad = http.post("/v1/tools/add_reminder", json={"arguments": {}})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_arguments"
        assert http.post("/v1/tools/nope", json={}).status_code == 404
    with server.client(bob) as http:
        assert http.post("/v1/tools/list_reminders", json={}).json()["output"] == "no reminders"


def test_errors_never_show_internals(server: LiveServer, ana: str) -> None:
    with server.client(ana) as http:
        failed = http.post("/v1/tools/boom", json={"arguments": {"text": "x"}})
        assert failed.status_code == 500
        assert failed.json() == {
            "error": {
                "type": "internal_error",
                "code": "internal_error",
                "message": "internal server error",
                "param": None,
            }
        }
        assert "passwd" not in failed.text and "Traceback" not in failed.text
        too_big = http.post("/v1/memories", json={"text": "x" * 300_000})
        assert too_big.status_code == 413 and too_big.json()["error"]["code"] == "request_too_large"
        chunked = http.post(
            "/v1/memories",
            content=iter([b'{"text": "', b"y" * 250_000, b'"}']),
            headers={"Content-Type": "application/json"},
        )
        assert chunked.status_code == 413
        broken = http.post(
            "/v1/memories", content=b"{not json", headers={"Content-Type": "application/json"}
        )
        assert broken.status_code == 422 and "error" in broken.json()
        assert http.get("/v1/nowhere").json()["error"]["code"] == "not_found"
        assert http.put("/v1/memories").status_code == 405


def test_approvals_follow_the_agents_contract(server: LiveServer, ana: str) -> None:
    with server.client(ana) as http:
        listed = http.get("/v1/approvals")
        answered = http.post("/v1/approvals/abc", json={"decision": "approve"})
    if not hasattr(Agent, "apending"):
        for response in (listed, answered):
            assert response.status_code == 501
            assert response.json()["error"]["code"] == "approvals_unavailable"
    else:
        assert listed.status_code == 200 and listed.json()["data"] == []
        assert answered.status_code == 404


def test_openapi_document(server: LiveServer) -> None:
    spec: dict[str, Any] = httpx.get(f"{server.url}/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path, method in [
        ("/v1/chat/completions", "post"),
        ("/v1/models", "get"),
        ("/v1/chat/messages", "get"),
        ("/v1/memories", "get"),
        ("/v1/memories", "post"),
        ("/v1/memories/{item_id}", "patch"),
        ("/v1/memories/{item_id}", "delete"),
        ("/v1/memories/export", "get"),
        ("/v1/memories/import", "post"),
        ("/v1/users/me", "delete"),
        ("/v1/tools/{name}", "post"),
        ("/v1/approvals", "get"),
        ("/v1/approvals/{approval_id}", "post"),
        ("/v1/admin/keys", "post"),
    ]:
        operation = paths[path][method]
        assert operation["security"] == [{"HTTPBearer": []}], path
        assert "401" in operation["responses"], path
    assert spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    error = spec["components"]["schemas"]["ErrorDetail"]
    assert set(error["required"]) == {"type", "code", "message"}
    json.dumps(spec)  # serialisable as served
    from openapi_spec_validator import validate

    validate(spec)


def test_web_page_is_self_contained(server: LiveServer) -> None:
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert "http://" not in page.text and "https://" not in page.text
    script = httpx.get(f"{server.url}/static/app.js")
    assert script.status_code == 200 and "https://" not in script.text
    for icon in ("/static/favicon.svg", "/favicon.ico"):  # no 404 on every load
        answer = httpx.get(f"{server.url}{icon}")
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/svg+xml"
    assert 'rel="icon" href="/static/favicon.svg"' in page.text


async def test_agent_pool_closes_the_least_recently_used_idle_agent(tmp_path: Path) -> None:
    from confidante.memory.store import Memory
    from confidante.models.scripted import ScriptedChatModel
    from confidante.server.agents import AgentPool

    settings = server_settings(tmp_path)
    memory = Memory.open(settings=settings)
    pool = AgentPool(settings, memory, ScriptedChatModel(), max_agents=1)
    try:
        async with pool.turn("u1", "s") as first:
            await first.aturn("I live in Oslo.")
        async with pool.using("u2") as second:
            assert first._graphs.open
            async with pool.using("u3"):
                pass
            assert list(pool._agents) == ["u2"]  # the busy agent stays, idle ones go
        assert not first._graphs.open  # closed once past the limit
        async with pool.using("u1") as again:
            assert again is not first and again is not second
    finally:
        await pool.aclose()
        memory.close()


def test_session_and_length_limits(server: LiveServer, ana: str) -> None:
    with server.client(ana) as http:
        long = {"model": "x", "messages": [{"role": "user", "content": "a" * 4001}]}
        refused = http.post("/v1/chat/completions", json=long)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "message_too_long"
        bad_session = http.post(
            "/v1/chat/completions",
            json={"model": "x", "messages": [{"role": "user", "content": "hi"}]},
            headers={"X-Session-Id": "a\tb"},
        )
        assert bad_session.status_code == 400
        assert http.post("/v1/memories", json={"text": "b" * 4001}).status_code == 422


def test_memories_expire_over_http(server: LiveServer) -> None:
    from sqlmodel import col, update

    from confidante.memory.storage.database import Database
    from confidante.memory.storage.records import Concept

    with server.client(server.key_for("erin")) as http:
        lasting = http.post("/v1/memories", json={"text": "Erin keeps bees."}).json()
        brief = http.post(
            "/v1/memories", json={"text": "Erin is in Ghent until Friday.", "ttl_seconds": 3600}
        ).json()
        assert brief["expires_at"] is not None and lasting["expires_at"] is None
        naive = http.post(
            "/v1/memories",
            json={"text": "Erin's parcel is held at the depot.", "expires_at": "2999-01-01T00:00"},
        ).json()
        assert naive["expires_at"].startswith("2999-01-01T00:00:00")  # no offset: UTC
        for bad in (
            {"text": "x", "ttl_seconds": -1},
            {"text": "x", "ttl_seconds": 0},
            {"text": "x", "expires_at": "2001-01-01T00:00:00Z"},
            {"text": "x", "ttl_seconds": 5, "expires_at": "2999-01-01T00:00:00Z"},
        ):
            refused = http.post("/v1/memories", json=bad)
            assert refused.status_code in (400, 422), bad
        past = datetime.now(UTC) - timedelta(minutes=1)
        database = Database.open(server.settings.resolved_database_url)
        try:
            database.run_sync(
                lambda session: session.exec(
                    update(Concept)  # type: ignore[call-overload]
                    .where(col(Concept.id).in_([brief["id"], naive["id"]]))
                    .values(expires_at=past)
                )
            )
        finally:
            database.dispose()
        listed = [entry["id"] for entry in http.get("/v1/memories").json()["data"]]
        assert listed == [lasting["id"]]
        # the web page's list is this same GET /v1/memories; history too
        script = (Path(__file__).parents[1] / "agent" / "server" / "static" / "app.js").read_text()
        assert 'api("GET", "/v1/memories")' in script
        page = http.get("/v1/memories", params={"history": True}).json()["data"]
        assert [entry["id"] for entry in page] == [lasting["id"]]
        assert http.get("/v1/memories", params={"kind": "fact"}).json()["data"] == page
        found = http.get("/v1/memories", params={"query": "Erin Ghent Friday", "k": 5}).json()
        assert brief["id"] not in [entry["id"] for entry in found["data"]]
        assert http.get(f"/v1/memories/{brief['id']}").status_code == 404
        exported = http.get("/v1/memories/export").json()
        assert [item["id"] for item in exported["items"]] == [lasting["id"]]


def test_an_edit_sets_or_removes_an_expiry_over_http(server: LiveServer) -> None:
    with server.client(server.key_for("fay")) as http:
        item = http.post("/v1/memories", json={"text": "Fay is in Lyon this week."}).json()
        path = f"/v1/memories/{item['id']}"
        assert item["expires_at"] is None
        before = datetime.now(UTC)
        brief = http.patch(path, json={"ttl_seconds": 3600})
        assert brief.status_code == 200, brief.text
        moment = datetime.fromisoformat(brief.json()["expires_at"])
        assert before + timedelta(seconds=3590) < moment < datetime.now(UTC) + timedelta(hours=1)
        assert http.get(path).json()["expires_at"] == brief.json()["expires_at"]
        kept = http.patch(path, json={"importance": 0.9}).json()
        assert kept["expires_at"] == brief.json()["expires_at"]  # absent: unchanged
        naive = http.patch(path, json={"expires_at": "2999-01-01T00:00"}).json()
        assert naive["expires_at"].startswith("2999-01-01T00:00:00")  # no offset: UTC
        aware = http.patch(path, json={"expires_at": "2999-01-01T02:00:00+02:00"}).json()
        assert datetime.fromisoformat(aware["expires_at"]) == datetime(2999, 1, 1, tzinfo=UTC)
        for bad, status, said in (
            ({"ttl_seconds": -1}, 422, "ttl_seconds"),
            ({"ttl_seconds": 0}, 422, "ttl_seconds"),
            ({"expires_at": "2001-01-01T00:00:00Z"}, 400, "not in the future"),
            ({"expires_at": "next week"}, 422, "expires_at"),
            ({"ttl_seconds": 5, "expires_at": "2999-01-01T00:00:00Z"}, 400, "not both"),
            ({"ttl_seconds": 5, "expires_at": "never"}, 400, "not both"),
        ):
            refused = http.patch(path, json=bad)
            assert refused.status_code == status, (bad, refused.text)
            assert said in json.dumps(refused.json()), (bad, refused.text)
        assert (
            http.get(path).json()["expires_at"] == aware["expires_at"]
        )  # refusals changed nothing
        removed = http.patch(path, json={"expires_at": "never"}).json()
        assert removed["expires_at"] is None and http.get(path).json()["expires_at"] is None
        gone = http.patch(path, json={"ttl_seconds": 1}).json()
        assert gone["expires_at"] is not None
        time.sleep(1.2)
        assert http.get(path).status_code == 404  # expired: never returned
        assert http.patch(path, json={"expires_at": "never"}).status_code == 404
