"""Run the default graph's independent nodes side by side: fewer graph steps per turn.

Every graph step costs LangGraph a scheduling tick and a checkpoint, whatever the nodes do
(about 2-3 ms each on a small machine). Two pairs of the default graph need nothing from each
other, so each pair runs as one step:

- ``route`` decides from the message alone, not from what was recalled: it starts beside
  ``recall``, and what follows ``route`` runs once both are done;
- ``remember`` learns from the message (and, after a task, from the tool results), never from
  the reply: it starts beside ``respond``, wherever ``respond`` would start.

A chat turn then takes two steps instead of four. Two nodes of one step read the state as it
was before the step, and their writes are applied together when both are done (LangGraph's
supersteps), so neither can see the other's writes, and nothing after them starts early.

A pair runs side by side only while the graph around it is the default one: both nodes are
the default functions, and the first leads straight to the second and nowhere else. Any change
there (a node added after ``recall`` or before ``remember``, ``route`` or ``respond``
replaced) keeps the pair in sequence, so "a node added after X sees what X wrote" always holds.
``remember`` also stays after ``respond`` when the chat model serves one call at a time (the
embedded local model): the reply must not wait in line behind the fact extraction.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from confidante.graphs.builder import Topology

#: The pairs of default nodes that may share a graph step: (first, second).
PAIRS = (("recall", "route"), ("respond", "remember"))


def serves_one_call_at_a_time(model: Any) -> bool:
    """Return True for a chat model whose calls run one after another (a single slot)."""
    return bool(getattr(model, "one_call_at_a_time", False))


def side_by_side(
    topology: Topology, defaults: Mapping[str, Any], *, one_call_at_a_time: bool
) -> list[tuple[str, str]]:
    """Merge each eligible pair of :data:`PAIRS` into one step; return the merged pairs.

    Args:
        topology: The graph as data, with every change of the builder applied; edited in place.
        defaults: The default node functions, by name.
        one_call_at_a_time: The chat model serves one call at a time (keeps ``remember``
            after ``respond``).
    """
    merged = []
    for first, second in PAIRS:
        if one_call_at_a_time and second == "remember":
            continue
        if _still_default(topology, defaults, first, second):
            _start_together(topology, first, second)
            merged.append((first, second))
    return merged


def _still_default(
    topology: Topology, defaults: Mapping[str, Any], first: str, second: str
) -> bool:
    """Both nodes are the defaults and ``first`` leads to ``second`` only, its only way in."""
    if any(topology.nodes.get(name) != defaults.get(name) for name in (first, second)):
        return False
    out_of_first = [edge for edge in topology.edges if edge[0] == first]
    into_second = [edge for edge in topology.edges if edge[1] == second]
    branch_into_second = any(
        second in targets.values() for _router, targets in topology.branches.values()
    )
    return (
        out_of_first == [(first, second)]
        and into_second == [(first, second)]
        and first not in topology.branches
        and not branch_into_second
    )


def _start_together(topology: Topology, first: str, second: str) -> None:
    """Start ``second`` wherever ``first`` starts; ``first`` then leads nowhere.

    What followed ``second`` still waits for both: they run in the same superstep.
    """
    topology.edges.remove((first, second))
    topology.edges += [(source, second) for source, target in topology.edges if target == first]
    for source, (router, targets) in list(topology.branches.items()):
        if first in targets.values():
            topology.branches[source] = (
                _also_to(router, targets, first, second),
                {**targets, _also_key(second): second},
            )


def _also_key(name: str) -> str:
    """The branch key that sends to ``name`` beside the chosen node."""
    return f"and {name}"


def _also_to(
    router: Callable[[Any], Any], targets: Mapping[str, str], first: str, second: str
) -> Callable[[Any], Any]:
    """Wrap ``router`` so that whenever it picks ``first`` it picks ``second`` too."""

    def route(state: Any) -> Any:
        picked = router(state)
        keys = list(picked) if isinstance(picked, list | tuple) else [picked]
        if any(isinstance(key, str) and targets.get(key) == first for key in keys):
            keys.append(_also_key(second))
        return keys if len(keys) > 1 or isinstance(picked, list | tuple) else picked

    route.__name__ = getattr(router, "__name__", "route")
    return route
