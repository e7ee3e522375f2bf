"""A real task on the embedded local model: plan, approval, tool call, reply (slow)."""

from __future__ import annotations

from pathlib import Path

import pytest

from confidante import Agent
from confidante.models.local import LocalChatModel
from confidante.settings import Settings


@pytest.mark.slow
def test_a_reminder_task_on_the_local_model(bundled_gguf: Path, settings: Settings) -> None:
    local = settings.model_copy(
        update={"model": "local", "model_path": bundled_gguf, "max_reply_tokens": 96}
    )
    model = LocalChatModel.from_settings(local)
    agent = Agent(user_id="ana", settings=local, model=model)
    paused = agent.turn("Remind me to buy flowers for my mother on Saturday.")
    assert paused.route == "task", paused
    assert [approval.tool for approval in paused.approvals] == ["add_reminder"], paused
    assert "flowers" in str(paused.approvals[0].args).lower()
    done = agent.resume("approve")
    assert done.approvals == [] and any(r["ok"] for r in done.results)
    (reminder,) = agent.memory.list_items("ana", kinds=["reminder"])
    assert "flowers" in reminder.text.lower()
    assert done.reply.strip()
    agent.close()
