"""Wait for queued classifications, but notice when the model has stopped answering.

A replay of a long log against a dead or silent model used to wait minutes and end in a
traceback. Queued work is on disk either way; what the user needs is to hear, soon and in one
line, that the model is unreachable and how to resume.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from bot.core.service import ModerationCore

FOREVER_S = 7 * 24 * 3600.0  # progress, not a deadline, decides when to stop


async def settle_or_stall(core: ModerationCore, patience_s: float, poll_s: float = 0.25) -> bool:
    """True when everything queued is done; False when the model failed and nothing moved
    for `patience_s` (or the circuit breaker opened) while work was still queued."""
    pipeline = core.pipeline

    def progress() -> tuple[int, int, int]:
        s = pipeline.stats
        return (s.verdicts, s.failed, s.cache_hits)

    settle = asyncio.create_task(core.settle(timeout_s=FOREVER_S), name="replay-settle")
    last, since = progress(), time.monotonic()
    retries, opened = pipeline.stats.retries, pipeline.breaker.opened_count
    try:
        while True:
            done, _ = await asyncio.wait({settle}, timeout=poll_s)
            if done:
                settle.result()
                return True
            now = progress()
            if now != last:
                last, since = now, time.monotonic()
                retries, opened = pipeline.stats.retries, pipeline.breaker.opened_count
                continue
            failing = pipeline.stats.retries > retries  # calls since the last answer failed
            stuck = time.monotonic() - since > patience_s
            if failing and (stuck or pipeline.breaker.opened_count > opened):
                return False
    finally:
        settle.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await settle
