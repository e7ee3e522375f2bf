"""Image concepts: what an image embedder is, and how an image is read and checked.

An image concept is a memory item of kind ``image``: its text is the image's caption (so it is
found by text like any item, with the text embedder), its file is kept under the memory's image
folder (:mod:`confidante.memory.storage.files`), and — when the memory has an
:class:`ImageEmbedder` — its image embedding is stored too, so it can also be found by an image, or
by text through the image model's text tower.

Image embedders, chosen by the ``image_embedder`` setting:

- none (default): captions only; retrieving by an image needs an image embedder.
- ``clip:PATH_OR_ID``: a CLIP checkpoint loaded with ``transformers`` from a local folder (or
  the local hub cache; nothing is downloaded), ``pip install 'confidante[minilm]'``.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Sequence
from os import PathLike
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np
from PIL import Image, UnidentifiedImageError

from confidante.errors import InvalidInputError, ModelNotAvailableError
from confidante.memory.embeddings.text import Vectors, normalise
from confidante.memory.items import shown

if TYPE_CHECKING:
    pass

#: What callers may pass as an image: a PIL image, encoded bytes or a file path.
ImageInput = Image.Image | bytes | str | Path
MAX_IMAGE_BYTES = 50 << 20
MAX_IMAGE_PIXELS = 40_000_000
IMAGE_KIND = "image"


@runtime_checkable
class ImageEmbedder(Protocol):
    """Embeds images and texts into one space (L2-normalised float32 rows).

    Attributes:
        name: A stable identifier stored next to each vector.
        dim: Vector dimension.
    """

    name: str
    dim: int

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        """Embed images; returns an array of shape ``(len(images), dim)``."""
        ...

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        """Embed texts into the images' space; returns ``(len(texts), dim)``."""
        ...


class ClipImageEmbedder:
    """A CLIP model from ``transformers``, loaded lazily from a path or the local hub cache.

    Args:
        model: A folder holding a CLIP checkpoint, or a hub id already in the local cache.
        allow_download: Let ``from_pretrained`` fetch a missing model (off: nothing downloads).
    """

    def __init__(self, model: str, *, allow_download: bool = False) -> None:
        self.model = model
        self.name = f"clip:{model}"[:100]
        self.allow_download = allow_download
        self._lock = threading.Lock()
        self._loaded: tuple[Any, Any] | None = None
        self.dim = 0

    def _load(self) -> tuple[Any, Any]:
        with self._lock:
            if self._loaded is None:
                try:
                    from transformers import CLIPModel, CLIPProcessor
                except ImportError as exc:
                    raise ModelNotAvailableError(
                        "the CLIP image embedder needs torch and transformers: "
                        "pip install 'confidante[minilm]'"
                    ) from exc
                local = not self.allow_download
                try:
                    model: Any = CLIPModel.from_pretrained(self.model, local_files_only=local)
                    model.eval()
                    processor = CLIPProcessor.from_pretrained(self.model, local_files_only=local)
                except OSError as exc:
                    raise ModelNotAvailableError(
                        f"no CLIP model at {self.model!r}: set CONFIDANTE_IMAGE_EMBEDDER="
                        "clip:/path/to/a/clip/folder (nothing is downloaded)"
                    ) from exc
                self.dim = int(model.config.projection_dim)
                self._loaded = (model, processor)
            return self._loaded

    def embed_images(self, images: Sequence[Image.Image]) -> Vectors:
        """Embed images with the vision tower and projection."""
        model, processor = self._load()
        inputs = processor(images=[image.convert("RGB") for image in images], return_tensors="pt")
        return self._run(model.get_image_features, inputs)

    def embed_texts(self, texts: Sequence[str]) -> Vectors:
        """Embed texts with the text tower and projection (truncated to the model's length)."""
        model, processor = self._load()
        inputs = processor(text=list(texts), return_tensors="pt", padding=True, truncation=True)
        return self._run(model.get_text_features, inputs)

    @staticmethod
    def _run(features: Any, inputs: Any) -> Vectors:
        import torch

        with torch.inference_mode():
            output = features(**inputs)
        tensor = getattr(output, "pooler_output", output)  # transformers 5 returns an output
        return normalise(np.asarray(tensor.float().numpy(), dtype=np.float32))


def build_image_embedder(spec: str | None) -> ImageEmbedder | None:
    """Return the image embedder a setting names (None for captions only)."""
    if not spec or spec == "caption":
        return None
    if spec.startswith("clip:") and len(spec) > len("clip:"):
        return ClipImageEmbedder(spec.removeprefix("clip:"))
    raise InvalidInputError(f"unknown image embedder {spec!r}; use clip:PATH or leave it unset")


def load_image(image: ImageInput) -> Image.Image:
    """Open and check an image (``InvalidInputError`` for anything that is not one).

    The size is read from the file's header and checked before any pixel is decoded: a PNG of
    a few hundred kilobytes can hold 13000x13000 pixels, hundreds of megabytes once decoded.
    """
    if isinstance(image, Image.Image):
        _check_size(image.size)
        return image.convert("RGB")
    data = _image_bytes(image)
    try:
        # Lazy: reads the header only. PIL's own bomb check runs here: an error above twice
        # its limit, a warning above it (an error too where warnings are errors).
        opened = Image.open(io.BytesIO(data))
        _check_size(opened.size)
        opened.verify()
        opened = Image.open(io.BytesIO(data))
        opened.load()
        return opened.convert("RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise InvalidInputError(
            f"the image has too many pixels to decode (at most {MAX_IMAGE_PIXELS:,}): {exc}"
        ) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInputError(f"not a readable image: {exc}") from exc


def _image_bytes(image: bytes | str | PathLike[str]) -> bytes:
    """Return the encoded image a caller passed (bytes, or a file's), at most 50 MB."""
    if isinstance(image, bytes):
        data = image
    else:
        if not isinstance(image, str | PathLike):
            raise InvalidInputError("an image must be a PIL image, bytes or a file path")
        path = Path(image)
        try:
            if not path.is_file():
                raise InvalidInputError(f"no image file at {shown(str(path))}")
            if path.stat().st_size > MAX_IMAGE_BYTES:
                raise InvalidInputError("the image is larger than 50 MB")
            data = path.read_bytes()
        except OSError as exc:  # a name too long, a folder we may not read...
            raise InvalidInputError(
                f"cannot read the image file: {shown(exc.strerror or str(exc))}"
            ) from exc
    if len(data) > MAX_IMAGE_BYTES:
        raise InvalidInputError("the image is larger than 50 MB")
    return data


def _check_size(size: tuple[int, int]) -> None:
    """Refuse an empty image or one of more than :data:`MAX_IMAGE_PIXELS` pixels."""
    width, height = size
    if width < 1 or height < 1:
        raise InvalidInputError(f"image size {width}x{height} is empty")
    if width * height > MAX_IMAGE_PIXELS:
        raise InvalidInputError(
            f"image size {width}x{height} ({width * height:,} pixels) is over the limit of"
            f" {MAX_IMAGE_PIXELS:,} pixels"
        )
