"""Throughput of a pool of model endpoints (MODEL_ENDPOINTS) with E = 1, 2, 4 emulated servers.

Each endpoint is an emulator process with the same slots and latency; the pool is built from
settings by the bot's own factory (`bot.app.build_pool`) and runs in a whole core (CoreRig),
one worker per slot across the pool. The same backlog per endpoint is submitted at once, so a
pool of E endpoints gets E times the work; throughput is model calls per model second from the
first submit to the last verdict. Target: E endpoints >= 0.9 x E x one endpoint's throughput.

    python -m bench.pool_bench [--quick] [--write-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from bench.data import EvalDataMissingError, load_messages
from bench.docs import write_section
from bench.emulator_proc import EmulatorProcess
from bench.pipeline_bench import backlog_plan
from bench.rig import CoreRig, library_yaml
from bench.workload import job_keys
from bot.app import build_pool, build_toolkit
from bot.config import Settings
from bot.core.classifier.tiered import TieredClassifier

TARGET_RATIO = 0.9
SECTION = "## Model endpoint pool"
DOCS_PATH = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


async def run_pool(
    endpoints: int, *, slots: int, jobs_per_endpoint: int, texts: list[str], latency: float, time_scale: float
) -> dict[str, Any]:
    planned = backlog_plan(texts, jobs_per_endpoint * endpoints)
    keys = job_keys(planned)
    async with AsyncExitStack() as stack:
        emus = [
            await stack.enter_async_context(
                EmulatorProcess(slots=slots, mean_latency_s=latency, time_scale=time_scale, seed=n)
            )
            for n in range(endpoints)
        ]
        settings = Settings(
            model_endpoints=", ".join(f"ollama={e.url};slots={slots}" for e in emus),
            ollama_timeout_s=120.0,
            _env_file=None,  # type: ignore[call-arg]
        )
        toolkit = await asyncio.to_thread(build_toolkit, settings)
        pool = build_pool(settings, toolkit)
        assert pool is not None  # noqa: S101 - MODEL_ENDPOINTS is set just above
        classifier = TieredClassifier(pool)
        rig = await stack.enter_async_context(
            CoreRig("", workers=settings.tier1_slots, time_scale=time_scale, classifier=classifier)
        )
        for space in sorted({p.message.space_id for p in planned}):
            await rig.add_space(space, sorted(library_yaml()))
        t0 = time.monotonic()
        for p in planned:
            await rig.submit(p.message)
        await rig.wait_verdicts(keys, timeout_s=60 + 10 * len(keys) * latency * time_scale / endpoints)
        wall = (time.monotonic() - t0) / time_scale
        calls = rig.core.pipeline.stats.model_calls
        per_endpoint = [s.calls for s in pool.status()]
    return {
        "endpoints": endpoints,
        "slots": slots * endpoints,
        "jobs": len(keys),
        "calls": calls,
        "wall_s": wall,
        "calls_per_s": calls / wall,
        "calls_per_endpoint": per_endpoint,
    }


def table(rows: list[dict[str, Any]], latency: float) -> list[str]:
    one = rows[0]["calls_per_s"]
    lines = [
        "| endpoints | slots | jobs | model s | calls/s | x one endpoint | target | calls per endpoint |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        e = r["endpoints"]
        ratio = r["calls_per_s"] / one
        verdict = "met" if ratio >= TARGET_RATIO * e else "MISSED"
        lines.append(
            f"| {e} | {r['slots']} | {r['jobs']} | {r['wall_s']:.1f} | {r['calls_per_s']:.2f} | "
            f"{ratio:.2f} | >= {TARGET_RATIO * e:.1f} ({verdict}) | {r['calls_per_endpoint']} |"
        )
    lines.append(f"\n(emulated model: {latency:g} s mean per call; calls/s in model time)")
    return lines


def section_lines(lines: list[str], command: str) -> list[str]:
    return [
        "A pool of E emulated Ollama servers (MODEL_ENDPOINTS), the same slots and latency each,",
        "in a whole core with one worker per slot; E times the backlog of one endpoint.",
        f"Target: E endpoints >= {TARGET_RATIO} x E x one endpoint's throughput. Run: `{command}`.",
        "",
        *lines,
    ]


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    texts = [s.text for s in load_messages()]
    rows = []
    for e in (1, 2, 4):
        print(f"pool: {e} endpoint(s) x {args.slots} slots...", flush=True)
        rows.append(
            await run_pool(
                e, slots=args.slots, jobs_per_endpoint=args.jobs, texts=texts,
                latency=args.latency, time_scale=args.time_scale,
            )
        )  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.pool_bench", description=__doc__)
    p.add_argument("--slots", type=int, default=2, help="slots per endpoint (default 2)")
    p.add_argument("--jobs", type=int, default=120, help="jobs per endpoint (default 120)")
    p.add_argument("--latency", type=float, default=1.0, help="mean model seconds per call")
    p.add_argument("--time-scale", type=float, default=0.2, help="real seconds per model second")
    p.add_argument("--write-docs", action="store_true", help=f"update {SECTION!r} in docs/benchmarks.md")
    args = p.parse_args(argv)
    try:
        rows = asyncio.run(main_async(args))
    except EvalDataMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    lines = table(rows, args.latency)
    print("\n".join(lines))
    if args.write_docs:
        command = " ".join(["python -m bench.pool_bench", *(argv if argv is not None else sys.argv[1:])])
        write_section(SECTION.removeprefix("## "), section_lines(lines, command), DOCS_PATH)
        print(f"wrote {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
