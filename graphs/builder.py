"""Build the agent graph.

::

    START → recall → route ─ chat ─────────────────────→ respond → remember → END
                           └ task → plan → act → check ─┘   ↑
                                     ↑______ replan ____|
"""

from __future__ import annotations

from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from confidante.graphs.nodes import GraphDeps, Nodes
from confidante.graphs.state import AgentState


def build_graph(
    deps: GraphDeps, checkpointer: BaseCheckpointSaver[Any] | None = None
) -> CompiledStateGraph[Any, Any, Any, Any]:
    """Compile the agent graph over the given dependencies and checkpointer."""
    nodes = Nodes(deps)
    graph = StateGraph(AgentState)
    graph.add_node("recall", nodes.recall)
    graph.add_node("route", nodes.route)
    graph.add_node("plan", nodes.plan)
    graph.add_node("act", nodes.act)
    graph.add_node("respond", nodes.respond)
    graph.add_node("remember", nodes.remember)
    graph.add_edge(START, "recall")
    graph.add_edge("recall", "route")
    graph.add_conditional_edges(
        "route", lambda state: state.get("route", "chat"), {"chat": "respond", "task": "plan"}
    )
    graph.add_edge("plan", "act")
    graph.add_conditional_edges("act", nodes.check, {"plan": "plan", "respond": "respond"})
    graph.add_edge("respond", "remember")
    graph.add_edge("remember", END)
    return graph.compile(checkpointer=checkpointer)
