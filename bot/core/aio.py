"""Small asyncio helpers."""

from __future__ import annotations

import asyncio


async def wait_event(event: asyncio.Event, timeout_s: float | None) -> bool:
    """Wait for `event` up to `timeout_s`; True if it was set.

    Not asyncio.wait_for: on Python 3.11 it can swallow a cancellation that races with the
    event being set, leaving a background loop that never stops.
    """
    try:
        async with asyncio.timeout(timeout_s):
            await event.wait()
    except TimeoutError:
        return False
    return True
