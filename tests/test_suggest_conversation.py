"""Query suggestion inside a conversation: what was just discussed, through the agent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from confidante import Agent
from confidante.memory.ingest.events import LoggedEvent
from confidante.memory.store import Memory
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings
from confidante.tools.suggest import (
    Activity,
    GlobalLayer,
    Ranker,
    SuggestionStore,
    UserProfile,
    suggest_tools,
)
from confidante.tools.suggest.store import current_conversation
from confidante.tools.suggest.text import topic_phrases

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
HISTORY = [
    ("python list comprehension", "pandas groupby", "pandas merge"),
    ("weather lisbon", "lisbon restaurants"),
    ("surf lessons lisbon", "ericeira surf camp"),
]


def history(start: datetime) -> list[Activity]:
    """Three sessions a day apart, two minutes between queries."""
    return [
        Activity(query, start + timedelta(days=day, minutes=2 * step))
        for day, queries in enumerate(HISTORY)
        for step, query in enumerate(queries)
    ]


def test_the_conversation_going_on_ends_at_a_pause() -> None:
    said = [
        LoggedEvent("ana", "what should I search about it?", NOW - timedelta(minutes=1)),
        LoggedEvent("ana", "I want to learn to surf", NOW - timedelta(minutes=20)),
        LoggedEvent("ana", "my cat is sick", NOW - timedelta(hours=3)),  # another conversation
    ]
    assert current_conversation(said, NOW) == [said[0].text, said[1].text]
    assert current_conversation(said, NOW + timedelta(hours=1)) == []  # it is over
    assert topic_phrases("what should I search about it?") == []  # the request names nothing


def test_topics_bring_the_users_own_searches_about_them_first() -> None:
    profile = UserProfile.build(history(NOW - timedelta(days=5)))
    ranker = Ranker(GlobalLayer())
    said = ["what should I search for about it?", "I'm thinking of learning to surf."]
    got = ranker.suggest([], profile, k=10, topics=said)
    queries = [s.query for s in got]
    assert set(queries[:2]) == {"surf lessons lisbon", "ericeira surf camp"}
    assert "conversation" in got[queries.index("surf")].sources  # a phrase of the chat
    assert queries.index("surf") < queries.index("pandas groupby")  # what fits comes first
    assert "search" not in queries and "thinking" not in queries  # the request's own words
    assert next(s.query for s in ranker.suggest([], profile, k=3)) != "surf lessons lisbon"


async def test_suggest_searches_in_a_conversation_fits_what_was_just_discussed(
    settings: Settings,
) -> None:
    memory = Memory.open(settings=settings)
    store = SuggestionStore(memory)
    await store.arecord("ana", history(datetime.now(UTC) - timedelta(days=5)))
    model = ScriptedChatModel()
    try:
        async with Agent(
            user_id="ana", settings=settings, model=model, memory=memory, tools=suggest_tools(store)
        ) as agent:
            told = await agent.aturn("I'm thinking of learning to surf this summer.")
            asked = await agent.aturn("What should I search for about it?")
        async with Agent(  # the same store, another user: no history, no access to Ana's
            user_id="bob", settings=settings, model=model, memory=memory, tools=suggest_tools(store)
        ) as bob:
            await bob.achat("We are planning a trip to Kyoto in April.")
            cold = await bob.aturn("Any ideas what I could look up?")
    finally:
        memory.close()
    assert told.route == "chat" and asked.route == "task"
    assert [step["tool"] for step in asked.plan] == ["suggest_searches"]
    plan_request = next(c for c in model.calls if "most likely asks for the tool" in str(c))
    assert "suggest_searches" in plan_request["messages"][0]["content"]  # the router's hint
    lines = asked.results[0]["output"].splitlines()
    assert {line.split(" (")[0] for line in lines[:2]} == {
        "- surf lessons lisbon",
        "- ericeira surf camp",
    }
    assert not any("pandas" in line for line in lines[:4])
    bob_lines = cold.results[0]["output"]
    assert "kyoto" in bob_lines and "surf" not in bob_lines  # ana's searches stay hers
