"""One request becomes a multi-step plan for this user, with one approval step.

"Plan my weekend" is routed to a task; the planner writes tool steps from what the assistant
remembers about the user; read-only steps run at once (concurrently), and the step with a
side effect (saving the plan as a reminder) waits for the user's approval.

The plan may use every tool registered through the extension API: the memory tools are
built in, and ``weekend_tools()`` below adds the recommendation tool (a small catalog of
weekend outings, with other people's choices as the collaborative signal), the query-
suggestion tool (from the user's past searches) and the image tool (the tiny random-weight
Stable Diffusion pipeline built locally; name a real one with ``CONFIDANTE_IMAGE_MODEL``).

    CONFIDANTE_MODEL=scripted python examples/plan_weekend.py

Its data (memory, checkpoints) goes to a new temporary directory, never to your own data
directory; name a folder to keep it there: ``python examples/plan_weekend.py DATA_DIR``.

With the scripted model the planner below stands in for the model: it plans with whichever
tools are registered, filling their text arguments from the request.
"""

from __future__ import annotations

import re
import sys
import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool

from confidante import Agent, Memory, Settings
from confidante._sync import run_sync
from confidante.graphs.builder import GraphBuilder
from confidante.models import build_chat_model
from confidante.models.scripted import ScriptedChatModel
from confidante.models.scripted_rules import default_reply
from confidante.tools.imagine import GenerationOptions, Imaginer, imagine_tools, tiny_pipeline_path
from confidante.tools.recommend import CatalogItem, Recommender, recommend_tools
from confidante.tools.suggest import Activity, SuggestionStore, suggest_tools

REQUEST = "Plan my weekend: something I enjoy, and save the plan."
USER = "weekend-user"
OUTINGS = [
    ("jazz-club", "Jazz night at the Hot Clube", ["music", "jazz"]),
    ("hill-walk", "Sintra hills hiking trail", ["outdoors", "hiking"]),
    ("fado", "Fado dinner in Alfama", ["music", "food"]),
    ("surf", "Beginner surf class in Ericeira", ["outdoors", "sea"]),
    ("museum", "Tile museum morning", ["culture"]),
    ("market", "LX Factory Sunday market", ["food", "shopping"]),
]
OTHERS = {"p1": ["jazz-club", "fado"], "p2": ["hill-walk", "surf"], "p3": ["jazz-club", "museum"]}
SEARCHES = ["jazz concerts lisbon", "sintra hiking trails", "jazz club lisbon saturday"]


def weekend_tools(memory: Memory, settings: Settings, model: BaseChatModel) -> list[BaseTool]:
    """Tools beyond the built-in memory ones that the weekend plan may use."""
    recommender = Recommender(memory)
    outings = [CatalogItem(id=i, title=t, attributes={"tags": tags}) for i, t, tags in OUTINGS]
    run_sync(recommender.catalog.aadd(outings))
    for person, chosen in OTHERS.items():
        for item in chosen:
            recommender.interact(person, item, "accepted")
    searches = SuggestionStore(memory)
    start = datetime(2026, 11, 1, 10, 0)
    searches.record(
        USER, [Activity(q, start + timedelta(minutes=5 * i)) for i, q in enumerate(SEARCHES)]
    )
    diffusion = settings.image_model or tiny_pipeline_path(settings.cache_dir)
    drawing = GenerationOptions(candidates=2, steps=4, seed=7)
    return [
        *[tool for tool in recommend_tools(recommender) if tool.name == "recommend"],
        *suggest_tools(searches, k=3),
        *imagine_tools(lambda: Imaginer.load(memory, model, diffusion), options=drawing),
    ]


def scripted_planner(payload: dict[str, Any]) -> Any:
    """Plan with the registered tools: look up tastes, use every other tool, then save."""
    schema = (payload.get("response_format") or {}).get("json_schema") or {}
    request = payload["messages"][-1]["content"]
    if schema.get("name") != "Plan":
        return default_reply(payload)
    steps: list[dict[str, Any]] = [
        {"tool": "search_memory", "arguments": {"query": "what the user likes to do"}}
    ]
    for name, definition in schema["schema"].get("$defs", {}).items():
        tool = name.removeprefix("Step_")
        if not name.startswith("Step_") or tool in BUILT_IN:
            continue
        arguments = definition["properties"]["arguments"]
        fields = schema["schema"]["$defs"][arguments["$ref"].rsplit("/", 1)[-1]]["properties"]
        text: dict[str, Any] = {
            key: request for key, spec in fields.items() if spec.get("type") == "string"
        }
        text |= {key: [request] for key, spec in fields.items() if spec.get("type") == "array"}
        steps.append({"tool": tool, "arguments": text})
    likes = re.findall(r"^\[\d+\] The user likes (.+?)\.$", payload["messages"][0]["content"], re.M)
    plan = " and ".join(likes[:2]) or "a walk"
    steps.append(
        {"tool": "add_reminder", "arguments": {"text": f"Weekend: {plan}", "when": "Saturday"}}
    )
    return {"steps": steps}


BUILT_IN = {"search_memory", "add_reminder", "list_reminders", "forget_memory"}

#: The example's data directory: the first argument, else a new temporary one.
DATA_DIR = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="confidante-"))
settings = Settings(data_dir=DATA_DIR, database_url=None)
settings.ensure_dirs()
model: BaseChatModel = (
    ScriptedChatModel(function=scripted_planner)
    if settings.model == "scripted"
    else build_chat_model(settings)
)
memory = Memory.open(settings=settings)
#: Requests like this one are tasks: the router learns them with the recommender.
PLANNING_REQUESTS = [
    "plan my saturday with things I like",
    "what could I do this weekend? make a plan",
    "plan a fun sunday for me and save it",
    "organise my weekend around what I enjoy",
    "put together a plan for my day off",
    "plan my evening: something I'd like",
]
builder = GraphBuilder()
for extra in weekend_tools(memory, settings, model):
    examples = PLANNING_REQUESTS if extra.name == "recommend" else []
    builder.add_tool(extra, routing_examples=examples)
agent = Agent(user_id=USER, settings=settings, model=model, memory=memory, graph=builder)

for fact in ["I love jazz.", "I love hiking in the hills.", "My sister is called Marta."]:
    agent.turn(fact)

result = agent.turn(REQUEST)
print("plan:")
for step in result.plan:
    print(f"  - {step['tool']} {step['arguments']}")
for done in result.results:
    print(f"  done: {done['tool']}: {done['output'].splitlines()[0] if done['output'] else ''}")
while result.approvals:
    for approval in result.approvals:
        print(f"approval needed: {approval.tool} {approval.args}")
    result = agent.resume("approve")
    for done in result.results:
        print(f"  done: {done['tool']}: {done['output'].splitlines()[0] if done['output'] else ''}")
print("reply:", result.reply)
print(
    "reminders:",
    [item.text for item in agent.memory.list_items(USER, kinds=["reminder"])],
)
agent.forget_user()
agent.close()
