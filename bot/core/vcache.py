"""Verdict cache: the same text under the same policy text costs one model call.

Keyed by the policy's content hash and the normalised text and context, so a flood of one
message (with case or zero-width tricks) is classified once, and a policy edit starts afresh.
Calls already in flight are shared too: fifty copies arriving at once wait for the first answer.
With several processes on one Postgres, a ``shared`` cache sits behind this one (a table with
single-flight across processes), so one text flooding every process still costs one call.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence

from bot.core.messages import Result, Verdict
from bot.core.normalize import normalise

# (key, call) -> (result, was_cached): the cache of other processes, consulted on a local miss.
SharedLookup = Callable[[str, Callable[[], Awaitable[Result]]], Awaitable[tuple[Result, bool]]]


def cache_key(policy_hash: str, text: str, context: Sequence[str] = ()) -> str:
    """Same policy text, same normalised message and context texts: same answer.

    Context counts because "dm me" after "selling aimbot" is not "dm me" after "need help";
    authors do not, so a bot flood (whose context is earlier copies) still hits the cache.
    """
    h = hashlib.blake2b(digest_size=16)
    for part in (text, *context):
        h.update(normalise(part).encode())
        h.update(b"\x1f")
    return f"{policy_hash}:{h.hexdigest()}"


class VerdictCache:
    def __init__(
        self,
        max_entries: int = 20_000,
        ttl_s: float = 6 * 3600,
        clock: Callable[[], float] = time.monotonic,
        shared: SharedLookup | None = None,
    ) -> None:
        self._shared = shared
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, Verdict]] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[Result]] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Verdict | None:
        entry = self._entries.get(key)
        if entry is None or self._clock() - entry[0] > self.ttl_s:
            return None
        self._entries.move_to_end(key)
        return entry[1]

    def put(self, key: str, verdict: Verdict) -> None:
        self._entries[key] = (self._clock(), verdict)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def get_or_call(self, key: str, call: Callable[[], Awaitable[Result]]) -> tuple[Result, bool]:
        """The cached or shared answer, or a fresh call. Returns (result, was_cached)."""
        cached = self.get(key)
        if cached is not None:
            self.hits += 1
            return cached, True
        pending = self._inflight.get(key)
        if pending is not None:
            self.hits += 1
            return await asyncio.shield(pending), True
        future: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            if self._shared is not None:
                result, elsewhere = await self._shared(key, call)
            else:
                result, elsewhere = await call(), False
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: waiters re-raise it themselves
            raise
        finally:
            self._inflight.pop(key, None)
        future.set_result(result)
        if isinstance(result, Verdict):
            self.put(key, result)  # only answers are cached; an outage is retried
        if elsewhere:  # another process paid for it
            self.hits += 1
        else:
            self.misses += 1
        return result, elsewhere
