"""The export and import methods of :class:`~confidante.memory.store.Memory`.

The format and its rules are in :mod:`confidante.memory.portability.transfer`; this part only
binds them to the memory, with their sync twins.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from confidante._sync import sync_twin
from confidante.memory._core import MemoryCore
from confidante.memory.portability.transfer import export_memory, import_memory

if TYPE_CHECKING:
    from confidante.memory.store import Memory


class PortableMemory(MemoryCore):
    """Export a user's memory as a JSON-ready document, and import one."""

    async def aexport(self, user_id: str) -> dict[str, Any]:
        """Return all of a user's subjects, items (superseded ones too) and events as a dict.

        The format (``confidante.memory``, version 3) is documented in
        :mod:`confidante.memory.portability.transfer`.
        """
        return await export_memory(cast("Memory", self), user_id)

    async def aimport(
        self, user_id: str, data: dict[str, Any], *, keep_ids: bool = False
    ) -> list[str]:
        """Add the items of an export (see :meth:`aexport`) to a user; returns their ids.

        The whole document is validated before anything is written (``InvalidInputError``);
        current items follow the rules of ``Memory.aremember_many``, superseded ones go to the
        user's history. See :func:`confidante.memory.portability.transfer.import_memory`.
        """
        return await import_memory(cast("Memory", self), user_id, data, keep_ids=keep_ids)

    export = sync_twin(aexport)
    import_ = sync_twin(aimport)  # ``import`` is a keyword
