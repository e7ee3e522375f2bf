"""One async stream: node progress, reply tokens and memory events, in the order they happen."""

from __future__ import annotations

from confidante import Agent
from confidante.settings import Settings


async def test_one_stream_carries_progress_tokens_and_memory_events(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings)
    await agent.achat("My dog is called Biscuit.")
    # advice streams; a question about Biscuit himself would be checked whole (grounding.py)
    seen = [item async for item in agent.astream("Any tips for walking Biscuit?")]
    labels = []
    for kind, data in seen:
        if kind == "updates":
            labels.append(f"node:{next(iter(data))}")
        elif kind == "custom":
            labels.append(f"event:{data['event']}")
        elif kind == "token":
            labels.append("token")
    assert labels.index("event:recalled") < labels.index("node:recall")
    assert labels.index("node:route") < labels.index("token") < labels.index("node:respond")
    # remember runs beside respond (graphs/parallel.py): after recall, not after the reply
    assert labels.index("node:recall") < labels.index("event:remembered")
    tokens = "".join(data["text"] for kind, data in seen if kind == "token")
    reply = next(
        data["respond"]["reply"] for kind, data in seen if kind == "updates" and "respond" in data
    )
    assert tokens == reply and "Biscuit" in reply
    recalled = next(data for kind, data in seen if kind == "custom" and data["event"] == "recalled")
    assert recalled["queries"][0] == "Any tips for walking Biscuit?"
    assert all(data["node"] == "respond" for kind, data in seen if kind == "token")
    await agent.aclose()


def test_recall_fans_out_to_the_previous_message_for_follow_ups(settings: Settings) -> None:
    agent = Agent(user_id="ana", settings=settings, session_id="s")
    agent.turn("My sister is called Marta.")
    agent.turn("My brother is called Rui.")
    result = agent.turn("Where does she live?")
    assert result.queries == [
        "Where does she live?",
        "My brother is called Rui. Where does she live?",
    ]
    first = agent.turn("Tell me a story about the sea and the old lighthouse keeper please.")
    assert first.queries == ["Tell me a story about the sea and the old lighthouse keeper please."]
    answer = agent.turn("What is my sister called?")
    assert answer.used and answer.used[0]["text"] == "Marta is the user's sister."
    assert {item["id"] for item in answer.used} <= {item["id"] for item in answer.recalled}
    agent.close()
