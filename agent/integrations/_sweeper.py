"""A background thread that sweeps a store's expired items, as LangGraph's stores offer."""

from __future__ import annotations

import logging
import threading
from typing import Any

logger = logging.getLogger(__name__)

__all__ = ["TTLSweeper"]


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
