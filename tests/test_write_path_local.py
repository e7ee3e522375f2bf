"""The write path on the embedded local model, as a user meets it (slow).

Another person's city never becomes the user's, a statement made with a request is learned,
a change said in plain words replaces the old fact, and an allergy is heeded in a later
session. Each session runs on a fresh ``Agent``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from confidante import Agent
from confidante.models.local import LocalChatModel
from confidante.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture
def local(bundled_gguf: Path, settings: Settings) -> Settings:
    return settings.model_copy(
        update={"model": "local", "model_path": bundled_gguf, "max_reply_tokens": 96}
    )


def session(settings: Settings, model: LocalChatModel, name: str) -> Agent:
    return Agent(user_id="nora", settings=settings, model=model, session_id=name)


def test_subjects_updates_and_safety_across_sessions(local: Settings) -> None:
    model = LocalChatModel.from_settings(local)
    first = session(local, model, "one")
    first.turn("I live in Lisbon. My sister Ana is moving to Berlin in May.")
    first.turn("I'm allergic to peanuts.")
    first.turn("I work at the bakery on Rua Augusta.")
    first.close()

    memory = first.memory
    (ana,) = [s for s in memory.subjects("nora") if s.name == "Ana"]
    assert ana.relation == "sister"
    own = [i.text for i in memory.list_items("nora") if i.subject_id is None]
    assert any("Lisbon" in text for text in own)
    assert not any("Berlin" in text for text in own), own  # Ana's move is not the user's
    (home,) = memory.slot_values("nora", "home_city")
    assert "Lisbon" in home.text

    second = session(local, model, "two")
    paused = second.turn("We got a second cat, Pixel. Remind me to buy a bigger litter box.")
    assert paused.route == "task" and [a.tool for a in paused.approvals] == ["add_reminder"]
    second.resume("approve")
    assert any(s.name == "Pixel" for s in memory.subjects("nora")), memory.subjects("nora")
    second.turn("I left the bakery, I'm at the library now.")
    second.close()

    third = session(local, model, "three")
    work = third.turn("Where do I work?").reply
    # the library, never the bakery as current ("you left the bakery" is right)
    assert "library" in work.lower(), work
    assert not re.search(r"\b(?:work|are)\w* (?:at|for|in) (?:the |a )?bakery", work, re.I), work
    where = third.turn("Where do I live?").reply
    assert "Lisbon" in where and "Berlin" not in where, where
    cookies = third.turn("Can I eat peanut butter cookies?").reply
    assert "peanut" in cookies.lower() and "allerg" in cookies.lower(), cookies
    third.close()
