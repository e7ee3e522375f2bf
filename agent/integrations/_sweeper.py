"""A background thread that sweeps a store's expired items, as LangGraph's stores offer.

:func:`expired_keys` finds them: expired items are no longer returned by the memory's reads, so
they are looked up by their rows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from confidante.integrations._store_values import ATTRIBUTE, is_expired
from confidante.memory.storage.expiry import has_expired
from confidante.memory.storage.records import Concept

logger = logging.getLogger(__name__)

__all__ = ["TTLSweeper", "expired_keys"]


def expired_keys(
    session: Session, users: Sequence[str], kind: str, now: datetime
) -> list[tuple[str, tuple[str, ...], str]]:
    """The ``(user, namespace, key)`` of the users' current store items expired at ``now``.

    An item has expired when its memory item's ``expires_at`` has passed, or (items stored
    before the memory had expiries) its record's.
    """
    if not users:
        return []
    query = select(Concept).where(
        col(Concept.user_id).in_(list(users)),
        Concept.kind == kind,
        col(Concept.valid_to).is_(None),
    )
    found = []
    for concept in session.exec(query).all():
        record = (concept.attributes or {}).get(ATTRIBUTE)
        if not isinstance(record, dict) or "namespace" not in record:
            continue
        if has_expired(concept.expires_at, now) or is_expired(record, now):
            namespace = tuple(str(label) for label in record["namespace"])
            found.append((concept.user_id, namespace, str(record.get("key"))))
    return found


class TTLSweeper:
    """Adds ``start_ttl_sweeper``/``stop_ttl_sweeper`` to a store that implements ``_sweep()``.

    The store sets ``_sweeper = None`` and ``_stop_sweeping = threading.Event()`` in its
    constructor and has ``ttl_config`` (LangGraph's ``TTLConfig``).
    """

    _sweeper: threading.Thread | None
    _stop_sweeping: threading.Event
    ttl_config: Any

    def _sweep(self) -> int:
        """Forget expired items; returns how many (implemented by the store)."""
        raise NotImplementedError

    def start_ttl_sweeper(self, sweep_interval_minutes: float | None = None) -> None:
        """Sweep expired items in a background thread, every few minutes, until stopped.

        Args:
            sweep_interval_minutes: The period (default: ``ttl={"sweep_interval_minutes"}``,
                else 5).
        """
        if self._sweeper is not None and self._sweeper.is_alive():
            return
        configured = (self.ttl_config or {}).get("sweep_interval_minutes")
        interval = 60.0 * float(sweep_interval_minutes or configured or 5)
        self._stop_sweeping.clear()

        def loop() -> None:
            while not self._stop_sweeping.wait(interval):
                try:
                    swept = self._sweep()
                except Exception:  # a failed sweep must not end the sweeper
                    logger.exception("TTL sweep of the LangGraph store failed")
                    continue
                if swept:
                    logger.info("swept %d expired LangGraph store items", swept)

        self._sweeper = threading.Thread(target=loop, name="confidante-ttl-sweeper", daemon=True)
        self._sweeper.start()

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper thread; returns whether it has stopped (or was not running)."""
        if self._sweeper is None:
            return True
        self._stop_sweeping.set()
        self._sweeper.join(timeout)
        stopped = not self._sweeper.is_alive()
        if stopped:
            self._sweeper = None
        return stopped
