"""Small asyncio helpers."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable


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


class Supervisor:
    """Background tasks that are named, kept, logged when they fail, and stopped together.

    Nothing in modbot is fire-and-forget: a loop that must keep running is restarted after a
    failure (`restart=True`); a one-off job's failure is logged with its name.
    """

    def __init__(self, log: logging.Logger, restart_delay_s: float = 1.0) -> None:
        self._log = log
        self._restart_delay_s = restart_delay_s
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, name: str, factory: Callable[[], Awaitable[None]], *, restart: bool = False) -> None:
        async def supervised() -> None:
            while True:
                try:
                    await factory()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    self._log.exception(
                        "background task %s failed%s", name, "; restarting" if restart else ""
                    )
                    if not restart:
                        return
                    await asyncio.sleep(self._restart_delay_s)

        task = asyncio.create_task(supervised(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def running(self, prefix: str = "") -> list[asyncio.Task[None]]:
        return [t for t in self._tasks if t.get_name().startswith(prefix)]

    async def stop(self) -> None:
        """Cancel every task and wait until each has ended."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()
