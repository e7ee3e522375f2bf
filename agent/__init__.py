"""confidante: assistants that know their user.

The public face of the package::

    from confidante import Agent, Memory, Settings

Heavy parts (the graph, models, memory) are imported on first use, so ``import confidante``
and ``confidante --help`` stay fast.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from confidante._lazy import lazy_getattr
from confidante.errors import (
    ConfidanteError,
    ConfigurationError,
    InvalidInputError,
    ModelError,
    ModelNotAvailableError,
    NotFoundError,
    SecretRefusedError,
    StructuredOutputError,
)
from confidante.settings import Settings

if TYPE_CHECKING:
    from confidante.agent import Agent, TurnResult
    from confidante.memory.store import Memory, MemoryHit

__version__ = "0.1.0"

_LAZY = {
    "Agent": "confidante.agent",
    "TurnResult": "confidante.agent",
    "Memory": "confidante.memory.store",
    "MemoryHit": "confidante.memory.store",
}


__getattr__ = lazy_getattr(__name__, _LAZY)

__all__ = [
    "Agent",
    "ConfidanteError",
    "ConfigurationError",
    "InvalidInputError",
    "Memory",
    "MemoryHit",
    "ModelError",
    "ModelNotAvailableError",
    "NotFoundError",
    "SecretRefusedError",
    "Settings",
    "StructuredOutputError",
    "TurnResult",
    "__version__",
]
