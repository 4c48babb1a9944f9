"""Where the pipeline's workers get their next job: one port, two queues.

``LocalQueue`` is the embedded one (SQLite, one process): the in-memory ``FairScheduler`` decides
who goes next, the inbox table only keeps the jobs safe. ``SharedQueue`` serves several processes on
one Postgres: the next job is claimed in SQL (fair across spaces and within budgets for every
process at once), leases are fenced, and a verdict is written in the same transaction as the fenced
complete. Screen offers (optional work held in memory) go through the local scheduler in both.
The pipeline calls the port and never asks which backend it runs on.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

from bot.core.scheduler import FairScheduler, Offer
from bot.store import Store
from bot.store.claims import Claim, LeaseLost, SharedQueue
from bot.store.records import Job
from bot.store.workers import Worker

__all__ = ["JobQueue", "Lease", "LeaseLost", "LocalQueue", "SharedJobQueue"]

POLL_S = 1.0  # the fallback when no NOTIFY arrives: due retries, offers, a lost notification


@dataclass(frozen=True, slots=True)
class Lease:
    """A job taken for work; ``claim`` fences it on the shared queue (None on the embedded one)."""

    job: Job
    claim: Claim | None = None


class JobQueue(Protocol):
    def __len__(self) -> int: ...

    def put(self, space_id: str, job_id: int, delay_s: float = 0.0) -> None:
        """A job is on disk and may run after ``delay_s``."""

    async def next(self) -> Lease | Offer | int:
        """What to work on next, waiting until there is something: a leased job, a screen offer,
        or the id of a job to ``take`` (the caller counts itself busy before leasing it)."""

    async def take(self, job_id: int) -> Lease | None:
        """Lease a job by id (an offer just made durable); None when it is not pending."""

    def finishing(self, lease: Lease) -> AbstractAsyncContextManager[None]:
        """A transaction whose body (verdict, case) commits with the job's completion, or not at all
        (``LeaseLost`` when the lease was taken back)."""

    async def complete(self, lease: Lease) -> bool: ...

    async def retry_later(self, lease: Lease, not_before: float, error: str) -> bool: ...

    async def fail(self, lease: Lease, error: str) -> bool: ...

    async def hand_off(self, lease: Lease, reason: str) -> bool:
        """Give the job to a process that has the larger model (False: none can take it)."""

    async def charge(self, space_id: str) -> None:
        """One model call spent from the space's budget."""

    async def recover(self) -> int:
        """At start: jobs a dead process held are pending again; how many are pending."""


class LocalQueue:
    """The embedded queue: FairScheduler in memory, the inbox table on disk."""

    def __init__(self, store: Store, scheduler: FairScheduler) -> None:
        self.store = store
        self.scheduler = scheduler

    def __len__(self) -> int:
        return len(self.scheduler)

    def put(self, space_id: str, job_id: int, delay_s: float = 0.0) -> None:
        self.scheduler.put(space_id, job_id, delay_s)

    async def next(self) -> Lease | Offer | int:
        _space, work = await self.scheduler.get()
        return work

    async def take(self, job_id: int) -> Lease | None:
        if not await self.store.inbox.lease(job_id):
            return None  # done already, or taken by another worker
        job = await self.store.inbox.get(job_id)
        return Lease(job) if job is not None else None

    @asynccontextmanager
    async def finishing(self, lease: Lease) -> AsyncIterator[None]:
        async with self.store.transaction():
            yield
            await self.store.inbox.complete(lease.job.id)

    async def complete(self, lease: Lease) -> bool:
        return await self.store.inbox.complete(lease.job.id)

    async def retry_later(self, lease: Lease, not_before: float, error: str) -> bool:
        return await self.store.inbox.retry_later(lease.job.id, not_before, error)

    async def fail(self, lease: Lease, error: str) -> bool:
        return await self.store.inbox.fail(lease.job.id, error)

    async def hand_off(self, lease: Lease, reason: str) -> bool:
        return False  # one process: there is no other to hand it to

    async def charge(self, space_id: str) -> None:
        self.scheduler.charge(space_id)

    async def recover(self) -> int:
        await self.store.inbox.release_leases()
        pending = await self.store.inbox.pending()
        now = self.store.now()
        for job in pending:
            self.put(job.space_id, job.id, max(0.0, job.not_before - now))
        return len(pending)


class SharedJobQueue:
    """Several processes on one Postgres: claims in SQL, fenced by this process's worker id."""

    def __init__(
        self, queue: SharedQueue, worker: Worker, scheduler: FairScheduler, *, escalations: bool = True
    ) -> None:
        self.queue = queue
        self.worker = worker
        self.scheduler = scheduler  # screen offers only: certain jobs live in the table
        self.escalations = escalations  # False: leave jobs that ask for tier 2 to other processes

    def __len__(self) -> int:
        return len(self.scheduler)

    def put(self, space_id: str, job_id: int, delay_s: float = 0.0) -> None:
        """Nothing to do: the enqueue's NOTIFY (or a retry's not_before) tells every process."""

    async def next(self) -> Lease | Offer | int:
        while True:
            seen = self.worker.wakeups
            claim = await self.queue.claim(self.worker.id, escalations=self.escalations)
            if claim is not None:
                return Lease(claim.job, claim)
            polled = self.scheduler.poll()
            if polled is not None and isinstance(polled[1], Offer):
                return polled[1]
            await self.worker.wait_for_work(seen, POLL_S)

    async def take(self, job_id: int) -> Lease | None:
        claim = await self.queue.claim_job(self.worker.id, job_id)
        return Lease(claim.job, claim) if claim is not None else None

    def finishing(self, lease: Lease) -> AbstractAsyncContextManager[None]:
        return self.queue.finishing(_claim(lease))

    async def complete(self, lease: Lease) -> bool:
        return await self.queue.complete(_claim(lease))

    async def retry_later(self, lease: Lease, not_before: float, error: str) -> bool:
        return await self.queue.retry_later(_claim(lease), not_before, error)

    async def fail(self, lease: Lease, error: str) -> bool:
        return await self.queue.fail(_claim(lease), error)

    async def hand_off(self, lease: Lease, reason: str) -> bool:
        if self.escalations:
            return False  # this process has the larger model: it escalates itself
        if not await self.queue.hand_off(_claim(lease), reason):
            raise LeaseLost(f"job {lease.job.id}")
        return True

    async def charge(self, space_id: str) -> None:
        self.scheduler.charge(space_id)  # offers keep their reserve of the budget
        await self.queue.charge(space_id)

    async def recover(self) -> int:
        await self.worker.reap()  # leases of processes that are gone; live ones keep theirs
        return await self.queue.pending_count()


def _claim(lease: Lease) -> Claim:
    if lease.claim is None:
        raise LeaseLost(f"job {lease.job.id} was not claimed from the shared queue")
    return lease.claim
