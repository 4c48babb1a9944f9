"""A quiet space's wait, alone and beside a 100x flood from another space (target: <= 2x).

The quiet space posts one candidate message every `interval_s` model seconds (a low load).
In the flood run another space posts `factor` times as many distinct candidate messages over
the same period, far beyond model capacity, from its own task (as a platform adapter would
dispatch events). Only the quiet space's submit -> verdict latency is measured; the flood's
backlog is abandoned when the quiet messages are done.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.emulator_proc import EmulatorProcess
from bench.rig import CoreRig, library_yaml
from bench.workload import Planned, job_keys, percentile, plan

__all__ = ["TARGET_RATIO", "run_fairness"]

TARGET_RATIO = 2.0


async def _paced(rig: CoreRig, planned: Sequence[Planned], t0: float, step_real_s: float) -> float:
    """Submit at t0, t0 + step, ...; the worst lateness (real seconds) against that schedule."""
    late = 0.0
    for i, p in enumerate(planned):
        delay = t0 + i * step_real_s - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            late = max(late, -delay)
        await rig.submit(p.message)
    return late


async def _one_run(
    quiet: Sequence[Planned],
    flood: Sequence[Planned],
    *,
    interval_s: float,
    slots: int,
    mean_latency_s: float,
    time_scale: float,
    seed: int,
    database: str | None = None,
    processes: int = 1,
) -> dict[str, Any]:
    policy_ids = sorted(library_yaml())
    keys = job_keys(quiet)
    async with (
        EmulatorProcess(slots=slots, mean_latency_s=mean_latency_s, time_scale=time_scale, seed=seed) as emu,
        contextlib.AsyncExitStack() as stack,
    ):
        # Several processes share the GPU's slots: as many model workers in all as with one.
        workers = max(1, slots // processes)
        rig = await stack.enter_async_context(
            CoreRig(emu.url, workers=workers, time_scale=time_scale, database=database)
        )
        for _ in range(processes - 1):
            await stack.enter_async_context(
                CoreRig(emu.url, workers=workers, time_scale=time_scale, database=database, beside=rig)
            )
        await rig.add_space("quiet", policy_ids)
        await rig.add_space("flood", policy_ids)
        step = interval_s * time_scale
        t0 = time.monotonic() + 0.05
        flood_task = None
        if flood:
            per_quiet = len(flood) / len(quiet)
            flood_task = asyncio.create_task(_paced(rig, flood, t0 - step / 2, step / per_quiet))
        late = await _paced(rig, quiet, t0, step)
        await rig.wait_verdicts(keys, timeout_s=60 + 20 * len(keys) * mean_latency_s * time_scale)
        flood_late = 0.0
        if flood_task is not None:
            flood_task.cancel()
            try:
                flood_late = await flood_task
            except asyncio.CancelledError:
                flood_late = float("nan")  # still submitting: the flood outlasted the quiet run
        waits = [x / time_scale for x in rig.verdict_latencies(keys)]
        flood_keys = [k for k in rig.submitted if k[0] == "flood"]
        queued = await _flood_waiting(rig)
        util = emu.stats(t0, time.monotonic())["utilisation"]
    return {
        "quiet_jobs": len(keys),
        "flood_messages_submitted": len(flood_keys),
        "flood_jobs_waiting_at_end": queued,
        "p50_s": percentile(waits, 50),
        "p95_s": percentile(waits, 95),
        "max_s": max(waits) if waits else float("nan"),
        "utilisation": util,
        "quiet_submit_lateness_real_ms": late * 1000,
        "flood_submit_lateness_real_ms": flood_late * 1000,
    }


async def _flood_waiting(rig: CoreRig) -> int:
    if rig.database is None:
        return rig.core.pipeline.scheduler.depth("flood")
    row = await rig.core.store.db.fetchone(
        "SELECT COUNT(*) AS n FROM inbox WHERE space_id = 'flood' AND status = 'pending'"
    )
    return int(row["n"]) if row else 0


async def run_fairness(
    texts: Sequence[str],
    *,
    quiet_messages: int,
    factor: int,
    interval_s: float,
    slots: int,
    mean_latency_s: float,
    time_scale: float,
    seed: int,
    database: Callable[[], str] | None = None,
    processes: int = 1,
) -> dict[str, Any]:
    """With `database` (a fresh postgresql:// URL per call), `processes` cores share it."""
    policy_ids = sorted(library_yaml())
    seen: set[str] = set()
    quiet = plan(
        texts, ["quiet"], policy_ids, prefix="q", messages=quiet_messages, exactly_one=True, seen=seen
    )
    want = quiet_messages * factor
    # Distinct flood texts (worst case for the cache): real texts, then numbered variants.
    flood: list[Planned] = []
    for round_no in range(20):
        if len(flood) >= want:
            break
        variants = list(texts) if round_no == 0 else [f"{t} ({round_no})" for t in texts]
        flood += plan(
            variants, ["flood"], policy_ids, prefix=f"f{round_no}-", messages=want - len(flood), seen=seen
        )
    runs = []
    for flood_msgs in ([], flood):
        runs.append(
            await _one_run(
                quiet,
                flood_msgs,
                interval_s=interval_s,
                slots=slots,
                mean_latency_s=mean_latency_s,
                time_scale=time_scale,
                seed=seed,
                database=database() if database else None,
                processes=processes,
            )
        )
    alone, flooded = runs
    return {
        "quiet_messages": len(quiet),
        "flood_messages": len(flood),
        "flood_jobs": len(job_keys(flood)),
        "factor": len(flood) / max(1, len(quiet)),
        "quiet_load": len(job_keys(quiet)) / (len(quiet) * interval_s) / slots * mean_latency_s,
        "alone": alone,
        "flooded": flooded,
        "p95_ratio": flooded["p95_s"] / alone["p95_s"] if alone["p95_s"] else float("nan"),
        "target_ratio": TARGET_RATIO,
        "mean_latency_s": mean_latency_s,
    }
