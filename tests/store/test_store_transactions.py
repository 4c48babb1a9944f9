"""Writes that belong together land together, even with many tasks on one connection."""

from __future__ import annotations

import asyncio

import pytest

from bot.store import Store
from tests.store._helpers import case_fields, new_job


async def test_failed_transaction_leaves_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction():
            [job_id] = await store.inbox.add_many([new_job("m1")])
            await store.outbox.add("g1", "post_flag", {})
            raise RuntimeError("crash between the writes")
    assert await store.inbox.get(job_id) is None
    assert await store.outbox.counts() == {"pending": 0, "done": 0, "failed": 0}


async def test_inner_failure_rolls_back_only_the_inner_part(store: Store) -> None:
    async with store.transaction():
        await store.outbox.add("g1", "post_flag", {})
        with pytest.raises(KeyError):
            async with store.transaction():
                await store.outbox.add("g1", "dm", {})
                await store.cases.decide(404, "removed", "mod")
    assert [i.kind for i in await store.outbox.due()] == ["post_flag"]


async def test_other_tasks_do_not_see_or_join_an_open_transaction(store: Store) -> None:
    entered = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        with pytest.raises(RuntimeError):
            async with store.transaction():
                await store.cases.open(**case_fields("m1"))
                entered.set()
                await release.wait()
                raise RuntimeError("roll it all back")

    async def other() -> int:
        await entered.wait()
        job_ids = await store.inbox.add_many([new_job("m2")])  # waits for the writer to finish
        return len(job_ids)

    task = asyncio.create_task(writer())
    other_task = asyncio.create_task(other())
    await entered.wait()
    if store.db.dialect == "sqlite":  # one connection: the other task's write waits its turn
        await asyncio.sleep(0.01)
        assert not other_task.done()
    release.set()
    await task
    assert await other_task == 1  # not swept away by the writer's rollback
    assert await store.cases.by_message("g1", "m1") == []
    assert len(await store.inbox.pending()) == 1


async def test_a_cancelled_task_does_not_wedge_the_store(store: Store) -> None:
    started = asyncio.Event()

    async def worker() -> None:
        async with store.transaction():
            await store.outbox.add("g1", "post_flag", {})
            started.set()
            await asyncio.sleep(3600)

    task = asyncio.create_task(worker())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    async with store.transaction():  # the connection is free and not left inside a transaction
        await store.outbox.add("g1", "dm", {})
    assert [i.kind for i in await store.outbox.due()] == ["dm"]
