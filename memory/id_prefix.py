"""Ids given by a prefix, as git takes them: what listings show names the item.

Listings cut ids short (12 characters), so commands that take an id (``memory edit``,
``keys revoke``...) accept a prefix of one, resolved by :func:`match_id_prefix`.
"""

from __future__ import annotations

from collections.abc import Mapping

from confidante.errors import InvalidInputError, NotFoundError

#: The shortest id prefix that names an item (listings show 12 characters): shorter ones would
#: soon match several items, and a typo in one would pick the wrong item too easily.
MIN_ID_PREFIX = 6


def match_id_prefix(
    prefix: str, candidates: Mapping[str, str], *, what: str, where: str = ""
) -> str:
    """Return the one id in ``candidates`` that is ``prefix`` or starts with it, as git does.

    Listings cut ids short, so commands accept what they show. An exact id always wins (ids
    given at import may be short); otherwise the prefix needs :data:`MIN_ID_PREFIX` characters
    and must name exactly one candidate.

    Args:
        prefix: What the user typed.
        candidates: Ids to choose from (at least those starting with ``prefix``), each with a
            short label shown when the prefix is ambiguous.
        what: What the ids name, for messages ("memory", "API key").
        where: Appended to "not found" messages (" for this user").

    Raises:
        NotFoundError: Nothing matches, or the prefix is too short to be trusted.
        InvalidInputError: Several ids start with the prefix (the message lists them).
    """
    if prefix in candidates:
        return prefix
    matches = sorted(item for item in candidates if prefix and item.startswith(prefix))
    if not matches:
        raise NotFoundError(f"no {what} {prefix!r}{where}")
    if len(prefix) < MIN_ID_PREFIX:
        raise NotFoundError(
            f"no {what} {prefix!r}{where}: give at least {MIN_ID_PREFIX} characters of its id"
        )
    if len(matches) > 1:
        listed = "\n".join(f"  {item}  {candidates[item][:60]}" for item in matches[:10])
        more = "\n  ..." if len(matches) > 10 else ""
        raise InvalidInputError(
            f"{what} id {prefix!r} is ambiguous (give more characters); it starts:\n{listed}{more}"
        )
    return matches[0]
