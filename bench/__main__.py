"""`python -m bench`: run the benchmarks and print every figure, then one row per target.

Benchmarks are not tests: they measure and print. Model time is emulated (bench/emulator.py,
in its own process) and compressed by --time-scale; every figure is converted back to model
seconds. `--write-docs` rewrites docs/benchmarks.md from the run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bench.data import EvalDataMissingError, Sample, load_messages
from bench.docs import DOCS_PATH, write_docs
from bench.fairness_bench import run_fairness
from bench.memory_bench import run_memory
from bench.pipeline_bench import backlog_plan, run_backlog, run_direct_matched, run_latency
from bench.prefilter_bench import TARGET_MSGS_PER_S, load_policies, profile_prefilter, run_prefilter
from bench.report import detail_rows, print_table, summary_rows
from bench.screen_bench import DEFAULT_RANDOM_RATE, other_draws, run_screen
from bench.screen_data import Labelled, build_stream, heldout_stream, load_jsonl
from bench.stream_bench import run_stream
from bot.core.screen import Screens

BENCHMARKS = (
    "prefilter", "direct", "backlog", "latency", "stream", "fairness", "memory", "screen", "heldout",
)  # fmt: skip
STREAM_TIME_SCALE = 0.02  # counts, not timings: compress hard
MEMORY_TIME_SCALE = 0.01


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="smaller workloads (about 35 s instead of 2.5 min)")
    p.add_argument(
        "--only",
        action="append",
        choices=BENCHMARKS,
        help="run this benchmark (repeatable); backlog runs direct too",
    )
    p.add_argument("--slots", type=int, default=2, help="model slots = pipeline workers (default 2)")
    p.add_argument("--latency", type=float, default=1.0, help="mean model seconds per call (20b low: 1.0)")
    p.add_argument("--time-scale", type=float, help="real seconds per model second (default 0.2, quick 0.1)")
    p.add_argument("--calls", type=int, help="backlog and direct-load jobs (default 200, quick 60)")
    p.add_argument("--latency-jobs", type=int, help="jobs in the latency run (default 150, quick 60)")
    p.add_argument("--load", type=float, default=0.7, help="latency run arrival rate, share of capacity")
    p.add_argument(
        "--stream-messages", type=int, help="real messages in the stream (default 1500, quick 400)"
    )
    p.add_argument(
        "--quiet", type=int, help="quiet-space messages in the fairness run (default 20, quick 10)"
    )
    p.add_argument("--spaces", type=int, help="spaces in the memory run (default 1000, quick 250)")
    p.add_argument("--messages", type=int, help="prefilter messages (default all ~9.2k, quick 2000)")
    p.add_argument("--repeat", type=int, help="prefilter passes, best counts (default 2, quick 1)")
    p.add_argument("--profile", action="store_true", help="profile the prefilter even if fast enough")
    p.add_argument(
        "--screen-messages",
        type=int,
        help="screen learning-curve messages (default 50000, quick 10000)",
    )
    p.add_argument("--screen-data", type=Path, metavar="FILE.jsonl", help='{"text","policy","label"} lines')
    p.add_argument("--capacity", type=float, default=100.0, help="screen run: model calls per 1,000 messages")
    p.add_argument(
        "--random-rate",
        type=float,
        default=DEFAULT_RANDOM_RATE,
        help="screen run: random checks per pair (default: the bot's, %(default)g)",
    )
    p.add_argument(
        "--draws", type=int, default=None, help="screen runs: other seeds of each stream (default 3, quick 0)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="also print every figure as JSON")
    p.add_argument(
        "--write-docs", nargs="?", const=DOCS_PATH, type=Path, metavar="PATH",
        help=f"rewrite {DOCS_PATH.relative_to(DOCS_PATH.parents[1])} (or PATH) from this run",
    )  # fmt: skip
    return p


def _progress(text: str) -> None:
    print(text, flush=True)


def _prefilter(args: argparse.Namespace, samples: Sequence[Sample], results: dict[str, Any]) -> None:
    n = args.messages or (2000 if args.quick else None)
    chosen = samples[:n] if n else samples
    repeat = args.repeat or (1 if args.quick else 2)
    _progress(f"prefilter: {len(chosen):,} messages x {repeat} pass(es)...")
    policies = load_policies()
    texts = [s.text for s in chosen]
    results["prefilter"] = run_prefilter(
        texts, [s.label for s in chosen], policies=policies, repeat=repeat, screens=Screens(None)
    )
    if args.profile or results["prefilter"]["msgs_per_s"] < TARGET_MSGS_PER_S:
        # Too slow: show where the time goes rather than guessing (bench never edits bot/).
        results["prefilter_profile"] = profile_prefilter(texts[:1000], policies)


async def _pipeline(
    args: argparse.Namespace, samples: Sequence[Sample], want: set[str], results: dict[str, Any]
) -> None:
    quick = args.quick
    texts = [s.text for s in samples]
    scale = args.time_scale or (0.1 if quick else 0.2)
    model = {"slots": args.slots, "mean_latency_s": args.latency, "seed": args.seed}
    if want & {"backlog", "direct"}:
        planned = backlog_plan(texts, args.calls or (60 if quick else 200))
        if "backlog" in want:
            jobs = sum(len(p.policies) for p in planned)
            _progress(f"backlog: {jobs} jobs, {args.slots} slots, time scale {scale}...")
            results["backlog"] = await run_backlog(planned, time_scale=scale, **model)
        _progress("direct load: the same jobs through the bare ollama client...")
        results["direct"] = await run_direct_matched(planned, time_scale=scale, **model)
    if "latency" in want:
        jobs = args.latency_jobs or (60 if quick else 150)
        _progress(f"latency: {jobs} jobs at {args.load:.0%} of capacity...")
        results["latency"] = await run_latency(texts, jobs=jobs, load=args.load, time_scale=scale, **model)
    if "stream" in want:
        n = args.stream_messages or (400 if quick else 1500)
        _progress(f"stream: {n:,} real messages plus floods and redeliveries...")
        results["stream"] = await run_stream(samples, messages=n, time_scale=STREAM_TIME_SCALE, **model)
    if "fairness" in want:
        quiet = args.quiet or (10 if quick else 20)
        _progress(f"fairness: {quiet} quiet messages, alone and beside a {100 * quiet:,}-message flood...")
        results["fairness"] = await run_fairness(
            texts, quiet_messages=quiet, factor=100, interval_s=2.0, time_scale=scale, **model
        )
    if "memory" in want:
        spaces = args.spaces or (250 if quick else 1000)
        _progress(f"memory: {spaces:,} spaces x 5 policies in a fresh process...")
        results["memory"] = await run_memory(
            spaces=spaces, per_space=5, time_scale=MEMORY_TIME_SCALE, upload=True, **model
        )


def _screen(args: argparse.Namespace, results: dict[str, Any]) -> None:
    if args.screen_data:
        stream = load_jsonl(args.screen_data)
        source = str(args.screen_data)
    else:
        n = args.screen_messages or (10_000 if args.quick else 50_000)
        stream = build_stream(n, seed=args.seed)
        source = "shared eval data: SMS, YouTube, HateCheck incl. evasions, OpenAI moderation; 2 % violations"
    _progress(f"screen: {len(stream):,} labelled messages, keywords alone and with the screen...")
    results["screen"] = run_screen(
        stream, load_policies(), capacity=args.capacity, random_rate=args.random_rate
    ) | {"source": source, "seed": args.seed}
    if not args.screen_data:
        results["screen"]["draws"] = _draws(args, build_stream, len(stream))


def _heldout(args: argparse.Namespace, results: dict[str, Any]) -> None:
    """The screen on a data set none of its settings were chosen on (no capacity sweep)."""
    n = args.screen_messages or (10_000 if args.quick else 50_000)
    stream = heldout_stream(n, seed=args.seed)
    _progress(f"heldout: {len(stream):,} tweets the screen's settings were not chosen on...")
    source = "Davidson et al. tweets: hate speech as harassment among tweets neither hateful nor offensive"
    results["screen_heldout"] = run_screen(
        stream, load_policies(), capacity=args.capacity, random_rate=args.random_rate, sweep=()
    ) | {"source": source, "seed": args.seed}
    results["screen_heldout"]["draws"] = _draws(args, heldout_stream, n)


def _draws(args: argparse.Namespace, make: Callable[..., list[Labelled]], n: int) -> list[dict[str, Any]]:
    count = args.draws if args.draws is not None else (0 if args.quick else 3)
    seeds = [args.seed + k for k in range(1, count + 1)]
    if seeds:
        _progress(f"  ... and on {len(seeds)} other draws of the stream (seeds {seeds})")
    streams = [(seed, make(n, seed=seed)) for seed in seeds]
    return other_draws(streams, load_policies(), capacity=args.capacity, random_rate=args.random_rate)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    want = set(args.only or BENCHMARKS)
    if "backlog" in want:
        want.add("direct")
    started = time.monotonic()
    try:
        samples: list[Sample] = load_messages()
    except EvalDataMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    results: dict[str, Any] = {}
    if "prefilter" in want:
        _prefilter(args, samples, results)
    asyncio.run(_pipeline(args, samples, want, results))
    if "screen" in want:
        _screen(args, results)
    if "heldout" in want:
        _heldout(args, results)
    wall = time.monotonic() - started

    print(f"\nfigures ({wall:.1f} s):")
    print_table(detail_rows(results))
    if "prefilter" in results:
        print("pos / neg: messages the source data labels spam or harmful (any kind) / clean;")
        print("           a rough recall view, not each policy's own ground truth.")
    if "prefilter_profile" in results:
        print("\nprefilter profile (bot/ and re2 functions by cumulative time, 1,000 messages):")
        print(results["prefilter_profile"])
    print("\nsummary:")
    summary = summary_rows(results)
    if summary:
        print_table(summary, header=("figure", "value", "target", "result"))
    else:
        print("(no figure with a target in this selection)")
    if args.quick:
        print("quick: time scale 0.1 doubles the weight of per-call overhead; judge targets on a full run")
    print(f"\nwall time {wall:.1f} s")
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    if args.write_docs:
        run = {
            "command": " ".join(["python -m bench", *(argv if argv is not None else sys.argv[1:])]),
            "wall_s": wall,
            "full": not args.quick and not args.only,
            "slots": args.slots,
            "latency": args.latency,
            "seed": args.seed,
            "time_scale": args.time_scale or (0.1 if args.quick else 0.2),
            "stream_time_scale": STREAM_TIME_SCALE,
            "memory_time_scale": MEMORY_TIME_SCALE,
        }
        print(f"wrote {write_docs(results, run, args.write_docs)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
