"""Loading a Stable Diffusion pipeline: optional packages, device, dtype, offline by default.

torch and transformers are optional (``pip install 'confidante[image]'``, also brought by the
``minilm`` extra); diffusers is a core dependency. Everything heavy is imported on first use.
"""

from __future__ import annotations

import importlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confidante.errors import ConfigurationError, InvalidInputError, ModelNotAvailableError

logger = logging.getLogger(__name__)

EXTRA_HINT = "pip install 'confidante[image]'"


def require_torch() -> Any:
    """Import torch and transformers, or explain how to install them."""
    try:
        import torch
        import transformers  # noqa: F401  (the text encoder and tokenizer of every SD model)
    except ImportError as exc:
        raise ModelNotAvailableError(
            f"image generation needs torch and transformers: {EXTRA_HINT} ({exc})"
        ) from exc
    return torch


def library(name: str) -> Any:
    """Import an untyped model library (diffusers, transformers) as ``Any`` for strict typing."""
    require_torch()
    return importlib.import_module(name)


@dataclass(frozen=True)
class Placement:
    """Where a pipeline runs.

    Attributes:
        device: ``cuda``, ``cuda:1``, ``mps`` or ``cpu``.
        dtype: ``float16``, ``bfloat16`` or ``float32``.
    """

    device: str
    dtype: str


_DTYPES = ("float16", "bfloat16", "float32")


def choose_placement(device: str | None = None, dtype: str | None = None) -> Placement:
    """Pick the device (cuda, then mps, then cpu) and its usual dtype, unless given.

    CUDA and MPS run in float16 (half the memory, tensor cores); the CPU in float32, because
    half precision is slow or unsupported in many CPU kernels.

    Raises:
        InvalidInputError: ``dtype`` is not one of float16, bfloat16, float32.
        ConfigurationError: The named device is not available here.
    """
    torch = require_torch()
    if dtype is not None and dtype not in _DTYPES:
        raise InvalidInputError(f"dtype must be one of {', '.join(_DTYPES)}, not {dtype!r}")
    if device is None:
        if torch.cuda.is_available():
            device = "cuda"
        elif getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            device = "mps"
        else:
            device = "cpu"
    elif device.startswith("cuda") and not torch.cuda.is_available():
        raise ConfigurationError("device 'cuda' was asked for but torch sees no CUDA GPU")
    elif device == "mps" and not torch.backends.mps.is_available():
        raise ConfigurationError("device 'mps' was asked for but torch sees no Apple GPU")
    return Placement(device, dtype or ("float32" if device == "cpu" else "float16"))


def load_pipeline(
    model: str | Path,
    *,
    allow_download: bool = False,
    device: str | None = None,
    dtype: str | None = None,
) -> tuple[Any, Placement]:
    """Load a Stable Diffusion (1.x/2.x family) text-to-image pipeline by path or hub id.

    Args:
        model: A local folder written by ``save_pretrained`` or a hub id.
        allow_download: Let ``from_pretrained`` fetch missing files from the hub; by default
            only local files (a folder, or the local hub cache) are used.
        device: See :func:`choose_placement`.
        dtype: See :func:`choose_placement`.

    Raises:
        ModelNotAvailableError: The model is not available offline, or torch is missing.
        ConfigurationError: The model is not a Stable Diffusion-family pipeline.
    """
    torch = require_torch()
    diffusers = library("diffusers")

    placement = choose_placement(device, dtype)
    try:
        pipeline = diffusers.StableDiffusionPipeline.from_pretrained(
            str(model),
            local_files_only=not allow_download,
            dtype=getattr(torch, placement.dtype),
            safety_checker=None,
            requires_safety_checker=False,
        )
    except (OSError, ValueError) as exc:
        how = "" if allow_download else " (offline: pass --allow-download to fetch it)"
        raise ModelNotAvailableError(f"cannot load diffusion model {model!r}{how}: {exc}") from exc
    for part in ("tokenizer", "text_encoder", "unet", "vae", "scheduler"):
        if getattr(pipeline, part, None) is None:
            raise ConfigurationError(f"{model!r} is not a Stable Diffusion pipeline: no {part}")
    pipeline = pipeline.to(placement.device)
    pipeline.set_progress_bar_config(disable=True)
    logger.debug("loaded %s on %s/%s", model, placement.device, placement.dtype)
    return pipeline, placement


__all__ = [
    "EXTRA_HINT",
    "Placement",
    "choose_placement",
    "library",
    "load_pipeline",
    "require_torch",
]
