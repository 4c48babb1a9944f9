"""The shared Postgres queue: claim + complete throughput, NOTIFY wake-up, leases back after a kill/hang.

``python -m bench.pg_queue_bench`` starts a throwaway PostgreSQL cluster (as the tests do) or uses
``--url``. Targets (issue 12): >= 500 jobs/s claimed and completed, wake-up p95 <= 10 ms, leases
back <= 2 s after a kill and <= 6 s after a hang (heartbeat stale after 5 s).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

from bot.store import NewJob, Store
from bot.store.claims import SharedQueue
from bot.store.workers import Worker

TARGETS = {"jobs_per_s": 500.0, "wake_p95_ms": 10.0, "kill_s": 2.0, "hang_s": 6.0}


def _job(n: int, spaces: int) -> NewJob:
    return NewJob(
        dedupe_key=f"bench:{n}", space_id=f"s{n % spaces}", platform="discord", channel_id="c",
        channel_name="general", message_id=f"m{n}", author_id="u", author_name="u", text=f"text {n}",
        context=(), edited=False, sent_at=0.0, policy_id="spam", policy_version=1, policy_hash="h",
        match_reason="keyword", not_before=0.0, escalate=False,
    )  # fmt: skip


async def _enqueue(store: Store, first: int, count: int, spaces: int, batch: int = 100) -> None:
    for start in range(first, first + count, batch):
        await store.inbox.add_many([_job(n, spaces) for n in range(start, min(first + count, start + batch))])


async def throughput(url: str, jobs: int, claimers: int, spaces: int) -> dict[str, Any]:
    """Two stores (two pools, as two processes would have), claimers split between them."""
    async with await Store.open(url) as one, await Store.open(url) as two:
        await _enqueue(one, 0, jobs, spaces)
        workers = [await one.register_worker(), await two.register_worker()]
        queues = [one.shared_queue(), two.shared_queue()]
        done = 0

        async def claimer(queue: SharedQueue, worker: Worker) -> None:
            nonlocal done
            while (claim := await queue.claim(worker.id)) is not None:
                async with queue.finishing(claim):
                    pass
                done += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(claimer(queues[i % 2], workers[i % 2]) for i in range(claimers)))
        elapsed = time.perf_counter() - t0
        for worker in workers:
            await worker.close()
    return {"jobs": done, "claimers": claimers, "spaces": spaces, "seconds": round(elapsed, 3),
            "jobs_per_s": round(done / elapsed, 1)}  # fmt: skip


async def wakeups(url: str, samples: int) -> dict[str, Any]:
    async with await Store.open(url) as producer, await Store.open(url) as consumer:
        worker = await consumer.register_worker()
        queue = consumer.shared_queue()
        waits: list[float] = []
        for n in range(samples):
            seen = worker.wakeups
            woke = asyncio.Event()
            stamp: list[float] = []

            async def waiter(
                seen: int = seen, woke: asyncio.Event = woke, stamp: list[float] = stamp
            ) -> None:
                if await worker.wait_for_work(seen, timeout_s=5.0):
                    stamp.append(time.perf_counter())
                woke.set()

            task = asyncio.create_task(waiter())
            await asyncio.sleep(0.002)  # the waiter is waiting
            t0 = time.perf_counter()
            await producer.inbox.add_many([_job(1_000_000 + n, 1)])
            await woke.wait()
            await task
            if stamp:
                waits.append((stamp[0] - t0) * 1000)
            claim = await queue.claim(worker.id)
            if claim is not None:
                await queue.complete(claim)
        await worker.close()
    waits.sort()
    return {"samples": len(waits), "missed": samples - len(waits),
            "p50_ms": round(_pct(waits, 50), 2), "p95_ms": round(_pct(waits, 95), 2),
            "max_ms": round(waits[-1], 2) if waits else None}  # fmt: skip


async def leases_back(url: str, mode: str, held: int = 50) -> dict[str, Any]:
    """One worker holds ``held`` leases and dies (``kill``: its session drops, as on SIGKILL) or
    hangs (``hang``: no heartbeat, session and lock kept, as on SIGSTOP); seconds until another
    live worker's reaper has put them all back."""
    async with await Store.open(url) as victim_store, await Store.open(url) as live_store:
        await _enqueue(victim_store, 2_000_000 if mode == "kill" else 3_000_000, held, 5)
        victim = await victim_store.register_worker()
        victim.start()
        live = await live_store.register_worker()
        live.start()
        queue = victim_store.shared_queue()
        for _ in range(held):
            await queue.claim(victim.id)
        t0 = time.perf_counter()
        if mode == "kill":
            await victim.crash()
        else:
            await victim.hang()
        while True:  # polled: the reaper runs in the live worker's own heartbeat loop
            if not (await live_store.inbox.counts())["leased"]:
                break
            await asyncio.sleep(0.01)
        elapsed = time.perf_counter() - t0
        await live.close()
        if mode != "kill":
            await victim.close()
    return {"mode": mode, "leases": held, "seconds": round(elapsed, 2)}


def _pct(sorted_values: Sequence[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[index]


@contextlib.contextmanager
def _cluster(url: str | None) -> Iterator[Any]:
    if url:
        yield None
        return
    from tests.pg_server import running_cluster  # the tests' throwaway cluster

    with running_cluster() as cluster:
        yield cluster


async def run(url: str | None, jobs: int, claimers: int) -> dict[str, Any]:
    with _cluster(url) as cluster:

        def fresh() -> str:
            if url:
                return url
            db = cluster.new_database()
            return str(db)

        return {
            "throughput": await throughput(fresh(), jobs, claimers, spaces=10),
            "wakeup": await wakeups(fresh(), 200),
            "kill": await leases_back(fresh(), "kill"),
            "hang": await leases_back(fresh(), "hang"),
            "targets": TARGETS,
        }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.pg_queue_bench", description=__doc__)
    parser.add_argument("--url", help="an existing empty Postgres database (default: a throwaway cluster)")
    parser.add_argument("--jobs", type=int, default=5000)
    parser.add_argument("--claimers", type=int, default=8)
    args = parser.parse_args(argv)
    results = asyncio.run(run(args.url, args.jobs, args.claimers))
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
