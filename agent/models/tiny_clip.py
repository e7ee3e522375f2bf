"""A tiny random-weight CLIP, built locally, for tests and offline examples.

It has the file layout of a real CLIP checkpoint (``CLIPModel`` weights, a byte-level BPE
``CLIPTokenizer`` and a ``CLIPImageProcessor``), so code that loads a real model by path loads
it through the same ``from_pretrained`` calls. Its embeddings carry no meaning: it proves code
paths, never quality. Nothing is downloaded; it needs ``torch`` and ``transformers``
(``pip install 'confidante[minilm]'``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from confidante.errors import ModelNotAvailableError

#: Special tokens of a CLIP tokenizer.
START, END = "<|startoftext|>", "<|endoftext|>"


def byte_alphabet() -> list[str]:
    """Return the 256 printable characters that byte-level BPE uses for the bytes 0-255."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAD), *range(0xAE, 0x100)]
    chars: dict[int, str] = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return [chars[b] for b in range(256)]


def tiny_bpe_vocab() -> dict[str, int]:
    """Return the vocabulary of a character-level CLIP BPE.

    Every byte is a token, alone and as a word end (``</w>``); with no merges, any text
    tokenizes, one token per byte.
    """
    alphabet = byte_alphabet()
    tokens = [*alphabet, *(char + "</w>" for char in alphabet), START, END]
    return {token: i for i, token in enumerate(tokens)}


def tiny_clip_tokenizer() -> Any:
    """Return a character-level ``CLIPTokenizer`` over :func:`tiny_bpe_vocab` (77 tokens max)."""
    try:
        from transformers import CLIPTokenizer
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ModelNotAvailableError(
            "the tiny CLIP tokenizer needs transformers: pip install 'confidante[minilm]'"
        ) from exc
    return CLIPTokenizer(
        vocab=tiny_bpe_vocab(),
        merges=[],
        bos_token=START,
        eos_token=END,
        pad_token=END,
        unk_token=END,
        model_max_length=77,  # as a real CLIP's: longer texts are truncated, not refused
    )


def build_tiny_clip(folder: Path, *, seed: int = 0, dim: int = 32, image_size: int = 32) -> Path:
    """Build and save a tiny random-weight CLIP (model, tokenizer, image processor) in ``folder``.

    Args:
        folder: Where to save it (``from_pretrained(folder)`` loads it back).
        seed: Seed of the random weights.
        dim: Hidden size and projection dimension.
        image_size: Input image side in pixels.

    Returns:
        ``folder``.
    """
    try:
        import torch
        from transformers import (
            CLIPConfig,
            CLIPImageProcessor,
            CLIPModel,
            CLIPProcessor,
        )
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        raise ModelNotAvailableError(
            "the tiny CLIP needs torch and transformers: pip install 'confidante[minilm]'"
        ) from exc
    vocab = tiny_bpe_vocab()
    vocab_size = len(vocab)
    torch.manual_seed(seed)
    small = {"hidden_size": dim, "intermediate_size": 2 * dim, "num_attention_heads": 2}
    config = CLIPConfig(
        text_config={
            **small,
            "vocab_size": vocab_size,
            "num_hidden_layers": 1,
            "max_position_embeddings": 77,
            "bos_token_id": vocab_size - 2,
            "eos_token_id": vocab_size - 1,
            "pad_token_id": vocab_size - 1,
        },
        vision_config={
            **small,
            "num_hidden_layers": 1,
            "image_size": image_size,
            "patch_size": image_size // 4,
        },
        projection_dim=dim,
    )
    model: Any = CLIPModel(config)
    model.eval().save_pretrained(folder)
    tokenizer = tiny_clip_tokenizer()
    processor = CLIPImageProcessor(
        size={"shortest_edge": image_size}, crop_size={"height": image_size, "width": image_size}
    )
    bundle: Any = CLIPProcessor
    bundle(image_processor=processor, tokenizer=tokenizer).save_pretrained(folder)
    return folder
