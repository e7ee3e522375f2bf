"""One request becomes a multi-step plan for this user, with one approval step.

"Plan my weekend" is routed to a task; the planner writes tool steps from what the assistant
remembers about the user; read-only steps run at once (concurrently), and the step with a
side effect (saving the plan as a reminder) waits for the user's approval.

The plan may use every tool registered through the extension API: the memory tools are
built in, and ``weekend_tools()`` below is where recommendation, query-suggestion and image
tools (``confidante.tools``) are added to the builder.

    CONFIDANTE_MODEL=scripted python examples/plan_weekend.py

With the scripted model the planner below stands in for the model: it plans with whichever
tools are registered, filling their text arguments from the request.
"""

from __future__ import annotations

import re
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.tools import BaseTool

from confidante import Agent, Settings
from confidante.graphs.builder import GraphBuilder
from confidante.models.scripted import ScriptedChatModel
from confidante.models.scripted_rules import default_reply

REQUEST = "Plan my weekend: something I enjoy, and save the plan."


def weekend_tools() -> list[BaseTool]:
    """Tools beyond the built-in memory ones that the weekend plan may use."""
    return []


def scripted_planner(payload: dict[str, Any]) -> Any:
    """Plan with the registered tools: look up tastes, use every other tool, then save."""
    schema = (payload.get("response_format") or {}).get("json_schema") or {}
    request = payload["messages"][-1]["content"]
    if schema.get("name") == "RouteDecision" and "weekend" in request.lower():
        return {"route": "task"}
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
        text = {key: request for key, spec in fields.items() if spec.get("type") == "string"}
        steps.append({"tool": tool, "arguments": text})
    likes = re.findall(r"^\[\d+\] The user likes (.+?)\.$", payload["messages"][0]["content"], re.M)
    plan = " and ".join(likes[:2]) or "a walk"
    steps.append(
        {"tool": "add_reminder", "arguments": {"text": f"Weekend: {plan}", "when": "Saturday"}}
    )
    return {"steps": steps}


BUILT_IN = {"search_memory", "add_reminder", "list_reminders", "forget_memory"}

settings = Settings()
model: BaseChatModel | None = None
if settings.model == "scripted":
    model = ScriptedChatModel(function=scripted_planner)
builder = GraphBuilder()
for extra in weekend_tools():
    builder.add_tool(extra)
agent = Agent(user_id="weekend-user", settings=settings, model=model, graph=builder)

for fact in ["I love jazz.", "I love hiking in the hills.", "My sister is called Marta."]:
    agent.turn(fact)

result = agent.turn(REQUEST)
print("plan:")
for step in result.plan:
    print(f"  - {step['tool']} {step['arguments']}")
for done in result.results:
    print(f"  done: {done['tool']}: {done['output'].splitlines()[0] if done['output'] else ''}")
for approval in result.approvals:
    print(f"approval needed: {approval.tool} {approval.args}")
    result = agent.resume("approve")
print("reply:", result.reply)
print(
    "reminders:",
    [item.text for item in agent.memory.list_items("weekend-user", kinds=["reminder"])],
)
agent.forget_user()
agent.close()
