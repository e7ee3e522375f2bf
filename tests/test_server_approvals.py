"""The approval endpoints over the agent's ``apending``/``aresume`` contract.

The agent class here keeps paused tool calls in a dict, in place of graph interrupts, so that
the server's side is tested whatever the agent build: listing per user and session, 404 for
another user's approval, ``edit`` needing ``args``, and the resumed turn's answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from server_support import live_server

from confidante.agent import Agent, TurnResult

REQUEST = "Remind me to water the plants on Sunday."


@dataclass
class Approval:
    id: str
    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    session_id: str | None = None


class PausingAgent(Agent):
    paused: ClassVar[dict[str, list[Approval]]] = {}
    resumed: ClassVar[list[tuple[str, str, dict[str, Any] | None, str | None]]] = []

    async def apending(self, session_id: str | None = None) -> list[Approval]:
        mine = self.paused.get(self.user_id, [])
        return [a for a in mine if session_id is None or a.session_id == session_id]

    async def apending_everywhere(self) -> list[Approval]:
        return await self.apending(None)

    async def aresume(
        self, decision: str, *, args: dict[str, Any] | None = None, session_id: str | None = None
    ) -> TurnResult:
        mine = self.paused.get(self.user_id, [])
        approval = next(a for a in mine if a.session_id == session_id)
        mine.remove(approval)
        self.resumed.append((self.user_id, decision, args, session_id))
        return TurnResult(reply=f"{decision}: {approval.tool}", route="task")


def test_approvals_are_listed_and_answered_per_user(tmp_path: Path) -> None:
    PausingAgent.paused = {
        "ana": [
            Approval("ap-1", "add_reminder", {"text": "call mum"}, "s1"),
            Approval("ap-2", "add_reminder", {"text": "pay rent"}, "s2"),
        ]
    }
    with live_server(tmp_path, agent_class=PausingAgent) as server:
        ana, bob = server.key_for("ana"), server.key_for("bob")
        with server.client(bob) as http:
            assert http.get("/v1/approvals").json()["data"] == []
            stolen = http.post("/v1/approvals/ap-1", json={"decision": "approve"})
            assert stolen.status_code == 404
        with server.client(ana) as http:
            listed = http.get("/v1/approvals").json()["data"]
            assert [item["id"] for item in listed] == ["ap-1", "ap-2"]
            assert listed[0] == {
                "id": "ap-1",
                "tool": "add_reminder",
                "args": {"text": "call mum"},
                "session_id": "s1",
            }
            only_s2 = http.get("/v1/approvals", params={"session_id": "s2"}).json()["data"]
            assert [item["id"] for item in only_s2] == ["ap-2"]
            no_args = http.post("/v1/approvals/ap-1", json={"decision": "edit"})
            assert no_args.status_code == 400 and no_args.json()["error"]["code"] == "missing_args"
            wrong = http.post("/v1/approvals/ap-1", json={"decision": "maybe"})
            assert wrong.status_code == 422
            edited = http.post(
                "/v1/approvals/ap-1", json={"decision": "edit", "args": {"text": "call dad"}}
            )
            assert edited.status_code == 200
            assert edited.json()["reply"] == "edit: add_reminder"
            assert edited.json()["session_id"] == "s1" and edited.json()["pending"] == []
            assert [item["id"] for item in http.get("/v1/approvals").json()["data"]] == ["ap-2"]
    assert PausingAgent.resumed == [("ana", "edit", {"text": "call dad"}, "s1")]


def test_a_real_agent_pause_in_another_session_is_found_and_answered(tmp_path: Path) -> None:
    """The web page chats in session ``web``: its pauses are listed and answered by id alone."""
    with live_server(tmp_path) as server:
        ana, bob = server.key_for("ana"), server.key_for("bob")
        with server.client(ana) as http:
            turn = http.post(
                "/v1/chat/completions",
                json={"model": "x", "messages": [{"role": "user", "content": REQUEST}]},
                headers={"X-Session-Id": "web"},
            )
            assert turn.status_code == 200
            assert turn.json()["confidante"]["usage"]["by_kind"]["planning"]["calls"] == 1
            listed = http.get("/v1/approvals").json()["data"]
            assert [(item["tool"], item["session_id"]) for item in listed] == [
                ("add_reminder", "web")
            ]
        with server.client(bob) as http:
            assert http.get("/v1/approvals").json()["data"] == []
            stolen = http.post(f"/v1/approvals/{listed[0]['id']}", json={"decision": "approve"})
            assert stolen.status_code == 404
        with server.client(ana) as http:
            answered = http.post(f"/v1/approvals/{listed[0]['id']}", json={"decision": "approve"})
            assert answered.status_code == 200 and answered.json()["session_id"] == "web"
            assert answered.json()["usage"]["by_kind"]["reply"]["calls"] == 1  # after the pause
            assert http.get("/v1/approvals").json()["data"] == []
            reminders = http.post("/v1/tools/list_reminders", json={}).json()["output"]
            assert "water the plants" in reminders
