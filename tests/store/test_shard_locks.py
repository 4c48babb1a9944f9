"""Discord shard locks: one holder per shard across processes, freed when a holder's session ends."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import asyncpg

from bot.store import Store
from bot.store.shard_locks import IDENTIFY_CLASS, SHARD_CLASS


async def eventually(check: Callable[[], Any], wait_s: float = 15.0) -> Any:
    async with asyncio.timeout(wait_s):
        while not (result := await check()):
            await asyncio.sleep(0.05)
        return result


async def test_on_sqlite_this_process_holds_every_shard() -> None:
    async with await Store.open(":memory:") as store:
        locks = store.shard_locks()
        assert [await locks.try_take(n) for n in range(4)] == [True] * 4
        assert await locks.held() == {0, 1, 2, 3}
        assert await locks.peers() == 1
        await locks.release_all()
        assert await locks.held() == set()


async def test_a_shard_has_one_holder_until_its_session_ends(pg_url: str) -> None:
    async with await Store.open(pg_url) as one, await Store.open(pg_url) as two:
        first, second = one.shard_locks(), two.shard_locks()
        try:
            assert await first.try_take(0) and await first.try_take(1)
            assert not await second.try_take(0)
            assert await second.try_take(2)
            assert await first.held() == {0, 1} and await second.held() == {2}
            assert await first.peers() == 2

            # The first process dies: Postgres ends its session, and its locks with it.
            await _terminate(pg_url, SHARD_CLASS, 0)
            assert await eventually(lambda: second.try_take(0))
            assert await second.try_take(1)
            assert await first.held() == set()  # it knows it holds nothing any more
            assert await second.held() == {0, 1, 2}
            assert await second.peers() == 1
        finally:
            await first.release_all()
            await second.release_all()


async def test_a_clean_stop_frees_the_shards_at_once(pg_url: str) -> None:
    async with await Store.open(pg_url) as one, await Store.open(pg_url) as two:
        first, second = one.shard_locks(), two.shard_locks()
        assert await first.try_take(3)
        assert not await second.try_take(3)
        await first.release_all()
        assert await second.try_take(3)
        await second.release_all()


async def test_identify_turns_are_spaced_across_processes(pg_url: str) -> None:
    async with await Store.open(pg_url) as one, await Store.open(pg_url) as two:
        first, second = one.shard_locks(), two.shard_locks()
        try:
            await first.identify_turn(0, spacing_s=30.0)
            waiting = asyncio.create_task(second.identify_turn(0, spacing_s=0.5))
            other_bucket = asyncio.create_task(second.identify_turn(1, spacing_s=0.5))
            await asyncio.wait_for(other_bucket, 15)  # another bucket has a turn of its own
            await asyncio.sleep(0.5)
            assert not waiting.done()  # bucket 0's turn is the first process's for 30 s
            await _terminate(pg_url, IDENTIFY_CLASS)  # unless that process dies
            await asyncio.wait_for(waiting, 15)
        finally:
            await first.release_all()
            await second.release_all()


async def _terminate(pg_url: str, lock_class: int, key: int = 0) -> None:
    """End the session holding (lock_class, key), as when its process is killed."""
    killer = await asyncpg.connect(pg_url)
    try:
        await killer.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
            "AND classid = $1 AND objid = $2 AND objsubid = 2 AND granted",
            lock_class, key,
        )  # fmt: skip
    finally:
        await killer.close()
