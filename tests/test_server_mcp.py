"""``/mcp`` of the HTTP server: MCP's streamable HTTP transport behind the API's keys.

A real uvicorn server on loopback (scripted model, temporary data directory), driven by the
official MCP SDK's client (``streamable_http_client`` + ``ClientSession``). The key decides
whose memory a call reads and writes; no tool argument can change it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

pytest.importorskip("mcp", reason="pip install -e '.[integrations]'")

import httpx2
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from server_support import ADMIN_KEY, LiveServer, live_server, server_settings

#: A JSON-RPC ``initialize`` request, for the raw HTTP checks.
INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "test", "version": "0"},
    },
}
MCP_HEADERS = {"Accept": "application/json, text/event-stream"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp("mcp-server")
    with live_server(root) as live:
        yield live


@asynccontextmanager
async def mcp_session(
    url: str, key: str | None, statuses: list[int] | None = None
) -> AsyncIterator[ClientSession]:
    """An initialized MCP session of the SDK's own client, sending ``key`` as its bearer.

    ``statuses`` collects the HTTP status of every answer the client gets.
    """
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}

    async def record(response: httpx2.Response) -> None:
        if statuses is not None:
            statuses.append(response.status_code)

    async with (
        httpx2.AsyncClient(headers=headers, timeout=60, event_hooks={"response": [record]}) as http,
        streamable_http_client(f"{url}/mcp", http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        yield session


def _text(result: Any) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


def _hits(result: Any) -> list[dict[str, Any]]:
    assert not result.is_error, _text(result)
    return list(result.structured_content["result"])


def _post(url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        f"{url}/mcp", json=INITIALIZE, headers={**MCP_HEADERS, **(headers or {})}, timeout=60
    )


async def test_each_key_sees_and_edits_only_its_own_users_memory(server: LiveServer) -> None:
    ana_key, bob_key = server.key_for("ana"), server.key_for("bob")
    async with mcp_session(server.url, ana_key) as ana:
        tools = (await ana.list_tools()).tools
        assert {"remember", "recall", "forget", "add_reminder", "list_reminders"} <= {
            tool.name for tool in tools
        }
        for tool in tools:  # no tool lets the client name a user
            assert not {"user", "user_id", "config"} & set(tool.input_schema["properties"])
        remembered = await ana.call_tool("remember", {"text": "Ana's locker code is 4711."})
        assert not remembered.is_error, _text(remembered)
        ana_id = _text(remembered).strip()
        reminder = await ana.call_tool("add_reminder", {"text": "renew the locker"})
        assert "saved reminder" in _text(reminder)
        # an argument naming a user is ignored: the fact is Ana's, never Bob's
        sneaky = await ana.call_tool(
            "remember", {"text": "Bob owes Ana 5 euros.", "user_id": "bob"}
        )
        assert not sneaky.is_error, _text(sneaky)

    async with mcp_session(server.url, bob_key) as bob:
        assert all(
            "4711" not in hit["text"]
            for hit in _hits(await bob.call_tool("recall", {"query": "locker code 4711", "k": 10}))
        )
        assert "renew the locker" not in _text(await bob.call_tool("list_reminders", {}))
        refused = await bob.call_tool("forget", {"item_id": ana_id})
        assert refused.is_error and "no memory" in _text(refused)
        mine = await bob.call_tool("remember", {"text": "Bob plays the cello."})
        assert not mine.is_error

    async with mcp_session(server.url, ana_key) as ana:  # a new session, the same user
        hits = _hits(await ana.call_tool("recall", {"query": "locker code", "k": 10}))
        assert ana_id in {hit["id"] for hit in hits}
        assert all("cello" not in hit["text"] for hit in hits)

    # One memory behind both protocols: the API shows each key its own user's items only.
    with server.client(ana_key) as api:
        texts = {item["text"] for item in api.get("/v1/memories").json()["data"]}
        assert {"Ana's locker code is 4711.", "Bob owes Ana 5 euros."} <= texts
        assert "Bob plays the cello." not in texts
    with server.client(bob_key) as api:
        texts = {item["text"] for item in api.get("/v1/memories").json()["data"]}
        assert "Bob plays the cello." in texts
        assert not texts & {"Ana's locker code is 4711.", "Bob owes Ana 5 euros."}
        assert not any("renew the locker" in text for text in texts)


def test_no_key_or_a_bad_key_gets_401_and_the_admin_key_403(server: LiveServer) -> None:
    missing = _post(server.url)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    assert missing.json()["error"]["code"] == "missing_api_key"

    for bad in ("cft_" + "x" * 43, "not-a-key"):
        refused = _post(server.url, {"Authorization": f"Bearer {bad}"})
        assert refused.status_code == 401, refused.text
        assert refused.json()["error"]["code"] == "invalid_api_key"

    admin = _post(server.url, {"Authorization": f"Bearer {ADMIN_KEY}"})
    assert admin.status_code == 403 and admin.json()["error"]["code"] == "admin_key"

    revoked_key = server.key_for("carol")
    assert _post(server.url, {"Authorization": f"Bearer {revoked_key}"}).status_code == 200
    listed = httpx.get(
        f"{server.url}/v1/admin/keys",
        params={"user": "carol"},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    ).json()["data"]
    httpx.delete(
        f"{server.url}/v1/admin/keys/{listed[0]['id']}",
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    ).raise_for_status()
    assert _post(server.url, {"Authorization": f"Bearer {revoked_key}"}).status_code == 401


@pytest.mark.parametrize("key", [None, "cft_" + "y" * 43])
async def test_the_sdk_client_cannot_open_a_session_without_a_valid_key(
    server: LiveServer, key: str | None
) -> None:
    statuses: list[int] = []
    with pytest.raises(ExceptionGroup) as caught:
        async with mcp_session(server.url, key, statuses):
            pass
    assert caught.group_contains(MCPError)
    assert statuses == [401]  # the initialize request, refused before the SDK saw it


def test_a_key_left_from_before_for_a_reserved_owner_gets_403(server: LiveServer) -> None:
    secret = server.plant_old_key("@global")
    planted = _post(server.url, {"Authorization": f"Bearer {secret}"})
    assert planted.status_code == 403
    assert planted.json()["error"]["code"] == "reserved_user"


def test_mcp_requests_count_against_the_keys_api_limits(tmp_path: Path) -> None:
    settings = server_settings(tmp_path, rate_limit_per_minute=3)
    with live_server(tmp_path, settings=settings) as server:
        ana_key, bob_key = server.key_for("ana"), server.key_for("bob")
        ana = {"Authorization": f"Bearer {ana_key}"}
        assert [_post(server.url, ana).status_code for _ in range(3)] == [200] * 3
        refused = _post(server.url, ana)
        assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
        assert int(refused.headers["Retry-After"]) >= 1
        with server.client(ana_key) as api:  # one count per key, whatever the protocol
            assert api.get("/v1/memories").status_code == 429
        assert _post(server.url, {"Authorization": f"Bearer {bob_key}"}).status_code == 200


def test_without_the_sdk_the_endpoint_answers_501_saying_what_to_install() -> None:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from confidante.server.mcp_http import mcp_route, serving

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with serving(app, None):  # what create_app does when `mcp` is not installed
            yield

    with TestClient(Starlette(routes=[mcp_route()], lifespan=lifespan)) as client:
        answer = client.post("/mcp", json=INITIALIZE, headers=MCP_HEADERS)
    assert answer.status_code == 501
    error = answer.json()["error"]
    assert error["code"] == "mcp_unavailable" and "confidante[integrations]" in error["message"]
