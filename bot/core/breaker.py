"""Circuit breaker: when the model keeps failing, stop hammering it and let the inbox wait."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

from bot.core.aio import wait_event

log = logging.getLogger(__name__)


class CircuitBreaker:
    """Closed: calls flow. Open: nobody calls until the cooldown ends. Then one probe decides."""

    def __init__(
        self,
        threshold: int = 5,
        cooldown_s: float = 5.0,
        max_cooldown_s: float = 120.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.threshold = threshold
        self.base_cooldown_s = cooldown_s
        self.max_cooldown_s = max_cooldown_s
        self._clock = clock
        self._failures = 0
        self._cooldown_s = cooldown_s
        self._open_until: float | None = None
        self._probing = False
        self._changed = asyncio.Event()
        self.opened_count = 0

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    async def wait_until_allowed(self) -> None:
        """Return when this caller may call the model."""
        while True:
            if self._open_until is None:
                return
            now = self._clock()
            if now >= self._open_until and not self._probing:
                self._probing = True  # half-open: exactly one probe call
                return
            self._changed.clear()
            delay = max(0.05, self._open_until - now) if not self._probing else None
            await wait_event(self._changed, delay)

    def try_enter(self) -> bool:
        """Without waiting: may this caller call now? (Takes the half-open probe when it is due.)"""
        if self._open_until is None:
            return True
        if self._clock() >= self._open_until and not self._probing:
            self._probing = True
            return True
        return False

    def reopens_in(self) -> float | None:
        """Seconds until an open circuit lets its probe through (None when closed or probing)."""
        if self._open_until is None or self._probing:
            return None
        return max(0.0, self._open_until - self._clock())

    def success(self) -> None:
        if self._open_until is not None:
            log.info("model answers again: circuit closed")
        self._failures = 0
        self._cooldown_s = self.base_cooldown_s
        self._open_until = None
        self._probing = False
        self._changed.set()

    def failure(self) -> None:
        self._failures += 1
        if self._probing or self._failures >= self.threshold:
            if self._probing:
                self._cooldown_s = min(self.max_cooldown_s, self._cooldown_s * 2)
            self._open_until = self._clock() + self._cooldown_s
            self._probing = False
            self.opened_count += 1
            log.warning(
                "model unavailable %d times in a row: pausing calls for %.0fs",
                self._failures,
                self._cooldown_s,
            )
            self._changed.set()

    def neutral(self) -> None:
        """A call that ended without telling us about the model's health (e.g. bad output)."""
        if self._probing:
            self.success()
