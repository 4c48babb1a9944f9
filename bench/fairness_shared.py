"""A quiet space beside a 100x flood, with one and with two processes on one Postgres.

The fairness benchmark (bench/fairness_bench.py) again, but the store is a throwaway PostgreSQL
cluster (as the tests start theirs) and the quiet space's jobs and the flood's are claimed from the
shared queue by one core, then by two cores (two connection pools, as two processes would have)
sharing the emulated GPU's slots. Target: the quiet space's p95 beside the flood within 2x its
calm value, with two processes as with one.

    python -m bench.fairness_shared [--quiet 20] [--write-docs]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from typing import Any

from bench.data import EvalDataMissingError, load_messages
from bench.docs import DOCS_PATH, write_section
from bench.fairness_bench import TARGET_RATIO, run_fairness

SECTION = "Postgres: a quiet space beside a flood, one and two processes"


async def run(quiet: int, slots: int, time_scale: float) -> list[dict[str, Any]]:
    from tests.pg_server import running_cluster  # the tests' throwaway cluster

    texts = [s.text for s in load_messages()]
    rows = []
    with running_cluster() as cluster:
        for processes in (1, 2):
            print(f"fairness on Postgres: {processes} process(es), {quiet} quiet messages...", flush=True)
            result = await run_fairness(
                texts, quiet_messages=quiet, factor=100, interval_s=2.0, slots=slots,
                mean_latency_s=1.0, time_scale=time_scale, seed=0,
                database=lambda: str(cluster.new_database()), processes=processes,
            )  # fmt: skip
            rows.append({"processes": processes, **result})
    return rows


def table(rows: Sequence[dict[str, Any]]) -> list[str]:
    lines = [
        "| processes | quiet p95 alone | quiet p95 beside the flood | ratio | target | flood jobs left |",
        "|---|---|---|---|---|---|",
    ]
    for r in rows:
        ratio = r["p95_ratio"]
        met = "met" if ratio <= TARGET_RATIO else "MISSED"
        lines.append(
            f"| {r['processes']} | {r['alone']['p95_s']:.2f} s | {r['flooded']['p95_s']:.2f} s "
            f"| {ratio:.2f}x | <= {TARGET_RATIO:g}x ({met}) | {r['flooded']['flood_jobs_waiting_at_end']:,} |"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.fairness_shared", description=__doc__)
    p.add_argument("--quiet", type=int, default=20, help="quiet-space messages (default 20)")
    p.add_argument("--slots", type=int, default=2, help="emulated GPU slots, shared by the processes")
    p.add_argument("--time-scale", type=float, default=0.2, help="real seconds per model second")
    p.add_argument("--write-docs", action="store_true", help=f"update {SECTION!r} in docs/benchmarks.md")
    args = p.parse_args(argv)
    try:
        rows = asyncio.run(run(args.quiet, args.slots, args.time_scale))
    except EvalDataMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    lines = table(rows)
    print("\n".join(lines))
    if args.write_docs:
        intro = [
            "The fairness benchmark on a throwaway PostgreSQL 15 cluster: a quiet space posts one "
            "candidate every 2 model seconds while another space floods 100 times as many distinct "
            f"candidates; {args.slots} emulated GPU slots shared by all model workers (one process: "
            f"{args.slots} workers; two: {max(1, args.slots // 2)} each), mean 1 model second per call. "
            "p95 of the quiet space's submit-to-verdict wait, in model seconds.",
            "",
            *lines,
            "",
            f"Reproduce: `.venv/bin/python -m bench.fairness_shared --quiet {args.quiet} --write-docs`.",
        ]
        write_section(SECTION, intro, DOCS_PATH)
        print(f"wrote {DOCS_PATH}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
