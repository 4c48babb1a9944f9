"""The inbox is a durable queue: nothing is classified twice, nothing is lost in a crash."""

from __future__ import annotations

from pathlib import Path

from bot.store import Store
from tests.store._helpers import FakeClock, new_job


async def test_duplicate_delivery_inserts_nothing(store: Store) -> None:
    first = await store.inbox.add_many([new_job("m1", "spam"), new_job("m1", "scam")])
    assert len(first) == 2
    again = await store.inbox.add_many([new_job("m1", "spam"), new_job("m1", "scam")])
    assert again == []
    assert (await store.inbox.counts())["pending"] == 2


async def test_an_edit_is_a_new_job(store: Store) -> None:
    [first] = await store.inbox.add_many([new_job("m1", text="hello")])
    [edited] = await store.inbox.add_many([new_job("m1", text="hello, buy coins")])
    assert edited != first


async def test_job_keeps_the_message(store: Store) -> None:
    [job_id] = await store.inbox.add_many([new_job("m1", text="the words")])
    job = await store.inbox.get(job_id)
    assert job is not None and job.status == "pending" and job.attempts == 0
    msg = job.to_message()
    assert (msg.text, msg.author_name, msg.channel_name) == ("the words", "alice", "general")
    assert [(c.author, c.text) for c in msg.context] == [("bob", "earlier words")]


async def test_lease_complete_cycle(store: Store) -> None:
    [a, b] = await store.inbox.add_many([new_job("m1"), new_job("m2")])
    assert [j.id for j in await store.inbox.pending()] == [a, b]
    assert await store.inbox.lease(a)
    assert not await store.inbox.lease(a)  # a second worker cannot take it
    assert [j.id for j in await store.inbox.pending()] == [b]
    await store.inbox.complete(a)
    assert not await store.inbox.lease(a)
    assert await store.inbox.counts() == {"pending": 1, "leased": 0, "done": 1, "failed": 0}


async def test_retry_later_waits_and_counts_attempts(store: Store, clock: FakeClock) -> None:
    [a] = await store.inbox.add_many([new_job("m1")])
    await store.inbox.lease(a)
    await store.inbox.retry_later(a, clock.now + 60, "busy: server busy")
    job = await store.inbox.get(a)
    assert job is not None and job.status == "pending" and job.attempts == 1
    assert job.last_error == "busy: server busy"
    assert await store.inbox.pending(now=clock.now) == []  # not yet due
    assert [j.id for j in await store.inbox.pending(now=clock.now + 60)] == [a]


async def test_failed_jobs_are_kept(store: Store) -> None:
    [a] = await store.inbox.add_many([new_job("m1")])
    await store.inbox.lease(a)
    await store.inbox.fail(a, "unparseable: no verdict")
    job = await store.inbox.get(a)
    assert job is not None and job.status == "failed" and job.attempts == 1
    assert job.text == "hello there"
    assert await store.inbox.pending() == []


async def test_release_leases_after_restart(store: Store) -> None:
    [a, b] = await store.inbox.add_many([new_job("m1"), new_job("m2")])
    await store.inbox.lease(a)
    await store.inbox.lease(b)
    await store.inbox.complete(b)
    assert await store.inbox.release_leases() == 1
    assert [j.id for j in await store.inbox.pending()] == [a]


async def test_leased_job_survives_a_crash(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "bot.db"
    store = await Store.open(path, clock)
    [a] = await store.inbox.add_many([new_job("m1")])
    assert await store.inbox.lease(a)
    await store.close()  # the process dies mid-classification

    async with await Store.open(path, clock) as store:
        assert await store.inbox.pending() == []
        assert await store.inbox.release_leases() == 1
        [job] = await store.inbox.pending()
        assert job.id == a and job.text == "hello there"
        assert await store.inbox.lease(a)
