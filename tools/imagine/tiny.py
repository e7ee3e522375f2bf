"""A tiny random-weight Stable Diffusion pipeline (and a tiny CLIP), built here, never downloaded.

They prove the whole code path offline on CPU: :func:`tiny_pipeline_path` builds the pipeline's
components from configs (a UNet with ``block_out_channels=(4, 8)``, a two-block VAE, a CLIP
text encoder with hidden size 32, a DDIM scheduler and the character-level CLIP tokenizer of
:func:`confidante.models.tiny_clip.tiny_clip_tokenizer`), seeds their
weights, and writes them with ``save_pretrained`` into the cache directory. Callers then load
the folder by path through the same ``from_pretrained`` code as a real model. The pictures it
draws are noise: only the mechanics are real.

A tiny CLIP for the scorer is :func:`confidante.models.tiny_clip.build_tiny_clip`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from confidante.models.tiny_clip import tiny_clip_tokenizer
from confidante.tools.imagine.runtime import library, require_torch

#: Bump when the built components change, so cached copies are rebuilt.
TINY_VERSION = 2
TINY_PIPELINE_DIR = f"tiny-sd-v{TINY_VERSION}"
TINY_SIZE = 64


def _text_config(tokenizer: Any, **extra: Any) -> Any:
    return library("transformers").CLIPTextConfig(
        vocab_size=len(tokenizer),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        hidden_size=32,
        intermediate_size=37,
        num_attention_heads=4,
        num_hidden_layers=2,
        max_position_embeddings=77,
        **extra,
    )


def _write_atomically(target: Path, build: Any) -> Path:
    """Build into a temporary sibling folder, then move it into place (safe under races)."""
    if (target / ".complete").exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=target.parent))
    try:
        build(scratch)
        (scratch / ".complete").write_text("ok\n", encoding="utf-8")
        if (target / ".complete").exists():  # another process finished first: keep its copy
            return target
        if target.exists():  # an interrupted build
            shutil.rmtree(target)
        os.replace(scratch, target)
    except OSError:  # pragma: no cover - a concurrent builder may have won the rename
        if not (target / ".complete").exists():
            raise
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
    return target


def _build_pipeline(folder: Path, seed: int) -> None:
    torch = require_torch()
    diffusers = library("diffusers")
    transformers = library("transformers")

    torch.manual_seed(seed)
    tokenizer = tiny_clip_tokenizer()
    unet = diffusers.UNet2DConditionModel(
        block_out_channels=(4, 8),
        layers_per_block=1,
        sample_size=TINY_SIZE // 2,
        in_channels=4,
        out_channels=4,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"),
        up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=32,
        norm_num_groups=2,
    )
    vae = diffusers.AutoencoderKL(
        block_out_channels=[4, 8],
        in_channels=3,
        out_channels=3,
        down_block_types=["DownEncoderBlock2D", "DownEncoderBlock2D"],
        up_block_types=["UpDecoderBlock2D", "UpDecoderBlock2D"],
        latent_channels=4,
        norm_num_groups=2,
        sample_size=TINY_SIZE,
    )
    scheduler = diffusers.DDIMScheduler(
        beta_start=0.00085,
        beta_end=0.012,
        beta_schedule="scaled_linear",
        clip_sample=False,
        set_alpha_to_one=False,
        steps_offset=1,
    )
    text_encoder = transformers.CLIPTextModel(_text_config(tokenizer))
    pipeline = diffusers.StableDiffusionPipeline(
        vae=vae,
        text_encoder=text_encoder,
        tokenizer=tokenizer,
        unet=unet,
        scheduler=scheduler,
        safety_checker=None,
        feature_extractor=None,
        requires_safety_checker=False,
    )
    pipeline.save_pretrained(folder)


def tiny_pipeline_path(cache_dir: str | Path, *, seed: int = 0) -> Path:
    """Return the folder of the tiny random-weight SD pipeline, building it on first use.

    Args:
        cache_dir: Where to keep it (the folder ``imagine/tiny-sd-vN`` inside).
        seed: Seed of its random weights (folders built with another seed are kept apart).
    """
    name = TINY_PIPELINE_DIR if seed == 0 else f"{TINY_PIPELINE_DIR}-seed{seed}"
    target = Path(cache_dir) / "imagine" / name
    return _write_atomically(target, lambda folder: _build_pipeline(folder, seed))


__all__ = ["TINY_SIZE", "tiny_pipeline_path"]
