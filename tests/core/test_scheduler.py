"""The GPU's queue: fair between spaces, budgets respected, retries delayed, nothing dropped."""

from __future__ import annotations

import asyncio

from bot.core.breaker import CircuitBreaker
from bot.core.scheduler import FairScheduler, Offer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def take(s: FairScheduler, n: int) -> list[tuple[str, int | Offer]]:
    return [await asyncio.wait_for(s.get(), 1) for _ in range(n)]


async def test_round_robin_between_spaces():
    s = FairScheduler(lambda space: 10_000)
    for i in range(50):
        s.put("flood", i)
    s.put("quiet", 100)
    s.put("quiet", 101)
    order = [space for space, _ in await take(s, 6)]
    # The space that became active last was served least lately: it goes first, then turns alternate.
    assert order == ["quiet", "flood", "quiet", "flood", "flood", "flood"]


async def test_redelivered_job_is_queued_once():
    s = FairScheduler(lambda space: 10_000)
    s.put("a", 1)
    s.put("a", 1)
    assert len(s) == 1


async def test_budget_holds_a_space_back_but_never_drops_its_work():
    clock = Clock()
    s = FairScheduler(lambda space: 60 if space == "capped" else 10_000, clock)  # 60 calls/min
    for i in range(20):
        s.put("capped", i)
    got = []
    while True:
        nxt = s._next(clock())
        if not isinstance(nxt, tuple):
            break
        got.append(nxt)
        s.charge("capped")
    assert len(got) == 15  # the burst: a quarter of the minute's budget
    assert isinstance(s._next(clock()), float)  # the rest waits for tokens
    clock.now += 5.0  # five seconds later, five more calls are allowed
    more = 0
    while isinstance(s._next(clock()), tuple):
        more += 1
        s.charge("capped")
    assert more == 5 and len(s) == 0


async def test_cache_hits_are_not_charged():
    clock = Clock()
    s = FairScheduler(lambda space: 4, clock)  # burst of 1
    for i in range(10):
        s.put("a", i)
    served = [s._next(clock()) for _ in range(10)]  # nobody called charge(): all cache hits
    assert all(isinstance(x, tuple) for x in served)


async def test_delayed_retry_comes_back_when_due():
    clock = Clock()
    s = FairScheduler(lambda space: 10_000, clock)
    s.put("a", 1, delay_s=30)
    assert s._next(clock()) == 30.0
    clock.now += 30
    assert s._next(clock()) == ("a", 1)


async def test_breaker_opens_after_repeated_failures_and_one_probe_closes_it():
    b = CircuitBreaker(threshold=3, cooldown_s=0.2)
    for _ in range(3):
        b.failure()
    assert b.is_open
    waiter = asyncio.create_task(b.wait_until_allowed())
    await asyncio.sleep(0.05)
    assert not waiter.done()  # nobody calls the model while it is down
    await asyncio.wait_for(waiter, 1)  # after the cooldown, one probe may go
    second = asyncio.create_task(b.wait_until_allowed())
    await asyncio.sleep(0.05)
    assert not second.done()  # only one probe at a time
    b.success()
    await asyncio.wait_for(second, 1)
    assert not b.is_open
