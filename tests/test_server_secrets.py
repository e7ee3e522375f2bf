"""The HTTP API under each secret policy: 422 with the reason under ``refuse``, redacted text
under ``redact`` (the default), and a chat that says what it did not keep."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from server_support import LiveServer, live_server, server_settings

from confidante.memory.secrets import refusal_reply, withheld_note

CARD = "4111 1111 1111 1111"
KEY = "sk-live-Qm7Yc2Lp9Xr4Vb8Nw3Tz6Hd1"


@pytest.fixture(scope="module", params=["refuse", "redact"])
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    root = tmp_path_factory.mktemp(f"secrets-{request.param}")
    with live_server(root, settings=server_settings(root, secret_policy=request.param)) as live:
        yield live


def _chat(server: LiveServer, key: str, text: str) -> str:
    with server.client(key) as http:
        answer = http.post(
            "/v1/chat/completions",
            json={"model": "confidante", "messages": [{"role": "user", "content": text}]},
        )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["choices"][0]["message"]["content"])


def test_remembering_a_secret(server: LiveServer) -> None:
    key = server.key_for("ana")
    with server.client(key) as http:
        answer = http.post(
            "/v1/memories", json={"text": f"My card is {CARD}.", "attributes": {"k": KEY}}
        )
        if server.settings.secret_policy == "refuse":
            assert answer.status_code == 422
            error = answer.json()["error"]
            assert error["code"] == "secret_refused"
            assert error["type"] == "invalid_request_error"
            assert "card number" in error["message"] and "secret_policy=refuse" in error["message"]
            assert CARD not in answer.text and KEY not in answer.text
            assert http.get("/v1/memories").json()["data"] == []
            return
        assert answer.status_code == 201
        item = answer.json()
        assert item["text"] == "My card is [card number removed]."
        assert item["attributes"] == {"k": "[API key removed]"}


def test_editing_and_importing_a_secret(server: LiveServer) -> None:
    key = server.key_for("bob")
    with server.client(key) as http:
        item = http.post("/v1/memories", json={"text": "Bob likes tea."}).json()
        edited = http.patch(f"/v1/memories/{item['id']}", json={"text": f"Bob's key is {KEY}."})
        export = http.get("/v1/memories/export").json()
        export["items"][0]["text"] = f"Bob pays with {CARD}."
        imported = http.post("/v1/memories/import", json=export)
        texts = sorted(hit["text"] for hit in http.get("/v1/memories?history=true").json()["data"])
    if server.settings.secret_policy == "refuse":
        assert (edited.status_code, imported.status_code) == (422, 422)
        assert texts == ["Bob likes tea."]
        return
    assert edited.json()["text"] == "Bob's key is [API key removed]."
    assert imported.status_code == 201
    assert "Bob pays with [card number removed]." in texts
    assert not any(CARD in text or KEY in text for text in texts)


def test_chatting_a_secret(server: LiveServer) -> None:
    key = server.key_for("cy")
    reply = _chat(server, key, f"I paid with my card {CARD} and it went fine.")
    with server.client(key) as http:
        stored = str(http.get("/v1/memories/export").json())
    assert CARD not in stored
    if server.settings.secret_policy == "refuse":
        assert reply == refusal_reply(["card_number"])
        return
    assert reply.endswith(" " + withheld_note(["card_number"]))
    assert "[card number removed]" in stored


def test_no_secret_is_no_change(server: LiveServer) -> None:
    key = server.key_for("dee")
    reply = _chat(server, key, "My cat is called Pixel.")
    assert "did not keep" not in reply
    with server.client(key) as http:
        assert http.post("/v1/memories", json={"text": "Call +44 20 7946 0958."}).status_code == 201
