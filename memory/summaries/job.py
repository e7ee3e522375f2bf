"""The batch job that keeps offline summaries fresh: users × tasks, resumable, multi-worker.

For each user (every user, or the ones given) the job claims the user, then for each task
compares the stored summary's watermark with the user's current one, skips fresh summaries and
generates stale or missing ones. Each summary is committed as soon as it is written, so a job
that is killed and restarted redoes nothing it finished: those summaries are fresh.

Claiming, so that several workers can share one database:

- **PostgreSQL**: a worker claims a user by locking the user's row
  (``SELECT id FROM users WHERE id = :u FOR UPDATE SKIP LOCKED``) on a connection of its own,
  held while it works on that user and rolled back afterwards. Another worker skips a locked
  user (reported ``busy``) instead of waiting, and a worker that dies releases its locks with
  its connection: no lease, no cleanup. Freshness is checked after the claim, so a user that
  another worker has just finished is skipped as ``fresh``. ``forget_user`` waits for the lock,
  so it also deletes summaries written while it waited.
- **SQLite** (one machine, usually one worker): the simple path, no claim. Two workers on one
  file may now and then both write the same summary; the second upsert wins and both are valid,
  so the cost is one extra model call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Literal

from langchain_core.language_models import BaseChatModel
from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, Field
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import Connection
from sqlmodel import Session, col, select

from confidante._sync import sync_twin
from confidante.errors import ConfidanteError
from confidante.memory.storage.database import Database
from confidante.memory.storage.records import UserRecord
from confidante.memory.store import Memory, check_user_id
from confidante.memory.summaries.generate import generate_summary
from confidante.memory.summaries.store import read_summary
from confidante.memory.summaries.tasks import TASKS, check_task
from confidante.memory.sweep import SweepReport
from confidante.usage import UsageRecorder, kind_tag

if TYPE_CHECKING:
    from confidante.usage_log import UsageLog

logger = logging.getLogger(__name__)

#: Opens a progress display: ``bar(label, total)`` yields ``advance(count, detail)``
#: (``confidante.cli.progress.progress`` is one: a bar on a terminal, plain lines elsewhere).
ProgressBar = Callable[[str, int], AbstractContextManager[Callable[[int, str], None]]]

Status = Literal["generated", "fresh", "empty", "busy", "failed"]
STATUSES: tuple[Status, ...] = ("generated", "fresh", "empty", "busy", "failed")


class SummaryOutcome(BaseModel):
    """What the job did for one user and task.

    Attributes:
        user_id: The user.
        task: The task.
        status: ``generated``; ``fresh`` (up to date, skipped); ``empty`` (no data for the
            task, any old summary deleted); ``busy`` (claimed by another worker); ``failed``.
        text: The new summary, when generated.
        error: Why it failed.
    """

    user_id: str
    task: str
    status: Status
    text: str | None = None
    error: str | None = None


class JobReport(BaseModel):
    """What one run of :class:`SummaryJob` did, one outcome per user and task."""

    outcomes: list[SummaryOutcome] = Field(default_factory=list)
    swept: SweepReport | None = None

    def count(self, status: Status) -> int:
        """Return how many outcomes have ``status``."""
        return sum(1 for outcome in self.outcomes if outcome.status == status)

    def totals(self) -> dict[str, int]:
        """Return the number of outcomes per status."""
        return {status: self.count(status) for status in STATUSES}


async def list_user_ids(database: Database) -> list[str]:
    """Return the id of every user in the database, sorted."""

    def read(session: Session) -> list[str]:
        return list(session.exec(select(UserRecord.id).order_by(col(UserRecord.id))).all())

    return await database.run(read, write=False)


def _release(connection: Connection) -> None:
    connection.rollback()
    connection.close()


@contextlib.asynccontextmanager
async def claim_user(database: Database, user_id: str) -> AsyncIterator[bool]:
    """Claim a user for this worker while the context is open; yields False if taken.

    On PostgreSQL the user's row is locked with ``FOR UPDATE SKIP LOCKED`` on a dedicated
    connection until the context exits (or the process dies). On SQLite every claim succeeds.
    """
    if not database.ops.skip_locked:
        yield True
        return
    connection = await asyncio.to_thread(database.engine.connect)
    try:
        row = select(UserRecord.id).where(UserRecord.id == user_id)

        def lock() -> bool:
            if connection.execute(row.with_for_update(skip_locked=True)).first() is not None:
                return True
            return connection.execute(row).first() is None  # no row: nothing to contend for

        yield await asyncio.to_thread(lock)
    finally:
        await asyncio.to_thread(_release, connection)


class SummaryJob:
    """Generate the stale or missing summaries of some users for some tasks.

    Args:
        memory: The memory whose users are summarised.
        model: The chat model that writes the summaries.
        users: Users to summarise (default: every user).
        tasks: Tasks to summarise (default: all of
        :data:`~confidante.memory.summaries.tasks.TASKS`). force: Regenerate fresh summaries too.
        progress: Show a progress bar over users × tasks on ``console`` (a rich bar, drawn
            at the end only when ``console`` is no terminal), or report it to this
            :data:`ProgressBar`.
        console: Where the progress bar goes (default: stderr).
        retries: Extra model calls allowed per summary when its output does not validate.
        sweep: First erase expired items and, with ``keep_turns_days``, raw turns past their
            retention (:meth:`~confidante.memory.sweep.MemorySweep.asweep`, over the job's
            users), so no summary is written from them; the report's ``swept`` says what went.
        keep_turns_days: How many days raw turns are kept (None: forever).
        usage_log: Where each summary's model calls are logged, under the user and the kind
            ``summary`` (``confidante summarize`` passes the memory database's
            :class:`~confidante.usage_log.UsageLog`; None: not logged). A failed summary's
            calls are logged too: they were made.

    Example:
        >>> report = SummaryJob(memory, model, tasks=["chat"]).run()  # doctest: +SKIP
        >>> report.totals()  # doctest: +SKIP
        {'generated': 2, 'fresh': 0, 'empty': 0, 'busy': 0, 'failed': 0}
    """

    def __init__(
        self,
        memory: Memory,
        model: BaseChatModel,
        *,
        users: Sequence[str] | None = None,
        tasks: Sequence[str] | None = None,
        force: bool = False,
        progress: bool | ProgressBar = False,
        console: Console | None = None,
        retries: int = 1,
        sweep: bool = True,
        keep_turns_days: float | None = None,
        usage_log: UsageLog | None = None,
    ) -> None:
        self.memory = memory
        self.model = model
        self.users = [check_user_id(user) for user in dict.fromkeys(users or ())]
        self.tasks = [check_task(task) for task in dict.fromkeys(tasks or TASKS)]
        self.force = force
        self.progress = progress
        self.console = console
        self.retries = retries
        self.sweep = sweep
        self.keep_turns_days = keep_turns_days
        self.usage_log = usage_log

    async def arun(self) -> JobReport:
        """Run the job and report what it did for each user and task.

        A model failure on one summary is reported (``failed``) and the job goes on; any other
        error stops the job, and a rerun resumes where it stopped.
        """
        report = JobReport()
        if self.sweep:
            report.swept = await self.memory.asweep(
                keep_turns_days=self.keep_turns_days, users=self.users or None
            )
        users = self.users or await list_user_ids(self.memory.database)
        with self._progress_bar(len(users) * len(self.tasks)) as advance:
            for user_id in users:
                async with claim_user(self.memory.database, user_id) as claimed:
                    for task in self.tasks:
                        if claimed:
                            outcome = await self._summarise(user_id, task)
                        else:
                            outcome = SummaryOutcome(user_id=user_id, task=task, status="busy")
                        report.outcomes.append(outcome)
                        advance(f"{user_id}/{task}")
        return report

    run = sync_twin(arun)

    async def _summarise(self, user_id: str, task: str) -> SummaryOutcome:
        if not self.force:
            current = await read_summary(self.memory.database, user_id, task)
            if current is not None and not current.stale:
                return SummaryOutcome(user_id=user_id, task=task, status="fresh")
        recorder = UsageRecorder()
        config = RunnableConfig(callbacks=[recorder], tags=[kind_tag("summary")])
        try:
            view = await generate_summary(
                self.memory, self.model, user_id, task, retries=self.retries, config=config
            )
        except ConfidanteError as exc:
            logger.warning("summary %s/%s failed: %s", user_id, task, type(exc).__name__)
            await self._log_usage(user_id, recorder)
            return SummaryOutcome(user_id=user_id, task=task, status="failed", error=str(exc))
        await self._log_usage(user_id, recorder)
        if view is None:
            return SummaryOutcome(user_id=user_id, task=task, status="empty")
        return SummaryOutcome(user_id=user_id, task=task, status="generated", text=view.text)

    async def _log_usage(self, user_id: str, recorder: UsageRecorder) -> None:
        """Close the summary's recorder and log its calls (never fails the job)."""
        if self.usage_log is None:
            recorder.close()
        else:
            await self.usage_log.akeep(user_id, recorder)

    @contextlib.contextmanager
    def _progress_bar(self, total: int) -> Iterator[Callable[[str], None]]:
        if not self.progress:
            yield lambda _label: None
            return
        if callable(self.progress):
            with self.progress("summaries", total) as step:
                yield lambda label: step(1, label)
            return
        columns = (
            TextColumn("summaries"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.fields[current]}"),
        )
        console = self.console or Console(stderr=True)
        with Progress(*columns, console=console) as bar:
            handle = bar.add_task("summaries", total=total, current="")

            def advance(label: str) -> None:
                bar.update(handle, advance=1, current=label)

            yield advance
