"""The model emulator in its own process, like a real Ollama server beside the bot.

In a thread of the benchmark process the emulator shares the GIL with the code under test:
a busy pipeline then delays the emulator's own clock and replies, and part of the pipeline's
cost would be booked as model time. A child process keeps the model's timing independent.
time.monotonic() is CLOCK_MONOTONIC on Linux, shared by every process, so the child's busy
spans can be compared with the parent's submit and verdict times directly.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import threading
from multiprocessing.connection import Connection
from types import TracebackType
from typing import Any, Protocol, Self

from bench.emulator import ModelEmulator

__all__ = ["EmulatorLike", "EmulatorProcess"]


class EmulatorLike(Protocol):
    """What the load generators need: ModelEmulator and EmulatorProcess both qualify."""

    url: str

    @property
    def slots(self) -> int: ...

    @property
    def time_scale(self) -> float: ...

    def stats(self, since: float | None = None, until: float | None = None) -> dict[str, Any]: ...

    def spans(self) -> list[tuple[float, float]]: ...


class EmulatorProcess:
    """`async with EmulatorProcess(slots=2, time_scale=0.2) as emu:`; same figures as ModelEmulator."""

    def __init__(self, **options: Any) -> None:
        options.pop("in_thread", None)
        probe = ModelEmulator(**options)  # validates the options and exposes their defaults
        self._slots = probe.slots
        self._time_scale = probe.time_scale
        self._options = options
        self._conn: Connection | None = None
        self._proc: mp.process.BaseProcess | None = None
        self._lock = threading.Lock()
        self.url = ""

    @property
    def slots(self) -> int:
        return self._slots

    @property
    def time_scale(self) -> float:
        return self._time_scale

    async def __aenter__(self) -> Self:
        ctx = mp.get_context("spawn")  # never fork a process that already runs threads
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(child, self._options), name="model-emulator", daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        kind, value = await asyncio.to_thread(parent.recv)
        if kind != "ready":
            await self.__aexit__(None, None, None)
            raise RuntimeError(f"model emulator failed to start: {value}")
        self.url = str(value)
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._conn is not None:
            try:
                await asyncio.to_thread(self._ask, "stop")
            except (EOFError, OSError):
                pass
            self._conn.close()
            self._conn = None
        if self._proc is not None:
            await asyncio.to_thread(self._proc.join, 5.0)
            if self._proc.is_alive():
                self._proc.kill()
            self._proc = None

    def _ask(self, command: str, *args: Any) -> Any:
        if self._conn is None:
            raise RuntimeError("the emulator process is not running")
        with self._lock:
            self._conn.send((command, args))
            kind, value = self._conn.recv()
        if kind == "error":
            raise RuntimeError(f"model emulator: {value}")
        return value

    def stats(self, since: float | None = None, until: float | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._ask("stats", since, until)
        return result

    def spans(self) -> list[tuple[float, float]]:
        return [(float(s), float(e)) for s, e in self._ask("spans")]


def _serve(conn: Connection, options: dict[str, Any]) -> None:
    """Child process: run the emulator until told to stop; answer figure requests meanwhile."""
    asyncio.run(_serve_async(conn, options))


async def _serve_async(conn: Connection, options: dict[str, Any]) -> None:
    try:
        emu = ModelEmulator(**options, in_thread=False)
        await emu.__aenter__()
    except Exception as exc:
        conn.send(("error", repr(exc)))
        return
    conn.send(("ready", emu.url))
    try:
        while True:
            try:
                command, args = await asyncio.to_thread(conn.recv)
            except EOFError:
                return  # the parent went away
            if command == "stop":
                conn.send(("ok", None))
                return
            try:
                value = emu.stats(*args) if command == "stats" else emu.spans()
            except Exception as exc:
                conn.send(("error", repr(exc)))
            else:
                conn.send(("ok", value))
    finally:
        await emu.__aexit__(None, None, None)
