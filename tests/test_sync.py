"""The sync twins: one background loop, and a clear error instead of a deadlock."""

from __future__ import annotations

import asyncio

import pytest

from confidante._sync import _background_loop, run_sync, sync_twin
from confidante.errors import ConfidanteError


class Counter:
    """A tiny class with an async core and its sync twin, as the package's classes have."""

    def __init__(self) -> None:
        self.count = 0

    async def abump(self) -> int:
        self.count += 1
        return self.count

    async def abump_twice_badly(self) -> int:
        """Calls the sync twin from inside a coroutine the sync twin runs: the deadlock case."""
        return self.bump() + self.bump()

    bump = sync_twin(abump)
    bump_twice_badly = sync_twin(abump_twice_badly)


def test_a_sync_twin_runs_on_one_long_lived_loop() -> None:
    counter = Counter()
    assert [counter.bump(), counter.bump()] == [1, 2]
    assert run_sync(asyncio.sleep(0, result="same")) == "same"
    assert _background_loop() is _background_loop()


def test_a_sync_twin_called_on_its_own_loop_raises_instead_of_hanging() -> None:
    counter = Counter()
    with pytest.raises(ConfidanteError, match="await its async twin"):
        counter.bump_twice_badly()
    assert counter.count == 0  # the inner call never ran
    assert counter.bump() == 1  # and the loop is still alive


def test_a_sync_twin_works_from_a_foreign_running_loop() -> None:
    counter = Counter()

    async def caller() -> int:
        return counter.bump()  # blocks this loop's thread, but the work runs on the other one

    assert asyncio.run(caller()) == 1
