"""``confidante mcp`` driven by the official MCP SDK's client, over stdio and streamable HTTP.

Over HTTP every request needs an API key of the memory's database (the HTTP API's keys).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("mcp", reason="pip install -e '.[integrations]'")

import httpx2
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

from confidante.memory.store import Memory
from confidante.settings import Settings


def _settings(env: dict[str, str]) -> Settings:
    data = Path(env["CONFIDANTE_DATA_DIR"])
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        config_file=Path(env["CONFIDANTE_CONFIG_FILE"]),
        data_dir=data,
        cache_dir=Path(env["CONFIDANTE_CACHE_DIR"]),
        model="scripted",
        database_url=None,
    )


@pytest.fixture
def seeded(cli_env: dict[str, str]) -> Iterator[tuple[dict[str, str], str]]:
    """The CLI's memory with one secret of Bob's; yields the env and that item's id."""
    memory = Memory.open(settings=_settings(cli_env))
    bob_id = memory.remember("bob", "Bob's locker code is 4711.")
    memory.close()
    yield cli_env, bob_id


def _text(result: Any) -> str:
    return "".join(getattr(block, "text", "") for block in result.content)


async def _exercise(session: ClientSession, bob_id: str) -> None:
    await session.initialize()
    tools = {tool.name: tool for tool in (await session.list_tools()).tools}
    assert {"remember", "recall", "forget", "add_reminder", "list_reminders"} <= set(tools)
    for tool in tools.values():  # no tool lets the client name a user
        assert not {"user", "user_id", "config"} & set(tool.input_schema.get("properties", {}))

    remembered = await session.call_tool("remember", {"text": "Alice's favourite tea is sencha."})
    assert not remembered.is_error, _text(remembered)
    alice_id = _text(remembered).strip()
    recalled = await session.call_tool("recall", {"query": "which tea does she like?", "k": 3})
    assert not recalled.is_error
    structured = recalled.structured_content
    assert structured is not None
    hits = structured["result"]
    assert hits[0]["id"] == alice_id and hits[0]["text"] == "Alice's favourite tea is sencha."

    reminder = await session.call_tool("add_reminder", {"text": "buy sencha", "when": "Friday"})
    assert "saved reminder" in _text(reminder)
    listed = await session.call_tool("list_reminders", {})
    assert "buy sencha" in _text(listed)

    # isolation: Alice's server never shows or touches Bob's memory
    leak = await session.call_tool("recall", {"query": "locker code 4711", "k": 10})
    assert all("4711" not in hit["text"] for hit in leak.structured_content["result"])  # type: ignore[index]
    refused = await session.call_tool("forget", {"item_id": bob_id})
    assert refused.is_error and "no memory" in _text(refused)
    sneaky = await session.call_tool(
        "remember", {"text": "Bob owes Alice 5 euros.", "user_id": "bob"}
    )
    assert not sneaky.is_error or "user_id" in _text(sneaky)

    forgot = await session.call_tool("forget", {"item_id": alice_id})
    assert not forgot.is_error
    after = await session.call_tool("recall", {"query": "tea", "k": 5})
    assert all(hit["id"] != alice_id for hit in after.structured_content["result"])  # type: ignore[index]
    bad = await session.call_tool("remember", {"text": "   "})
    assert bad.is_error and "text" in _text(bad)


def _check_bob_untouched(env: dict[str, str], bob_id: str) -> None:
    memory = Memory.open(settings=_settings(env))
    try:
        assert [(h.id, h.text) for h in memory.list_items("bob", include_history=True)] == [
            (bob_id, "Bob's locker code is 4711.")
        ]
        assert any("sencha" in h.text for h in memory.list_items("alice"))  # the reminder
    finally:
        memory.close()


async def test_stdio_server(seeded: tuple[dict[str, str], str]) -> None:
    env, bob_id = seeded
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "confidante.cli", "mcp", "--user", "alice"],
        env=env,
    )
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await _exercise(session, bob_id)
    _check_bob_untouched(env, bob_id)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _make_key(env: dict[str, str], user: str) -> str:
    """Make an API key in the CLI's memory database, as `confidante keys create` does."""
    from confidante.server.keys import KeyStore

    memory = Memory.open(settings=_settings(env))
    try:
        keys = KeyStore(memory.database)
        keys.prepare()
        return keys.create(user)[1]
    finally:
        memory.close()


@asynccontextmanager
async def _http_server(env: dict[str, str], port: int, *options: str):  # type: ignore[no-untyped-def]
    command = [sys.executable, "-m", "confidante.cli", "mcp", "--transport", "http"]
    command += ["--port", str(port), *options]
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            if process.poll() is not None:
                raise AssertionError(f"server exited: {process.stderr.read()[-2000:]}")  # type: ignore[union-attr]
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _bearer(key: str) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(headers={"Authorization": f"Bearer {key}"}, timeout=60)


async def test_streamable_http_server(seeded: tuple[dict[str, str], str]) -> None:
    """Over HTTP the key decides the user: Alice's key reaches Alice's memory only."""
    env, bob_id = seeded
    alice_key = _make_key(env, "alice")
    async with (
        _http_server(env, _free_port()) as url,
        _bearer(alice_key) as http,
        streamable_http_client(url, http_client=http) as (read, write),
        ClientSession(read, write) as session,
    ):
        await _exercise(session, bob_id)
    _check_bob_untouched(env, bob_id)


async def test_streamable_http_server_for_one_user_needs_that_users_key(
    seeded: tuple[dict[str, str], str],
) -> None:
    env, _ = seeded
    alice_key, bob_key = _make_key(env, "alice"), _make_key(env, "bob")
    async with _http_server(env, _free_port(), "--user", "alice") as url:
        body = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
        headers = {"Accept": "application/json, text/event-stream"}
        async with httpx2.AsyncClient(timeout=60) as http:
            missing = await http.post(url, json=body, headers=headers)
            assert missing.status_code == 401
            assert missing.json()["error"]["code"] == "missing_api_key"
            bad = await http.post(
                url, json=body, headers={**headers, "Authorization": "Bearer cft_nope"}
            )
            assert bad.status_code == 401 and bad.json()["error"]["code"] == "invalid_api_key"
            other = await http.post(
                url, json=body, headers={**headers, "Authorization": f"Bearer {bob_key}"}
            )
            assert other.status_code == 403 and other.json()["error"]["code"] == "wrong_user"
        async with (
            _bearer(alice_key) as http,
            streamable_http_client(url, http_client=http) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            hits = await session.call_tool("recall", {"query": "locker code", "k": 10})
            assert not hits.is_error
            assert all("4711" not in hit["text"] for hit in hits.structured_content["result"])  # type: ignore[index]


def test_streamable_http_refuses_to_start_without_a_key(cli_env: dict[str, str]) -> None:
    for options in ([], ["--user", "alice"]):
        result = subprocess.run(
            [sys.executable, "-m", "confidante.cli", "mcp", "--transport", "http", *options],
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 1, result.stderr
        message = " ".join(result.stderr.split())
        assert "no API key for" in message
        assert "confidante keys create --user" in message
        assert "Authorization: Bearer" in message


def test_stdio_needs_a_user(cli_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "confidante.cli", "mcp"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2 and "pass --user" in result.stderr


async def test_a_key_users_server_refuses_calls_that_no_key_authenticated(
    cli_env: dict[str, str],
) -> None:
    from mcp.server.mcpserver.exceptions import ToolError

    from confidante.integrations.mcp_server import build_mcp_server, key_user

    memory = Memory.open(settings=_settings(cli_env))
    try:
        server = build_mcp_server(memory, key_user)
        with pytest.raises(ToolError, match="no API key"):
            await server.call_tool("recall", {"query": "anything"})
    finally:
        memory.close()


def test_cli_refuses_a_bad_user(cli_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "confidante.cli", "mcp", "--user", " "],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "user_id" in result.stderr


async def test_the_readme_lists_the_tools_the_command_serves(cli_env: dict[str, str]) -> None:
    import re

    from confidante.cli.mcp_cmd import extra_tools
    from confidante.integrations.mcp_server import build_mcp_server

    settings = _settings(cli_env)
    memory = Memory.open(settings=settings)
    try:
        server = build_mcp_server(memory, "alice", extra_tools=extra_tools(memory, settings))
        served = {tool.name for tool in await server.list_tools()}
    finally:
        memory.close()
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    bullet = readme.split("- **MCP server**", 1)[1].split("\n- ", 1)[0]
    sentence = bullet.split("Tools:", 1)[1].split(". The user", 1)[0]
    always, _, optional = sentence.partition("(and ")
    assert set(re.findall(r"`([a-z_]+)`", always)) == served
    assert " ".join(optional.split()).startswith("`generate_image` when `CONFIDANTE_IMAGE_MODEL`")
    assert "generate_image" not in served  # served only with an image model configured
