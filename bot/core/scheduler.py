"""Who gets the GPU next: round-robin across spaces, a per-space budget, delayed retries, and
the learned screen's offers when certain work leaves a slot free.

One server's spam flood fills only its own queue; every other space with work still gets
its turn on the next free slot. A space over its budget waits, its certain work is never dropped.
Offers (messages no keyword selected, scored by the learned screen) are optional work: they run
only when no certain job can, highest score first, within each space's budget; each space keeps
at most `offers_per_space` of them and drops them after `offer_max_age_s`, counting what it drops.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.aio import wait_event
from bot.core.messages import IncomingMessage


@dataclass(frozen=True, slots=True)
class Offer:
    """A message the screen scored for one policy; it becomes a job only if a slot takes it."""

    score: float
    message: IncomingMessage
    policy_id: str
    policy_version: int
    policy_hash: str


@dataclass(order=True, slots=True)
class _Held:
    score: float
    seq: int  # equal scores: the newer first
    added: float = field(compare=False)
    offer: Offer = field(compare=False)


@dataclass
class OfferStats:
    offered: int = 0
    taken: int = 0
    dropped_stale: int = 0  # waited longer than offer_max_age_s
    dropped_full: int = 0  # pushed out by higher scores when the space's list was full


@dataclass
class _Bucket:
    """Token bucket: `per_minute` model calls a minute, bursts up to a quarter of that.

    Only real model calls are charged (cache hits are free), so a flood of one text costs
    its space one token, not one per copy.
    """

    per_minute: int
    tokens: float
    updated: float

    def _refill(self, now: float) -> None:
        rate = self.per_minute / 60.0
        burst = max(1.0, self.per_minute / 4)
        self.tokens = min(burst, self.tokens + (now - self.updated) * rate)
        self.updated = now

    def wait(self, now: float) -> float:
        """0 when a call may start now, else seconds until the bucket allows one."""
        self._refill(now)
        if self.tokens >= 1.0:
            return 0.0
        return (1.0 - self.tokens) / (self.per_minute / 60.0)

    def spare(self, now: float) -> bool:
        """Whether a call may start now and still leave a reserve for certain work (an eighth of
        the minute's budget): optional checks never take the token a real flag then waits for."""
        self._refill(now)
        return self.tokens >= 1.0 + self.per_minute / 8

    def charge(self, now: float) -> None:
        self._refill(now)
        self.tokens -= 1.0


@dataclass(order=True)
class _Delayed:
    ready_at: float
    seq: int
    space_id: str = field(compare=False)
    job_id: int = field(compare=False)


class FairScheduler:
    def __init__(
        self,
        budget_for: Callable[[str], int],
        clock: Callable[[], float] = time.monotonic,
        offers_per_space: int = 256,
        offer_max_age_s: float = 120.0,
    ) -> None:
        self._budget_for = budget_for
        self._clock = clock
        self._offers: dict[str, list[_Held]] = {}  # ascending: the best is last
        self.offers_per_space = offers_per_space
        self.offer_max_age_s = offer_max_age_s
        self.offer_stats = OfferStats()
        self._queues: OrderedDict[str, deque[int]] = OrderedDict()  # round-robin order
        self._delayed: list[_Delayed] = []
        self._buckets: dict[str, _Bucket] = {}
        self._queued: set[int] = set()
        self._seq = 0
        self._wakeup = asyncio.Event()

    def __len__(self) -> int:
        """Certain jobs waiting (offers are optional work: see `offered`)."""
        return len(self._queued)

    def offered(self) -> int:
        """Offers waiting (bounded by offers_per_space per space)."""
        return sum(len(held) for held in self._offers.values())

    def depth(self, space_id: str) -> int:
        return len(self._queues.get(space_id, ()))

    def put(self, space_id: str, job_id: int, delay_s: float = 0.0) -> None:
        if job_id in self._queued:
            return  # already waiting: a redelivery must not double the work
        self._queued.add(job_id)
        if delay_s > 0:
            self._seq += 1
            heapq.heappush(self._delayed, _Delayed(self._clock() + delay_s, self._seq, space_id, job_id))
        else:
            self._queue_for(space_id).append(job_id)
        self._wakeup.set()

    def offer(self, space_id: str, offer: Offer) -> None:
        """Optional work for a free slot; the lowest-scored goes when the space's list is full."""
        self._seq += 1
        held = self._offers.setdefault(space_id, [])
        bisect.insort(held, _Held(offer.score, self._seq, self._clock(), offer))
        self.offer_stats.offered += 1
        if len(held) > self.offers_per_space:
            del held[0]
            self.offer_stats.dropped_full += 1
        self._wakeup.set()

    def _queue_for(self, space_id: str) -> deque[int]:
        queue = self._queues.get(space_id)
        if queue is None:
            # A space that just became active was not served lately: it goes first, ahead of
            # a flooding space that the round-robin has only moved to the back.
            queue = self._queues[space_id] = deque()
            self._queues.move_to_end(space_id, last=False)
        return queue

    def _promote_due(self, now: float) -> float | None:
        while self._delayed and self._delayed[0].ready_at <= now:
            item = heapq.heappop(self._delayed)
            self._queue_for(item.space_id).append(item.job_id)
        return self._delayed[0].ready_at - now if self._delayed else None

    def _bucket(self, space_id: str, now: float) -> _Bucket:
        bucket = self._buckets.get(space_id)
        if bucket is None:
            per_minute = max(1, self._budget_for(space_id))
            bucket = self._buckets[space_id] = _Bucket(per_minute, per_minute / 4, now)
        return bucket

    def _next(self, now: float) -> tuple[str, int | Offer] | float | None:
        """The next (space, job or offer), or seconds to wait, or None when there is nothing at all."""
        wait = self._promote_due(now)
        for space_id in list(self._queues):
            queue = self._queues[space_id]
            if not queue:
                del self._queues[space_id]
                continue
            over = self._bucket(space_id, now).wait(now)
            if over > 0:
                wait = over if wait is None else min(wait, over)
                continue
            job_id = queue.popleft()
            # Move this space to the back of the round-robin order.
            self._queues.move_to_end(space_id)
            if not queue:
                del self._queues[space_id]
            self._queued.discard(job_id)
            return space_id, job_id
        return self._best_offer(now, wait)

    def _best_offer(self, now: float, wait: float | None) -> tuple[str, Offer] | float | None:
        """No certain job can run now: the highest-scored fresh offer of a space within budget."""
        best: tuple[float, str] | None = None
        for space_id in list(self._offers):
            held = self._offers[space_id]
            fresh = [h for h in held if now - h.added <= self.offer_max_age_s]
            self.offer_stats.dropped_stale += len(held) - len(fresh)
            if not fresh:
                del self._offers[space_id]
                continue
            self._offers[space_id] = fresh
            bucket = self._bucket(space_id, now)
            if not bucket.spare(now):
                over = bucket.wait(now)
                if over > 0:  # (a bucket that refills but keeps its reserve is not waited for)
                    wait = over if wait is None else min(wait, over)
            elif best is None or fresh[-1].score > best[0]:
                best = (fresh[-1].score, space_id)
        if best is None:
            return wait
        held = self._offers[best[1]]
        taken = held.pop()
        if not held:
            del self._offers[best[1]]
        self.offer_stats.taken += 1
        return best[1], taken.offer

    def poll(self) -> tuple[str, int | Offer] | None:
        """The next job or offer if one may run now, else None (never waits)."""
        got = self._next(self._clock())
        return got if isinstance(got, tuple) else None

    async def get(self) -> tuple[str, int | Offer]:
        """Wait for the next job (or, when no job can run, the best offer), fairly across spaces."""
        while True:
            got = self._next(self._clock())
            if isinstance(got, tuple):
                return got
            self._wakeup.clear()
            await wait_event(self._wakeup, got)

    def charge(self, space_id: str) -> None:
        """Count one model call against the space's budget."""
        bucket = self._buckets.get(space_id)
        if bucket is not None:
            bucket.charge(self._clock())
            if bucket.tokens < 1.0:
                self._wakeup.set()  # let waiting workers re-plan around this space

    def budget_changed(self, space_id: str) -> None:
        """Forget the space's bucket so its new budget applies from the next job."""
        self._buckets.pop(space_id, None)
