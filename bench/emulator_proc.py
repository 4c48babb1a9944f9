"""The model emulator in its own process, like a real Ollama server beside the bot.

In a thread of the benchmark process the emulator shares the GIL with the code under test:
a busy pipeline then delays the emulator's own clock and replies, and part of the pipeline's
cost would be booked as model time. A child process keeps the model's timing independent.
time.monotonic() is CLOCK_MONOTONIC on Linux, shared by every process, so the child's busy
spans can be compared with the parent's submit and verdict times directly.
"""

from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import sys
import threading
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Protocol, Self

from bench.emulator import ModelEmulator

__all__ = ["EmulatorLike", "EmulatorProcess"]

ROOT = Path(__file__).resolve().parents[1]


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
        self._proc: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()
        self.url = ""

    @property
    def slots(self) -> int:
        return self._slots

    @property
    def time_scale(self) -> float:
        return self._time_scale

    async def __aenter__(self) -> Self:
        # A fresh interpreter (not multiprocessing): works whatever the caller's __main__ is.
        self._proc = await asyncio.to_thread(
            subprocess.Popen,
            [sys.executable, "-m", "bench.emulator_proc", json.dumps(self._options)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        try:
            self.url = str(await asyncio.to_thread(self._read))
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            if proc.poll() is None and proc.stdin is not None:
                proc.stdin.close()  # EOF: the child stops its server and exits
            await asyncio.to_thread(proc.wait, 5.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            await asyncio.to_thread(proc.wait)
        finally:
            if proc.stdout is not None:
                proc.stdout.close()

    def _read(self) -> Any:
        if self._proc is None or self._proc.stdout is None:
            raise RuntimeError("the emulator process is not running")
        line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"model emulator exited (code {self._proc.poll()})")
        kind, value = json.loads(line)
        if kind == "error":
            raise RuntimeError(f"model emulator: {value}")
        return value

    def _ask(self, command: str, *args: Any) -> Any:
        if self._proc is None or self._proc.stdin is None:
            raise RuntimeError("the emulator process is not running")
        with self._lock:
            self._proc.stdin.write(json.dumps([command, args]) + "\n")
            self._proc.stdin.flush()
            return self._read()

    def stats(self, since: float | None = None, until: float | None = None) -> dict[str, Any]:
        result: dict[str, Any] = self._ask("stats", since, until)
        return result

    def spans(self) -> list[tuple[float, float]]:
        return [(float(s), float(e)) for s, e in self._ask("spans")]


def _send(out: IO[str], kind: str, value: Any) -> None:
    out.write(json.dumps([kind, value]) + "\n")
    out.flush()


async def _serve(options: dict[str, Any]) -> None:
    """Child process: run the emulator until stdin closes; answer figure requests meanwhile."""
    out = sys.stdout
    sys.stdout = sys.stderr  # nothing else may write on the answer channel
    # A client that goes away mid-request (a core stopped with calls in flight) is normal here.
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    try:
        emu = ModelEmulator(**options, in_thread=False)
        await emu.__aenter__()
    except Exception as exc:
        _send(out, "error", repr(exc))
        return
    _send(out, "ready", emu.url)
    try:
        while line := await asyncio.to_thread(sys.stdin.readline):
            command, args = json.loads(line)
            try:
                value = emu.stats(*args) if command == "stats" else emu.spans()
            except Exception as exc:
                _send(out, "error", repr(exc))
            else:
                _send(out, "ok", value)
    finally:
        await emu.__aexit__(None, None, None)


if __name__ == "__main__":
    asyncio.run(_serve(json.loads(sys.argv[1])))
