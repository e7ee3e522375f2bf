"""The one place where a chosen picture enters the user's memory as an image concept."""

from __future__ import annotations

from typing import Any

from PIL import Image

from confidante.memory.store import Memory


async def remember_picture(
    memory: Memory,
    user_id: str,
    image: Image.Image,
    *,
    caption: str,
    attributes: dict[str, Any],
) -> str:
    """Store ``image`` as one of the user's image concepts and return its id.

    The memory keeps the file under its image folder (beside the database, in the user's data
    directory by default) and deletes it with ``forget_user``; with an image embedder it is
    also embedded, so later requests find it by text or by image.
    """
    return await memory.aremember_image(
        user_id,
        image,
        caption=caption,
        importance=0.6,
        provenance=["imagine"],
        attributes=attributes,
    )


__all__ = ["remember_picture"]
