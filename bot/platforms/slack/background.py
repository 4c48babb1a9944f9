"""Work that happens after Slack has its answer: each task named, kept, and its failure logged.

Slack wants every request answered within 3 seconds; the slow part of a click or a command
(the model, Web API calls) runs here, after the acknowledgement. Nothing is fire-and-forget:
a task that fails is logged with its name, and closing waits for (or cancels) what is left.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class Background:
    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()

    def spawn(self, name: str, work: Coroutine[Any, Any, None]) -> None:
        async def supervised() -> None:
            try:
                await work
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("slack: %s failed", name)

        task = asyncio.create_task(supervised(), name=f"slack-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def within(
        self, name: str, work: Coroutine[Any, Any, T], seconds: float, later: Callable[[T], Awaitable[None]]
    ) -> T | None:
        """`work`'s result if it is ready within `seconds`; else None, and `later(result)` when it is.

        For answers Slack waits for (a command, a modal): the answer goes in the ack when it
        is quick, and by another way (response_url, a DM) when it is not. The work is never
        cancelled halfway (it may be writing to the store). `work` turns its own failures into
        an answer (a refusal, "try again"); it does not raise.
        """
        task = asyncio.ensure_future(work)
        try:
            return await asyncio.wait_for(asyncio.shield(task), seconds)
        except TimeoutError:

            async def finish() -> None:
                await later(await task)

            self.spawn(name, finish())
            return None

    async def close(self, grace_s: float = 5.0) -> None:
        """Let running work finish for a moment, then cancel what is left."""
        if not self._tasks:
            return
        _done, pending = await asyncio.wait(set(self._tasks), timeout=grace_s)
        for task in pending:
            task.cancel()
        await asyncio.gather(*pending, return_exceptions=True)
