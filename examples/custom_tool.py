"""Give the assistant your own tools: a typed function and a langchain-core tool.

A tool's schema comes from its type hints and its description from its docstring. A tool
with side effects is declared with ``side_effect=True``: the graph pauses before calling it
and waits for the user's decision (approve, edit or reject). ``routing_examples`` are
messages that ask for the tool: the router learns them, so such requests become tasks.

    CONFIDANTE_MODEL=scripted python examples/custom_tool.py

Its data (memory, checkpoints) goes to a new temporary directory, never to your own data
directory; name a folder to keep it there: ``python examples/custom_tool.py DATA_DIR``.

With the scripted model the plan is scripted below; any other model plans on its own.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import tool

from confidante import Agent, Settings
from confidante.graphs.builder import GraphBuilder
from confidante.models.scripted import ScriptedChatModel
from confidante.models.scripted_rules import default_reply

FORECASTS = {"lisbon": "sunny, 24°C", "porto": "cloudy, 19°C"}
BOOKINGS: list[str] = []


def weather(city: str) -> str:
    """Tell the weather forecast for tomorrow in a city."""
    return FORECASTS.get(city.strip().lower(), "no forecast for that city")


@tool
def book_table(restaurant: str, time: str, config: RunnableConfig) -> str:
    """Book a table at a restaurant for the user."""
    user = config["configurable"]["user_id"]  # the user comes from the run, never the model
    BOOKINGS.append(f"{user}: {restaurant} at {time}")
    return f"booked {restaurant} at {time}"


def scripted_planner(payload: dict[str, Any]) -> Any:
    """Plan the two requests of this example (stands in for a real model's planning)."""
    schema = ((payload.get("response_format") or {}).get("json_schema") or {}).get("name")
    text = payload["messages"][-1]["content"]
    if schema == "Plan" and "weather" in text:
        return {"steps": [{"tool": "weather", "arguments": {"city": "Lisbon"}}]}
    if schema == "Plan":
        args = {"restaurant": "Taberna", "time": "20:00"}
        return {"steps": [{"tool": "book_table", "arguments": args}]}
    return default_reply(payload)


#: The example's data directory: the first argument, else a new temporary one.
DATA_DIR = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="confidante-"))
settings = Settings(data_dir=DATA_DIR, database_url=None)
model: BaseChatModel | None = None
if settings.model == "scripted":
    model = ScriptedChatModel(function=scripted_planner)

WEATHER_REQUESTS = [
    "what will the weather be in Porto tomorrow?",
    "is it going to rain in Madrid tomorrow",
    "weather forecast for Berlin please",
    "will it be sunny in Nice tomorrow?",
    "how hot will it be in Seville tomorrow",
    "tomorrow's forecast for Lyon?",
]
BOOKING_REQUESTS = [
    "book a table at Nobu for 8pm",
    "reserve a table for two at Casa Pepe at 19:30",
    "can you book us a table at the Italian place at 9",
    "get me a table at Ramen Ya tonight at 7",
    "book dinner for four at Le Comptoir at 20:00",
    "make a reservation at Sushi Go for 8:30",
]
builder = (
    GraphBuilder()
    .add_tool(weather, routing_examples=WEATHER_REQUESTS)
    .add_tool(book_table, side_effect=True, routing_examples=BOOKING_REQUESTS)
)
agent = Agent(user_id="tool-user", settings=settings, model=model, graph=builder)

result = agent.turn("What will the weather be in Lisbon tomorrow?")
print("plan:", [step["tool"] for step in result.plan])
print("reply:", result.reply)

result = agent.turn("Book a table at Taberna at 20:00.")
for approval in result.approvals:
    print(f"approval needed: {approval.tool} {approval.args}")
result = agent.resume("edit", args={"restaurant": "Taberna", "time": "20:30"})
print("reply:", result.reply)
print("bookings:", BOOKINGS)
agent.forget_user()
agent.close()
