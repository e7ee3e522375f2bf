"""Settings of the HTTP server: the library's settings plus a few server knobs.

:class:`ServerSettings` extends :class:`~confidante.settings.Settings`, so the server reads the
same ``CONFIDANTE_*`` variables, ``.env`` file and TOML file as the library and the CLI, plus:

- ``CONFIDANTE_ADMIN_KEY``: the key that manages users and keys (``/v1/admin/...``); without
  it the admin API is closed (keys are then made with ``confidante keys create``);
- ``CONFIDANTE_MAX_REQUEST_BYTES``: the largest request body accepted (413 beyond);
- ``CONFIDANTE_MAX_AGENTS``: per-user agents kept open in one server process;
- ``CONFIDANTE_MODEL_ID``: the model name ``/v1/models`` announces;
- ``CONFIDANTE_RATE_LIMIT_PER_MINUTE``: requests one API key may make per minute (429 beyond);
- ``CONFIDANTE_MAX_CONCURRENT_PER_KEY``: requests of one API key served at once (429 beyond);
- ``CONFIDANTE_MAX_IMPORT_ITEMS``: items one ``POST /v1/memories/import`` may carry (413 beyond).

The per-key limits (``0``: none) are kept in each server process, so with ``--workers N`` a key
may make N times as many requests; the admin API is exempt from them.
"""

from __future__ import annotations

from pydantic import Field, SecretStr

from confidante.settings import Settings


class ServerSettings(Settings):
    """Configuration of ``confidante serve`` (see the module docstring).

    Attributes:
        admin_key: The admin key (none: the admin API answers 401).
        max_request_bytes: Largest request body, in bytes.
        max_agents: Per-user agents (each with a checkpoint connection) kept open per process.
        model_id: The model id announced by ``GET /v1/models``.
        rate_limit_per_minute: Requests per API key in any 60 seconds (0: no limit).
        max_concurrent_per_key: Requests per API key in progress at once (0: no limit).
        max_import_items: Items per import request, so one import cannot hold the embedder and
            the database for minutes.
    """

    admin_key: SecretStr | None = None
    max_request_bytes: int = 2_000_000
    max_agents: int = 256
    model_id: str = "confidante"
    rate_limit_per_minute: int = Field(default=600, ge=0)
    max_concurrent_per_key: int = Field(default=4, ge=0)
    max_import_items: int = Field(default=1_000, ge=1)
