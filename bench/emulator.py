"""A model-server emulator for benchmarks: Ollama's /api/chat with realistic, scaled latency.

Unlike tests/fakes (scripted answers for correctness tests), this models *capacity*: N slots
generate at once (OLLAMA_NUM_PARALLEL), further requests wait FIFO, and past `max_queue`
waiting requests get Ollama's 503. Every call takes a lognormal time around `mean_latency_s`
plus a prefill term for the per-message part of the prompt (the policy prefix is assumed to
be KV-cached), multiplied by `time_scale` so a 1 s/call model can be run at 20x speed.
Figures from `stats()` are scaled back to model seconds, so they read like the real server.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import statistics
import threading
import time
from collections import deque
from types import TracebackType
from typing import Any, Self

from aiohttp import web

from bench.ollama_wire import BUSY_MESSAGE, VERSION, chat_reply, decide, json_response, tokens

__all__ = ["BUSY_MESSAGE", "ModelEmulator", "decide"]
TAGGED_MODEL = "gpt-oss-safeguard:20b"


class ModelEmulator:
    """`async with ModelEmulator(slots=2) as emu:` then `ollama.AsyncClient(host=emu.url)`."""

    def __init__(
        self,
        *,
        slots: int = 1,
        mean_latency_s: float = 1.0,
        time_scale: float = 0.05,
        max_queue: int = 512,
        sigma: float = 0.25,
        prefill_tok_per_s: float = 3000.0,
        low_confidence_share: float = 0.0,
        seed: int = 0,
        in_thread: bool = True,
    ) -> None:
        if slots < 1 or time_scale <= 0 or mean_latency_s <= 0:
            raise ValueError("slots >= 1, time_scale > 0 and mean_latency_s > 0 are required")
        self.slots = slots
        self.mean_latency_s = mean_latency_s
        self.time_scale = time_scale
        self.max_queue = max_queue
        self.sigma = sigma
        self.prefill_tok_per_s = prefill_tok_per_s
        self.low_confidence_share = low_confidence_share
        self._rng = random.Random(seed)
        # mu chosen so the lognormal's mean (not its median) is mean_latency_s.
        self._mu = math.log(mean_latency_s) - sigma * sigma / 2
        self._free = slots
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._busy: list[tuple[float, float]] = []  # finished generations, real monotonic times
        self._running: dict[int, float] = {}  # request number -> start
        self._waits: list[float] = []  # real seconds spent queued, per admitted request
        self._calls = 0
        self._rejected = 0
        self._without_think = 0
        self._max_queue_seen = 0
        self._started = 0.0
        self.in_thread = in_thread
        self._lock = threading.Lock()  # stats() may be read from the benchmark's thread
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    # -- lifecycle ---------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if not self.in_thread:
            await self._start()
            return self
        # Own thread, own loop: like a real server process, the emulator keeps time even when
        # the code under test keeps the benchmark's loop busy (the GIL is still shared).
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="model-emulator", daemon=True)
        self._thread.start()
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._start(), self._loop))
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._loop is None:
            await self._stop()
            return
        await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(self._stop(), self._loop))
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)
        self._loop.close()
        self._loop = self._thread = None

    async def _start(self) -> None:
        app = web.Application()
        app.add_routes(
            [
                web.post("/api/chat", self._chat),
                web.get("/api/version", self._version),
                web.get("/api/tags", self._tags),  # the bot's endpoint probe: is the model pulled?
            ]
        )
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        self._started = time.monotonic()

    async def _stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # -- slots: FIFO, a freed slot is handed straight to the oldest waiter -------------------

    async def _acquire(self) -> bool:
        if self._free > 0 and not self._waiters:
            self._free -= 1
            return True
        if len(self._waiters) >= self.max_queue:
            return False
        fut = asyncio.get_running_loop().create_future()
        self._waiters.append(fut)
        self._max_queue_seen = max(self._max_queue_seen, len(self._waiters))
        try:
            await fut
        except asyncio.CancelledError:  # client went away while queued
            if fut.done() and not fut.cancelled():
                self._release()  # the slot had already been handed over: pass it on
            else:
                self._waiters.remove(fut)
            raise
        return True

    def _release(self) -> None:
        while self._waiters:
            fut = self._waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return
        self._free += 1

    def _latency(self, prompt_tokens: int) -> float:
        """Model seconds for one call: lognormal decode time + prefill of the uncached part."""
        return self._rng.lognormvariate(self._mu, self.sigma) + prompt_tokens / self.prefill_tok_per_s

    # -- handlers ----------------------------------------------------------------------------

    async def _version(self, _request: web.Request) -> web.Response:
        return json_response({"version": VERSION})

    async def _tags(self, _request: web.Request) -> web.Response:
        # Serves any model name in /api/chat, so it lists the bot's default one.
        return json_response({"models": [{"name": TAGGED_MODEL, "model": TAGGED_MODEL}]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.json()
        except json.JSONDecodeError:
            return json_response({"error": "invalid request body"}, 400)
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list) or not body.get("model"):
            return json_response({"error": "model and messages are required"}, 400)
        if body.get("think") is None:
            self._without_think += 1  # the design says always send `think`; count offenders
        user = next((str(m.get("content") or "") for m in reversed(messages) if m.get("role") == "user"), "")
        uncached = "".join(str(m.get("content") or "") for m in messages if m.get("role") != "system")
        queued_at = time.monotonic()
        if not await self._acquire():
            self._rejected += 1
            return json_response({"error": BUSY_MESSAGE}, 503)
        start = time.monotonic()
        with self._lock:
            self._waits.append(start - queued_at)
            key = self._calls
            self._calls += 1
            self._running[key] = start
        try:
            await asyncio.sleep(self._latency(tokens(uncached)) * self.time_scale)
        finally:
            with self._lock:
                self._busy.append((start, time.monotonic()))
                del self._running[key]
            self._release()
        verdict, thinking = decide(user, self.low_confidence_share)
        total_ns = int((time.monotonic() - start) / self.time_scale * 1e9)  # in model time
        return await chat_reply(request, body, verdict, thinking, tokens(uncached), total_ns)

    # -- figures -----------------------------------------------------------------------------

    def busy_seconds(self, since: float, until: float) -> float:
        """Real busy-slot-seconds inside [since, until] (time.monotonic() values)."""
        now = time.monotonic()
        with self._lock:
            spans = [*self._busy, *((s, now) for s in self._running.values())]
        return sum(max(0.0, min(e, until) - max(s, since)) for s, e in spans)

    def spans(self) -> list[tuple[float, float]]:
        """(start, end) of every generation so far, real time.monotonic() values, by start."""
        now = time.monotonic()
        with self._lock:
            spans = [*self._busy, *((s, now) for s in self._running.values())]
        return sorted(spans)

    def utilisation(self, since: float | None = None, until: float | None = None) -> float:
        """Share of slot capacity spent generating between two time.monotonic() readings."""
        since = self._started if since is None else since
        until = time.monotonic() if until is None else until
        if until <= since:
            return 0.0
        return self.busy_seconds(since, until) / (self.slots * (until - since))

    def stats(self, since: float | None = None, until: float | None = None) -> dict[str, Any]:
        """Counters over the emulator's life; wall/busy/utilisation over [since, until].

        Durations are model seconds (real seconds / time_scale).
        """
        since = self._started if since is None else since
        until = time.monotonic() if until is None else until
        scale = 1 / self.time_scale
        with self._lock:
            waits = [w * scale for w in self._waits]  # in admission order
        ranked = sorted(waits)
        return {
            "calls": self._calls,
            "rejected": self._rejected,
            "without_think": self._without_think,
            "slots": self.slots,
            "time_scale": self.time_scale,
            "wall_s": (until - since) * scale,
            "busy_s": self.busy_seconds(since, until) * scale,
            "utilisation": self.utilisation(since, until),
            "max_queue_seen": self._max_queue_seen,
            "queue_wait_p50_s": statistics.median(ranked) if ranked else 0.0,
            "queue_wait_max_s": ranked[-1] if ranked else 0.0,
            "queue_waits_s": waits,
        }
