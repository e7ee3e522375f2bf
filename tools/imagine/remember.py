"""The one place where a chosen picture enters the user's memory as an image concept."""

from __future__ import annotations

import logging
from typing import Any

from PIL import Image

from confidante.memory.store import Memory

logger = logging.getLogger(__name__)


async def remember_picture(
    memory: Memory,
    user_id: str,
    image: Image.Image,
    *,
    caption: str,
    attributes: dict[str, Any],
) -> str | None:
    """Store ``image`` as one of the user's image concepts; return its id.

    The memory keeps the file under its data directory and deletes it with ``forget_user``.
    Returns None, with a warning, on a memory without image concepts.
    """
    remember_image = getattr(memory, "aremember_image", None)
    if remember_image is None:
        # TODO(image concepts): remove once every Memory has aremember_image.
        logger.warning("this memory cannot store image concepts; the picture was not remembered")
        return None
    item_id: str = await remember_image(
        user_id,
        image,
        caption=caption,
        importance=0.6,
        provenance=["imagine"],
        attributes=attributes,
    )
    return item_id


__all__ = ["remember_picture"]
