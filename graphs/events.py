"""Custom events the graph emits while it runs (LangGraph's ``custom`` stream mode).

Every event is a dict with an ``event`` key:

| event        | emitted by        | other keys                                          |
|--------------|-------------------|-----------------------------------------------------|
| recalled     | recall            | ``items`` (the memories), ``queries``               |
| planned      | plan              | ``steps``                                           |
| tool         | act               | ``tool``, ``ok``, ``output`` (and ``decision``)     |
| remembered   | remember          | ``items`` (``id``, ``key``, ``text``)               |
| remembering  | remember          | ``event_id`` (extraction continues in the background) |
| forgotten    | forget_memory     | ``items`` (``id``, ``text``)                        |
| safety       | respond           | ``reminder`` (appended to the reply)                |
| withheld     | respond           | ``kinds`` of secret removed, ``note`` (appended)    |

The agent emits ``withheld`` too, with ``kinds`` and ``refused`` True, for a message it did not
keep at all (``secret_policy="refuse"``; see :mod:`confidante.memory.secrets`).

Nodes and tools added through the extension API may emit their own events with :func:`emit`.
"""

from __future__ import annotations

import contextlib
from typing import Any

from langgraph.config import get_stream_writer

MEMORY_EVENTS = frozenset({"recalled", "remembered", "remembering", "forgotten"})


def emit(event: dict[str, Any]) -> None:
    """Send ``event`` to the run's ``custom`` stream; a no-op outside a graph run."""
    with contextlib.suppress(RuntimeError):  # RuntimeError: not inside a graph run
        get_stream_writer()(event)
