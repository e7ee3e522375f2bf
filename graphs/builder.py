"""Build the agent graph, and the extension API that changes it without forking.

The default graph::

    START → recall → route ─ chat ──────────────────────────→ respond → remember → END
                           └ task → plan → act ⟲ (next step) ─┘
                                     ↑_ replan _|

As built, ``route`` runs beside ``recall`` and ``remember`` beside ``respond`` (neither needs
the other's writes), so a chat turn takes two graph steps; a change around either pair keeps
it in sequence (see :mod:`confidante.graphs.parallel`).

:class:`GraphBuilder` records changes and applies them, in order, when the graph is built:

- :meth:`~GraphBuilder.add_tool`: a langchain-core tool or a typed (async) function;
- :meth:`~GraphBuilder.add_node`: a node before or after a named node (its edges, plain or
  conditional, are rewired through the new node);
- :meth:`~GraphBuilder.replace_node`: a new function under an existing name;
- :meth:`~GraphBuilder.mount`: a LangGraph subgraph as a node, before or after a named node;
- :meth:`~GraphBuilder.add_state_field`: a new field of the state (optionally with a reducer).

A node is any callable LangGraph accepts: ``(state) -> dict`` or ``(state, config) -> dict``,
sync or async; it returns only the fields it writes. Pass the builder to
``Agent(..., graph=builder)``; :func:`build_graph` builds the default graph.
"""

from __future__ import annotations

import typing
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from langchain_core.tools import BaseTool
from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph

from confidante.errors import ConfigurationError
from confidante.graphs.nodes import GraphDeps, Nodes
from confidante.graphs.parallel import serves_one_call_at_a_time, side_by_side
from confidante.graphs.state import AgentState
from confidante.tools.factory import make_tool, mark_side_effect

Graph = CompiledStateGraph[Any, Any, Any, Any]
DEFAULT_NODES = ("recall", "route", "plan", "act", "respond", "remember")


@dataclass
class Topology:
    """The graph as data: nodes, plain edges and conditional edges (source → router, targets)."""

    nodes: dict[str, Any]
    edges: list[tuple[str, str]]
    branches: dict[str, tuple[Callable[..., str], dict[str, str]]] = field(default_factory=dict)

    def require(self, name: str) -> None:
        """Raise ``ConfigurationError`` unless ``name`` is a node."""
        if name not in self.nodes:
            known = ", ".join(self.nodes)
            raise ConfigurationError(f"the graph has no node {name!r} (nodes: {known})")

    def insert(self, name: str, node: Any, before: str | None, after: str | None) -> None:
        """Add ``node`` and rewire the edges of ``before`` (incoming) or ``after`` (outgoing)."""
        if (before is None) == (after is None):
            raise ConfigurationError(f"node {name!r}: give exactly one of before= or after=")
        if name in self.nodes or name in (START, END):
            raise ConfigurationError(f"the graph already has a node {name!r}")
        anchor = cast(str, before or after)
        self.require(anchor)
        self.nodes[name] = node
        if after is not None:
            self.edges = [(name if src == after else src, dst) for src, dst in self.edges]
            if after in self.branches:
                self.branches[name] = self.branches.pop(after)
            self.edges.append((after, name))
        else:
            self.edges = [(src, name if dst == before else dst) for src, dst in self.edges]
            for _router, targets in self.branches.values():
                for key, target in targets.items():
                    if target == before:
                        targets[key] = name
            self.edges.append((name, anchor))


def default_topology(nodes: Nodes) -> Topology:
    """The default graph over the given nodes (see the module docstring)."""

    def route(state: AgentState) -> str:
        return state.get("route", "chat")

    return Topology(
        nodes={name: getattr(nodes, name) for name in DEFAULT_NODES},
        edges=[
            (START, "recall"),
            ("recall", "route"),
            ("plan", "act"),
            ("respond", "remember"),
            ("remember", END),
        ],
        branches={
            "route": (route, {"chat": "respond", "task": "plan"}),
            "act": (nodes.check, {"act": "act", "plan": "plan", "respond": "respond"}),
        },
    )


def as_tool(
    function: BaseTool | Callable[..., Any],
    *,
    side_effect: bool = False,
    name: str | None = None,
    description: str | None = None,
    routing_examples: Sequence[str] = (),
) -> BaseTool:
    """Return a langchain-core tool from a tool or a typed function (its docstring describes it).

    The function may take a ``config: RunnableConfig`` argument: the user's id is in
    ``config["configurable"]["user_id"]`` (never take a user from the model's arguments).
    ``side_effect=True`` makes the graph ask for approval before each call.
    ``routing_examples`` are messages that ask for this tool ("book us a table for two at
    8"); the router (:mod:`confidante.graphs.router`) learns them, so such requests become
    tasks. A tool without examples is only planned for requests the router already sends
    to tasks (those for the built-in tools).
    """
    if isinstance(function, BaseTool):
        tool = function
        if name or description:
            tool = tool.model_copy(
                update={"name": name or tool.name, "description": description or tool.description}
            )
    else:
        if not (function.__doc__ or description):
            raise ConfigurationError(
                f"tool {getattr(function, '__name__', function)!r} needs a docstring or a "
                "description: the model reads it to decide when to call the tool"
            )
        tool = make_tool(function, name=name, description=description)
    if side_effect:
        tool = mark_side_effect(tool)
    if routing_examples:
        examples = [str(text) for text in routing_examples]
        tool = tool.model_copy(
            update={"metadata": {**(tool.metadata or {}), "routing_examples": examples}}
        )
    return tool


class GraphBuilder:
    """Changes to the default agent graph, applied in order when it is built.

    Args:
        state_schema: The graph's state type; a ``TypedDict`` extending
            :class:`~confidante.graphs.state.AgentState` (default: ``AgentState``).

    Example:
        ``GraphBuilder().add_node("mood", detect_mood, after="recall")``
    """

    def __init__(self, state_schema: type[Any] = AgentState) -> None:
        self.state_schema = state_schema
        self.tools: list[BaseTool] = []
        self.fields: dict[str, Any] = {}
        self._changes: list[Callable[[Topology], None]] = []

    def add_tool(
        self,
        tool: BaseTool | Callable[..., Any],
        *,
        side_effect: bool = False,
        name: str | None = None,
        description: str | None = None,
        routing_examples: Sequence[str] = (),
    ) -> GraphBuilder:
        """Make a tool available to tasks (see :func:`as_tool`)."""
        self.tools.append(
            as_tool(
                tool,
                side_effect=side_effect,
                name=name,
                description=description,
                routing_examples=routing_examples,
            )
        )
        return self

    def add_node(
        self, name: str, node: Any, *, before: str | None = None, after: str | None = None
    ) -> GraphBuilder:
        """Insert a node before or after a named node (exactly one of the two)."""
        self._changes.append(lambda topology: topology.insert(name, node, before, after))
        return self

    def replace_node(self, name: str, node: Any) -> GraphBuilder:
        """Run ``node`` in place of the node called ``name``; its edges stay as they are."""

        def replace(topology: Topology) -> None:
            topology.require(name)
            topology.nodes[name] = node

        self._changes.append(replace)
        return self

    def mount(
        self,
        name: str,
        subgraph: StateGraph[Any, Any, Any, Any] | Graph,
        *,
        before: str | None = None,
        after: str | None = None,
    ) -> GraphBuilder:
        """Mount a LangGraph subgraph as a node; it reads and writes the state keys it shares.

        An uncompiled :class:`~langgraph.graph.StateGraph` is compiled here; it shares the
        agent's checkpointer, so it can pause for approval like any node.
        """
        node = subgraph.compile() if isinstance(subgraph, StateGraph) else subgraph
        return self.add_node(name, node, before=before, after=after)

    def add_state_field(
        self, name: str, annotation: Any, *, reducer: Callable[[Any, Any], Any] | None = None
    ) -> GraphBuilder:
        """Add a field to the state; with a reducer, updates are combined instead of replaced."""
        if name in typing.get_type_hints(AgentState):
            raise ConfigurationError(f"the state already has a field {name!r}")
        self.fields[name] = typing.Annotated[annotation, reducer] if reducer else annotation
        return self

    def schema(self) -> type[Any]:
        """Return the state type: ``state_schema`` plus the added fields."""
        if not self.fields:
            return self.state_schema
        hints = typing.get_type_hints(self.state_schema, include_extras=True)
        factory = cast(Any, typing.TypedDict)
        return cast(type[Any], factory("ExtendedAgentState", {**hints, **self.fields}, total=False))

    def topology(self, deps: GraphDeps) -> Topology:
        """Return the default topology with every change applied.

        Then the pairs of default nodes that the changes left as they were share a graph step
        (see :mod:`confidante.graphs.parallel`).
        """
        topology = default_topology(Nodes(deps))
        defaults = dict(topology.nodes)
        for change in self._changes:
            change(topology)
        side_by_side(topology, defaults, one_call_at_a_time=serves_one_call_at_a_time(deps.model))
        return topology

    def build(self, deps: GraphDeps, checkpointer: BaseCheckpointSaver[Any] | None = None) -> Graph:
        """Compile the graph over the given dependencies and checkpointer."""
        topology = self.topology(deps)
        graph = StateGraph(self.schema())
        for name, node in topology.nodes.items():
            graph.add_node(name, node)
        for source, target in topology.edges:
            graph.add_edge(source, target)
        for source, (router, targets) in topology.branches.items():
            graph.add_conditional_edges(source, router, cast(Any, targets))
        return graph.compile(checkpointer=checkpointer)


def build_graph(
    deps: GraphDeps,
    checkpointer: BaseCheckpointSaver[Any] | None = None,
    builder: GraphBuilder | None = None,
) -> Graph:
    """Compile the agent graph (the default one, or ``builder``'s) over ``deps``."""
    return (builder or GraphBuilder()).build(deps, checkpointer)
