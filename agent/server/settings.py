"""Settings of the HTTP server: the library's settings plus a few server knobs.

:class:`ServerSettings` extends :class:`~confidante.settings.Settings`, so the server reads the
same ``CONFIDANTE_*`` variables, ``.env`` file and TOML file as the library and the CLI, plus:

- ``CONFIDANTE_ADMIN_KEY``: the key that manages users and keys (``/v1/admin/...``); without
  it the admin API is closed (keys are then made with ``confidante keys create``);
- ``CONFIDANTE_MAX_REQUEST_BYTES``: the largest request body accepted (413 beyond);
- ``CONFIDANTE_MAX_AGENTS``: per-user agents kept open in one server process;
- ``CONFIDANTE_MODEL_ID``: the model name ``/v1/models`` announces.
"""

from __future__ import annotations

from pydantic import SecretStr

from confidante.settings import Settings


class ServerSettings(Settings):
    """Configuration of ``confidante serve`` (see the module docstring).

    Attributes:
        admin_key: The admin key (none: the admin API answers 401).
        max_request_bytes: Largest request body, in bytes.
        max_agents: Per-user agents (each with a checkpoint connection) kept open per process.
        model_id: The model id announced by ``GET /v1/models``.
    """

    admin_key: SecretStr | None = None
    max_request_bytes: int = 2_000_000
    max_agents: int = 256
    model_id: str = "confidante"
