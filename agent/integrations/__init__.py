"""confidante's memory inside other frameworks and apps.

- :class:`~confidante.integrations.langgraph_store.ConfidanteStore`: a LangGraph ``BaseStore``
  (``graph.compile(store=ConfidanteStore(memory))``), namespaces mapped to users.
- :func:`~confidante.integrations.mcp_server.build_mcp_server`: an MCP server (official ``mcp``
  SDK) with remember/recall/forget and any extra langchain-core tools, for one user or for
  the user of each request's API key (``confidante mcp``, ``/mcp`` of ``confidante serve``;
  extra ``integrations``).
- :class:`~confidante.integrations.llama_vector_index.LlamaIndexVectorIndex`: any llama-index
  vector store as the memory's vector index (e.g. ``PGVectorStore``).
- :func:`~confidante.integrations.mem0.mem0_to_export`: mem0's ``get_all`` export to the
  ``confidante.memory`` JSON format (``confidante memory import --format mem0``).
- :func:`~confidante.integrations.importers.convert_export`: a Letta agent file, a Zep/Graphiti
  export or a LangGraph store dump (or mem0's) to that format (``--format letta|graphiti|
  langgraph``; :mod:`confidante.integrations.importers`).

Names are imported lazily, so ``import confidante.integrations`` needs none of the optional
packages.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ConfidanteStore",
    "LlamaIndexVectorIndex",
    "build_mcp_server",
    "convert_export",
    "mem0_to_export",
    "user_at",
]

_WHERE = {
    "ConfidanteStore": "langgraph_store",
    "user_at": "langgraph_store",
    "build_mcp_server": "mcp_server",
    "LlamaIndexVectorIndex": "llama_vector_index",
    "mem0_to_export": "mem0",
    "convert_export": "importers",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
