"""Moving in from other memory systems: their exports as ``confidante.memory`` documents.

One registry, :data:`IMPORTERS`, maps each format name of ``confidante memory import --format``
to its converter:

============  ==============================================================================
format        reads
============  ==============================================================================
``mem0``      mem0's ``get_all`` result (:mod:`confidante.integrations.mem0`)
``letta``     a Letta agent file, ``.af``: core memory blocks, archival passages, messages
              (:mod:`~confidante.integrations.importers.letta`)
``graphiti``  a Zep / Graphiti export: episodes and facts with their validity dates
              (:mod:`~confidante.integrations.importers.graphiti`; ``zep`` is the same)
``langgraph`` a LangGraph store dump: namespace, key, value
              (:mod:`~confidante.integrations.importers.langgraph_dump`)
============  ==============================================================================

Every converter keeps the records' own times (when something was said or became true), never
the import's, and refuses what it cannot read with an ``InvalidInputError`` that names the
record and field. The document it returns is then validated as a whole by ``Memory.aimport``
and written in one transaction: an import is complete or absent, never half done.

Whose memories (every format): an export that names another
user than the one imported into is refused unless ``source_user`` (``--source-user``) names
that user, which maps it to the target on purpose; an export of several users is refused
unless ``source_user`` picks one. Each module's docstring says what names the user in its
format.
"""

from __future__ import annotations

from typing import Any, Protocol

from confidante.errors import InvalidInputError
from confidante.integrations.importers.graphiti import graphiti_to_export
from confidante.integrations.importers.langgraph_dump import langgraph_to_export
from confidante.integrations.importers.letta import letta_to_export

__all__ = ["IMPORTERS", "convert_export", "import_formats"]


class Importer(Protocol):
    """A converter from another system's export to a ``confidante.memory`` document."""

    def __call__(
        self, data: Any, *, user_id: str | None, source_user: str | None
    ) -> dict[str, Any]:
        """Convert ``data`` for ``user_id``, importing ``source_user``'s records if given."""
        ...


def _mem0(data: Any, *, user_id: str | None, source_user: str | None) -> dict[str, Any]:
    # imported here: confidante.integrations.mem0 uses this package's user rule
    from confidante.integrations.mem0 import mem0_to_export

    return mem0_to_export(data, user_id=user_id, source_user=source_user)


#: Format name -> converter (``confidante`` itself needs none: it is the target format).
IMPORTERS: dict[str, Importer] = {
    "mem0": _mem0,
    "letta": letta_to_export,
    "graphiti": graphiti_to_export,
    "zep": graphiti_to_export,
    "langgraph": langgraph_to_export,
}


def import_formats() -> list[str]:
    """Every format ``confidante memory import --format`` reads, ``confidante`` first."""
    return ["confidante", *IMPORTERS]


def convert_export(
    file_format: str, data: Any, *, user_id: str | None, source_user: str | None = None
) -> dict[str, Any]:
    """Convert another system's export to a ``confidante.memory`` document.

    Args:
        file_format: One of :data:`IMPORTERS`' names.
        data: The parsed JSON of the export.
        user_id: The user it will be imported into (another user's export is refused).
        source_user: The export's user to import, mapped to ``user_id`` on purpose.

    Raises:
        InvalidInputError: An unknown format (the message lists the known ones), or the
            converter's refusal.
    """
    converter = IMPORTERS.get(file_format)
    if converter is None:
        raise InvalidInputError(
            f"unknown format {file_format!r}: use one of {', '.join(import_formats())}"
        )
    return converter(data, user_id=user_id, source_user=source_user)
