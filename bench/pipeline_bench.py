"""The whole pipeline against the model emulator: slot use under backlog, throughput, flag latency.

Backlog: every library policy in a few spaces, a burst of distinct real candidate messages
(no cache hits) submitted back to back; workers = emulator slots. The emulator books every
generation, so slot utilisation is measured where it happens, on the model side. The same
jobs are then replayed by the direct load generator (same slots, seed, time scale and user
turns, so the same model time per call) for the throughput ratio.

Latency: Poisson arrivals at a share of capacity into one live space; submit -> verdict and
submit -> flag card posted on the platform, in model seconds.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from bench.direct_load import run_direct_load
from bench.emulator_proc import EmulatorProcess
from bench.ollama_wire import tokens
from bench.rig import CoreRig, library_yaml
from bench.workload import Planned, job_keys, percentile, plan, poisson_times, user_messages

__all__ = ["backlog_plan", "capacity_calls_per_s", "run_backlog", "run_direct_matched", "run_latency"]

TARGET_UTILISATION = 0.95
TARGET_THROUGHPUT_RATIO = 0.95


def window_figures(
    spans: Sequence[tuple[float, float]], t0: float, t1: float, slots: int, time_scale: float
) -> dict[str, Any]:
    """Slot figures of the generations that started in [t0, t1].

    Backlog window: from the first generation's start to the last one's start. Throughout it
    work was waiting, so an idle slot there is the client's (pipeline's) fault; after the last
    start the slots run dry by construction (a tail no client can avoid).
    """
    mine = sorted(s for s in spans if t0 <= s[0] <= t1)
    if len(mine) < 2:
        return {"calls": len(mine), "utilisation": 0.0}
    w0, w1 = mine[0][0], mine[-1][0]
    busy = sum(max(0.0, min(e, w1) - max(s, w0)) for s, e in mine)
    busy_total = sum(e - s for s, e in mine)
    calls = len(mine)
    per_call = busy_total / calls
    # Idle slot time per call in the backlog window: real seconds the client needs between calls.
    gap = max(0.0, (slots * (w1 - w0) - busy) / max(1, calls - slots))
    return {
        "calls": calls,
        "utilisation": busy / (slots * (w1 - w0)),
        "window_s": (w1 - w0) / time_scale,
        "busy_per_call_s": per_call / time_scale,
        "idle_per_call_real_ms": gap * 1000,
        "utilisation_at_real_speed": per_call / time_scale / (per_call / time_scale + gap),
        "first_start": w0,
    }


def backlog_plan(texts: Sequence[str], calls: int, spaces: int = 4) -> list[Planned]:
    return plan(
        texts, [f"backlog-{i}" for i in range(spaces)], sorted(library_yaml()), prefix="b", jobs=calls
    )


def capacity_calls_per_s(slots: int, mean_latency_s: float, users: Sequence[str], prefill: float) -> float:
    """Model calls per model second the emulator can serve for these user turns."""
    mean_prefill = statistics.fmean(tokens(u) for u in users) / prefill if users else 0.0
    return slots / (mean_latency_s + mean_prefill)


async def run_backlog(
    planned: Sequence[Planned], *, slots: int, mean_latency_s: float, time_scale: float, seed: int
) -> dict[str, Any]:
    keys = job_keys(planned)
    spaces = sorted({p.message.space_id for p in planned})
    policy_ids = sorted(library_yaml())
    async with (
        EmulatorProcess(slots=slots, mean_latency_s=mean_latency_s, time_scale=time_scale, seed=seed) as emu,
        CoreRig(emu.url, workers=slots, time_scale=time_scale) as rig,
    ):
        for space in spaces:
            await rig.add_space(space, policy_ids)
        t0 = time.monotonic()
        for p in planned:
            await rig.submit(p.message)
        submitted = time.monotonic()
        await rig.wait_verdicts(keys, timeout_s=60 + 10 * len(keys) * mean_latency_s * time_scale)
        t1 = time.monotonic()
        win = window_figures(emu.spans(), t0, t1, slots, time_scale)
        whole = emu.stats(t0, t1)["utilisation"]
        st = asdict(rig.core.pipeline.stats)
    wall = (t1 - t0) / time_scale
    return {
        "messages": len(planned),
        "spaces": len(spaces),
        "policies": len(policy_ids),
        "jobs": len(keys),
        "slots": slots,
        "time_scale": time_scale,
        "submit_real_ms_per_msg": (submitted - t0) / len(planned) * 1000,
        "first_call_after_real_ms": (win.get("first_start", t0) - t0) * 1000,
        "wall_s": wall,
        "calls_per_s": st["model_calls"] / wall,
        "utilisation_with_tail": whole,
        "pipeline": st,
        **win,
    }


async def run_direct_matched(
    planned: Sequence[Planned], *, slots: int, mean_latency_s: float, time_scale: float, seed: int
) -> dict[str, Any]:
    """The direct load generator on the backlog's jobs: the same user turns, same emulator seed."""
    users = user_messages(planned)
    async with EmulatorProcess(
        slots=slots, mean_latency_s=mean_latency_s, time_scale=time_scale, seed=seed
    ) as emu:
        t0 = time.monotonic()
        result = await run_direct_load(calls=len(users), texts=users, emulator=emu)
        t1 = time.monotonic()
        win = window_figures(emu.spans(), t0, t1, slots, time_scale)
    result["backlog_window"] = win
    return result


async def run_latency(
    texts: Sequence[str],
    *,
    jobs: int,
    load: float,
    slots: int,
    mean_latency_s: float,
    time_scale: float,
    seed: int,
    prefill_tok_per_s: float = 3000.0,
) -> dict[str, Any]:
    """Poisson arrivals of one-policy candidates at `load` x capacity; latencies in model seconds."""
    policy_ids = sorted(library_yaml())
    planned = plan(texts, ["live-0"], policy_ids, prefix="l", jobs=jobs, exactly_one=True)
    keys = job_keys(planned)
    capacity = capacity_calls_per_s(slots, mean_latency_s, user_messages(planned), prefill_tok_per_s)
    offsets = poisson_times(len(planned), load * capacity / time_scale, seed)
    async with (
        EmulatorProcess(slots=slots, mean_latency_s=mean_latency_s, time_scale=time_scale, seed=seed) as emu,
        CoreRig(emu.url, workers=slots, time_scale=time_scale) as rig,
    ):
        await rig.add_space("live-0", policy_ids)
        t0 = time.monotonic()
        late = 0.0
        for p, offset in zip(planned, offsets, strict=True):
            delay = t0 + offset - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                late = max(late, -delay)
            await rig.submit(p.message)
        await rig.wait_verdicts(keys, timeout_s=60 + 10 * len(keys) * mean_latency_s * time_scale)
        await asyncio.sleep(3 * rig.core.settings.outbox_poll_s)  # let the outbox loop post the cards
        t1 = time.monotonic()
        emu_stats = emu.stats(t0, t1)
        verdict = [x / time_scale for x in rig.verdict_latencies(keys)]
        flag = [x / time_scale for x in rig.flag_latencies()]
        outbox = [
            (posted - rig.verdicts[k]) / time_scale
            for k, posted in rig.platform.flags.items()
            if k in rig.verdicts
        ]
        st = asdict(rig.core.pipeline.stats)
        poll_s = rig.core.settings.outbox_poll_s
    return {
        "messages": len(planned),
        "jobs": len(keys),
        "load": load,
        "capacity_calls_per_s": capacity,
        "offered_calls_per_s": load * capacity,
        "utilisation": emu_stats["utilisation"],
        "max_submit_lateness_real_ms": late * 1000,
        "flags": len(flag),
        "verdict_p50_s": percentile(verdict, 50),
        "verdict_p95_s": percentile(verdict, 95),
        "flag_p50_s": percentile(flag, 50),
        "flag_p95_s": percentile(flag, 95),
        "outbox_delay_p50_s": percentile(outbox, 50),
        "outbox_delay_p95_s": percentile(outbox, 95),
        "outbox_poll_model_s": poll_s / time_scale,
        "model_busy_per_call_s": emu_stats["busy_s"] / max(1, st["model_calls"]),
        "time_scale": time_scale,
        "pipeline": st,
    }
