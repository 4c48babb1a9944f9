"""The verdict cache across processes: one text flooding several processes costs one model call."""

from __future__ import annotations

import asyncio

from bot.core.messages import PolicyRef, Result, Unavailable
from bot.core.vcache import VerdictCache, cache_key
from bot.store import Store
from bot.store.shared_cache import result_from_dict
from tests.store._helpers import FakeClock, verdict


def _process_cache(store: Store) -> VerdictCache:
    shared = store.shared_verdicts()
    assert shared is not None
    return VerdictCache(shared=shared.get_or_call)


async def test_a_flood_over_two_processes_costs_one_call(pg_url: str, clock: FakeClock) -> None:
    calls = 0
    release = asyncio.Event()

    async def model() -> Result:
        nonlocal calls
        calls += 1
        await release.wait()
        return verdict()

    async with await Store.open(pg_url, clock=clock) as one, await Store.open(pg_url, clock=clock) as two:
        caches = [_process_cache(one), _process_cache(two)]
        key = cache_key("h1", "buy cheap coins")
        asks = [asyncio.create_task(caches[n % 2].get_or_call(key, model)) for n in range(10)]
        for _ in range(50):  # let every ask reach its cache (and the second process the lock)
            await asyncio.sleep(0.01)
        release.set()
        answers = await asyncio.gather(*asks)

    assert calls == 1
    assert {a[0] for a in answers} == {verdict()}
    assert [cached for _r, cached in answers].count(False) == 1
    assert caches[0].misses + caches[1].misses == 1


async def test_an_outage_is_not_shared(pg_url: str, clock: FakeClock) -> None:
    down = Unavailable("timeout", "no answer", 1, "tier1", PolicyRef("spam", 1, "h1"))
    calls = 0

    async def model() -> Result:
        nonlocal calls
        calls += 1
        return down if calls == 1 else verdict()

    async with await Store.open(pg_url, clock=clock) as one, await Store.open(pg_url, clock=clock) as two:
        key = cache_key("h1", "hello")
        assert await _process_cache(one).get_or_call(key, model) == (down, False)
        assert await _process_cache(two).get_or_call(key, model) == (verdict(), False)
        assert await _process_cache(one).get_or_call(key, model) == (verdict(), True)
    assert calls == 2


async def test_a_stored_verdict_reads_back_whole() -> None:
    inner = Unavailable("unparseable", "unparsed", 2, "tier2", PolicyRef("spam", 1, "h1"), raw_excerpt="x")
    outer = verdict(tier=1, previous=verdict(tier=2))
    assert result_from_dict(outer.to_dict()) == outer
    assert result_from_dict(inner.to_dict()) == inner
