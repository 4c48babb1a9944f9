"""The inbox and outbox as a queue shared by several processes on one Postgres.

Each "process" here is a Store of its own (its own connection pool) and a registered Worker (its own
session, advisory lock and heartbeat), all on one fresh database.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack

import pytest

from bot.store import Store
from bot.store.claims import Claim, LeaseLost, SharedQueue
from bot.store.workers import Worker
from tests.store._helpers import FakeClock, new_job, verdict

Process = tuple[Store, SharedQueue, Worker]
Starter = Callable[[], Awaitable[Process]]


@pytest.fixture
async def processes(pg_url: str, clock: FakeClock) -> AsyncIterator[Starter]:
    async with AsyncExitStack() as stack:

        async def start() -> Process:
            store = await Store.open(pg_url, clock=clock)
            stack.push_async_callback(store.close)
            worker = await store.register_worker(stale_s=5.0)
            stack.push_async_callback(worker.close)
            return store, store.shared_queue(), worker

        yield start


async def _two(processes: Starter) -> tuple[Process, Process]:
    first = await processes()
    second = await processes()
    return first, second


async def _drain(queue: SharedQueue, owner: str) -> list[Claim]:
    taken: list[Claim] = []
    while (claim := await queue.claim(owner)) is not None:
        taken.append(claim)
        await asyncio.sleep(0)  # let the other claimer in between claims
    return taken


async def test_two_claimers_never_get_the_same_job(processes: Starter) -> None:
    (s1, q1, w1), (_s2, q2, w2) = await _two(processes)
    jobs = [new_job(f"m{n}", space_id=f"g{n % 3}") for n in range(60)]
    ids = await s1.inbox.add_many(jobs)

    first, second = await asyncio.gather(_drain(q1, w1.id), _drain(q2, w2.id))

    claimed = [c.job.id for c in first + second]
    assert sorted(claimed) == sorted(ids)  # every job once, none twice
    assert first and second  # both processes took part
    assert (await s1.inbox.counts())["leased"] == 60


async def test_a_fenced_complete_after_the_lease_was_taken_back_writes_nothing(
    processes: Starter, clock: FakeClock
) -> None:
    (s1, q1, w1), (s2, q2, w2) = await _two(processes)
    [job_id] = await s1.inbox.add_many([new_job("m1")])
    paused = await q1.claim(w1.id)
    assert paused is not None and paused.job.id == job_id

    clock.advance(10)  # process 1 hangs (SIGSTOP): no heartbeat for longer than stale_s
    await w2.beat()
    assert await w2.reap() == 1
    retaken = await q2.claim(w2.id)
    assert retaken is not None and retaken.job.id == job_id

    with pytest.raises(LeaseLost):  # process 1 comes back and tries to write its verdict
        async with q1.finishing(paused):
            await s1.verdicts.add(job_id, "g1", "m1", verdict(), shadow=False)
    assert not await q1.complete(paused)
    assert not await q1.retry_later(paused, clock.now + 5, "late")
    assert await s1.verdicts.for_message("g1", "m1") == []

    async with q2.finishing(retaken):
        await s2.verdicts.add(job_id, "g1", "m1", verdict(), shadow=False)
    assert len(await s1.verdicts.for_message("g1", "m1")) == 1
    job = await s1.inbox.get(job_id)
    assert job is not None and job.status == "done"
    await w1.beat()  # the hung process registers again, holding nothing
    assert await q1.claim(w1.id) is None


async def test_a_verdict_write_that_fails_leaves_the_job_leased_to_its_owner(
    processes: Starter,
) -> None:
    (s1, q1, w1), _ = await _two(processes)
    [job_id] = await s1.inbox.add_many([new_job("m1")])
    claim = await q1.claim(w1.id)
    assert claim is not None
    with pytest.raises(RuntimeError):
        async with q1.finishing(claim):
            await s1.verdicts.add(job_id, "g1", "m1", verdict(), shadow=False)
            raise RuntimeError("the case write failed")
    assert await s1.verdicts.for_message("g1", "m1") == []
    assert await q1.complete(claim)  # still ours


async def test_a_dead_processes_leases_come_back(processes: Starter) -> None:
    (s1, q1, w1), (_s2, q2, w2) = await _two(processes)
    await s1.inbox.add_many([new_job("m1"), new_job("m2")])
    assert await q1.claim(w1.id) is not None
    assert await q1.claim(w1.id) is not None
    assert await q2.claim(w2.id) is None

    await w1.crash()  # SIGKILL: its session, and with it its advisory lock, goes away

    returned = 0
    for _ in range(200):  # the server notices the closed session within a moment
        returned = await w2.reap()
        if returned:
            break
        await asyncio.sleep(0.02)
    assert returned == 2
    assert await q2.claim(w2.id) is not None
    assert await q2.claim(w2.id) is not None


async def test_a_live_process_keeps_its_leases(processes: Starter, clock: FakeClock) -> None:
    (s1, q1, w1), (_s2, _q2, w2) = await _two(processes)
    await s1.inbox.add_many([new_job("m1")])
    assert await q1.claim(w1.id) is not None
    clock.advance(3)
    await w1.beat()
    await w2.beat()
    assert await w2.reap() == 0
    assert (await s1.inbox.counts())["leased"] == 1


async def test_an_enqueue_wakes_a_waiting_claimer(processes: Starter) -> None:
    (s1, _q1, _w1), (_s2, q2, w2) = await _two(processes)
    seen = w2.wakeups
    waiting = asyncio.create_task(w2.wait_for_work(seen, timeout_s=60))
    await asyncio.sleep(0)
    await s1.inbox.add_many([new_job(f"m{n}") for n in range(5)])  # one statement, one wake-up
    assert await waiting is True
    assert await q2.claim(w2.id) is not None


async def test_waiting_without_work_falls_back_to_polling(processes: Starter) -> None:
    (_s1, _q1, w1), _ = await _two(processes)
    assert await w1.wait_for_work(w1.wakeups, timeout_s=0.01) is False


async def test_a_quiet_space_is_served_between_a_floods_jobs(processes: Starter) -> None:
    (s1, q1, w1), (_s2, q2, w2) = await _two(processes)
    await s1.inbox.add_many([new_job(f"f{n}", space_id="flood") for n in range(100)])
    await s1.inbox.add_many([new_job(f"q{n}", space_id="quiet") for n in range(3)])

    async def take(queue: SharedQueue, owner: str, n: int) -> list[str]:
        spaces = []
        for _ in range(n):
            claim = await queue.claim(owner)
            assert claim is not None
            spaces.append(claim.job.space_id)
            await asyncio.sleep(0)
        return spaces

    first, second = await asyncio.gather(take(q1, w1.id, 4), take(q2, w2.id, 4))
    assert (first + second).count("quiet") == 3  # all three among the first eight, not after 100


async def test_a_spaces_budget_holds_across_processes(processes: Starter, clock: FakeClock) -> None:
    (s1, q1, w1), (_s2, q2, w2) = await _two(processes)
    await s1.spaces.upsert("g1", "discord", budget_per_minute=4)  # a burst of one call
    await s1.inbox.add_many([new_job(f"m{n}") for n in range(3)])
    assert await q1.claim(w1.id) is not None
    await q1.charge("g1")
    assert await q2.claim(w2.id) is None  # the other process sees the spent budget
    clock.advance(15)  # a quarter minute at 4 a minute refills one call
    assert await q2.claim(w2.id) is not None


async def test_the_outbox_is_claimed_once(processes: Starter) -> None:
    (s1, q1, w1), (s2, q2, w2) = await _two(processes)
    ids = [await s1.outbox.add("g1", "post_card", {"n": n}) for n in range(20)]

    first, second = await asyncio.gather(q1.claim_outbox(w1.id, limit=15), q2.claim_outbox(w2.id, limit=15))

    claimed = [c.item.id for c in first + second]
    assert sorted(claimed) == ids
    assert await q1.claim_outbox(w1.id) == []  # nothing left that nobody holds
    assert await s1.outbox.done(first[0].item.id, first[0].token)

    await w1.crash()  # process 1 dies holding the rest of its items
    for _ in range(200):
        await w2.reap()
        again = await q2.claim_outbox(w2.id)
        if again:
            break
        await asyncio.sleep(0.02)
    assert sorted(c.item.id for c in again) == sorted(c.item.id for c in first[1:])
    # a late send of the dead process is not recorded
    assert not await s1.outbox.done(first[1].item.id, first[1].token)
    assert await s2.outbox.done(again[0].item.id, again[0].token)


async def test_a_lost_session_is_opened_again_and_still_woken(processes: Starter) -> None:
    (s1, _q1, w1), (_s2, q2, w2) = await _two(processes)
    await s1.db.execute(  # the server drops process 2's session (a restart, a network cut)
        "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND objid = ?",
        (w2.lock_key,),
    )
    for _ in range(200):
        try:
            await w2.beat()
            break
        except Exception:  # the client may learn of the cut only on the next statement
            await asyncio.sleep(0.02)
    row = await s1.db.fetchone("SELECT id FROM workers WHERE id = ?", (w2.id,))
    assert row is not None
    seen = w2.wakeups
    waiting = asyncio.create_task(w2.wait_for_work(seen, timeout_s=60))
    await asyncio.sleep(0)
    await s1.inbox.add_many([new_job("m1")])
    assert await waiting is True
    assert await q2.claim(w2.id) is not None
    assert await w1.reap() == 0  # process 2 holds its lock again: its lease stays
