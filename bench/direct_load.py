"""Direct load: the best a client can do against N model slots, with no pipeline in between.

N workers (N = slots) call /api/chat back-to-back through the official ollama.AsyncClient,
so every slot is always busy except for HTTP and client overhead. The pipeline's throughput
is compared against this baseline (target: pipeline >= 0.95x direct).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from typing import Any

import ollama

from bench.emulator import ModelEmulator
from bench.emulator_proc import EmulatorLike
from bot.core.prompt import OUTPUT_SCHEMA

__all__ = ["MODEL", "SYSTEM_PROMPT", "run_direct_load"]

MODEL = "gpt-oss-safeguard:20b"
# A policy-sized system prompt (~450 tokens), identical for every call like a real policy prefix.
SYSTEM_PROMPT = (
    "# Spam policy\nDecide whether the message is spam. Answer with one JSON object.\n"
    + "Rule S1: unsolicited advertising, prize claims and links to unknown sites are spam. " * 25
)
_DEFAULT_TEXTS = ("hey are we still on for tonight?", "WIN a FREE prize, click http://x.example")


async def run_direct_load(
    *,
    calls: int = 200,
    slots: int = 2,
    mean_latency_s: float = 1.0,
    time_scale: float = 0.05,
    texts: Sequence[str] | None = None,
    seed: int = 0,
    timeout_s: float = 60.0,
    emulator: EmulatorLike | None = None,
) -> dict[str, Any]:
    """Run `calls` chat calls with `slots` workers; figures are in model seconds.

    Pass `emulator` to reuse a running one (its slots/time_scale win); otherwise one is started.
    """
    if emulator is None:
        async with ModelEmulator(
            slots=slots, mean_latency_s=mean_latency_s, time_scale=time_scale, seed=seed
        ) as emu:
            return await _drive(emu, calls, texts or _DEFAULT_TEXTS, timeout_s)
    return await _drive(emulator, calls, texts or _DEFAULT_TEXTS, timeout_s)


async def _drive(emu: EmulatorLike, calls: int, texts: Sequence[str], timeout_s: float) -> dict[str, Any]:
    # trust_env=False: a proxy from the environment must not sit between us and 127.0.0.1.
    client = ollama.AsyncClient(host=emu.url, trust_env=False, timeout=timeout_s)
    next_call = 0
    latencies: list[float] = []
    errors: list[str] = []
    violations = 0

    async def worker() -> None:
        nonlocal next_call, violations
        while next_call < calls:
            i = next_call
            next_call += 1  # no await between read and write: safe without a lock
            t0 = time.monotonic()
            try:
                resp = await client.chat(
                    MODEL,
                    messages=[
                        {"role": "system", "content": SYSTEM_PROMPT},
                        {"role": "user", "content": texts[i % len(texts)]},
                    ],
                    think="low",
                    format=OUTPUT_SCHEMA,  # the schema the bot sends (Ollama >= 0.12.4)
                    options={"num_ctx": 8192},
                    stream=False,
                )
            except (ollama.ResponseError, ollama.RequestError, OSError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}")
                continue
            latencies.append(time.monotonic() - t0)
            violations += '"violation": 1' in (resp.message.content or "")

    calls_before = emu.stats()["calls"]
    start = time.monotonic()
    async with client:
        await asyncio.gather(*(worker() for _ in range(emu.slots)))
        end = time.monotonic()

    scale = 1 / emu.time_scale
    st = emu.stats(start, end)
    wall_model_s = (end - start) * scale
    done = st["calls"] - calls_before
    mean_latency = statistics.fmean(latencies) * scale if latencies else 0.0
    busy_per_call = st["busy_s"] / done if done else 0.0
    # Client + HTTP cost per call in *real* seconds: it does not shrink with time_scale, so a
    # compressed run overstates it by 1/time_scale; this is what it would cost at real speed.
    overhead_real_s = max(0.0, (mean_latency - busy_per_call) * emu.time_scale)
    return {
        "calls": done,
        "ok": len(latencies),
        "errors": len(errors),
        "first_error": errors[0] if errors else "",
        "violations": violations,
        "slots": emu.slots,
        "time_scale": emu.time_scale,
        "real_wall_s": end - start,
        "wall_s": wall_model_s,
        "calls_per_s": len(latencies) / wall_model_s if wall_model_s else 0.0,
        # Ideal: every slot busy all the time with the latencies the emulator actually drew.
        "ideal_calls_per_s": emu.slots / busy_per_call if busy_per_call else 0.0,
        "utilisation": st["utilisation"],
        "client_latency_mean_s": mean_latency,
        "server_busy_per_call_s": busy_per_call,
        "overhead_per_call_real_ms": overhead_real_s * 1000,
        "utilisation_at_real_speed": busy_per_call / (busy_per_call + overhead_real_s) if done else 0.0,
        "max_queue_seen": st["max_queue_seen"],
    }
