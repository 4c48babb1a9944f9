"""`python -m bench`: run every benchmark that exists so far and print one table of figures.

Benchmarks are not tests: they measure and print. Model time is emulated (see bench/emulator.py)
and compressed by --time-scale; every figure is converted back to real model seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from bench.data import EvalDataMissingError, Sample, load_messages
from bench.direct_load import run_direct_load
from bench.prefilter_bench import TARGET_MSGS_PER_S, load_policies, profile_prefilter, run_prefilter

Row = tuple[str, str, str, str]  # benchmark, figure, value, target / note


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer calls and messages (about 15 s)")
    p.add_argument("--only", choices=["direct", "prefilter"], help="run one benchmark")
    p.add_argument("--slots", type=int, default=2, help="model slots (OLLAMA_NUM_PARALLEL), default 2")
    p.add_argument("--calls", type=int, help="direct-load calls (default 200, quick 60)")
    p.add_argument("--latency", type=float, default=1.0, help="mean model seconds per call (20b low: 1.0)")
    p.add_argument("--time-scale", type=float, help="real seconds per model second (default 0.2, quick 0.1)")
    p.add_argument("--messages", type=int, help="prefilter messages (default all ~9.2k, quick 2000)")
    p.add_argument("--repeat", type=int, help="prefilter passes, best counts (default 2, quick 1)")
    p.add_argument("--profile", action="store_true", help="profile the prefilter even if fast enough")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="also print every figure as JSON")
    return p


def _direct_rows(r: dict[str, Any]) -> list[Row]:
    b = f"direct load ({r['slots']} slots)"
    overhead_ms = r["overhead_per_call_real_ms"]
    return [
        (b, "calls ok / errors", f"{r['ok']} / {r['errors']}", r["first_error"][:60]),
        (b, "throughput", f"{r['calls_per_s']:.3f} calls/s", f"ideal {r['ideal_calls_per_s']:.3f}"),
        (b, "slot utilisation", f"{r['utilisation']:.1%}", "baseline for pipeline (>= 0.95x)"),
        (b, "mean latency (client)", f"{r['client_latency_mean_s']:.3f} s", "model seconds"),
        (b, "mean busy per call", f"{r['server_busy_per_call_s']:.3f} s", "model seconds"),
        (
            b,
            "overhead per call",
            f"{overhead_ms:.2f} ms real",
            f"= {overhead_ms / r['time_scale']:.0f} ms model at time scale {r['time_scale']}",
        ),
        (b, "utilisation at real speed", f"{r['utilisation_at_real_speed']:.1%}", "same overhead, 1x time"),
        (b, "wall", f"{r['wall_s']:.1f} s model", f"{r['real_wall_s']:.1f} s real"),
    ]


def _prefilter_rows(r: dict[str, Any]) -> list[Row]:
    b = f"prefilter ({r['policies']} policies)"
    ok = "ok" if r["msgs_per_s"] >= r["target_msgs_per_s"] else "BELOW TARGET"
    rows: list[Row] = [
        (b, "throughput (1 core)", f"{r['msgs_per_s']:,.0f} msgs/s", f">= {r['target_msgs_per_s']:,} {ok}"),
        (b, "prepare / match", f"{r['prepare_us_per_msg']:.0f} / {r['match_us_per_msg']:.0f} us/msg", ""),
        (
            b,
            "model calls",
            f"{r['model_calls']:,} of {r['model_calls_without_prefilter']:,}",
            f"{r['calls_saved_share']:.1%} saved",
        ),
        (b, "msgs with a candidate", f"{r['messages_with_any_candidate']:,} of {r['messages']:,}", ""),
    ]
    for pid, e in r["per_policy"].items():
        note = f"saves {e['saved_share']:.1%}"
        if "selected_pos_share" in e:
            note += f"; picks {e['selected_pos_share']:.0%} of pos, {e['selected_neg_share']:.1%} of neg"
        rows.append((b, f"  {pid}", f"{e['selected']:,} selected", note))
    return rows


def _print_table(rows: Sequence[Row]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    last = ""
    for bench, figure, value, note in rows:
        label = bench if bench != last else ""
        last = bench
        print(f"{label:<{widths[0]}}  {figure:<{widths[1]}}  {value:>{widths[2]}}  {note}".rstrip())


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    quick = args.quick
    calls = args.calls or (60 if quick else 200)
    # Client+HTTP overhead is ~2-4 ms real per call on a small box and does not shrink with the
    # time scale, so stronger compression understates utilisation: 0.2 keeps it near 2%.
    time_scale = args.time_scale or (0.1 if quick else 0.2)
    n_msgs = args.messages or (2000 if quick else None)
    repeat = args.repeat or (1 if quick else 2)
    try:
        samples: list[Sample] = load_messages(n_msgs)
    except EvalDataMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    texts = [s.text for s in samples]
    rows: list[Row] = []
    results: dict[str, Any] = {}
    started = time.monotonic()

    if args.only in (None, "prefilter"):
        print(f"prefilter: {len(texts):,} messages x {repeat} pass(es)...", flush=True)
        policies = load_policies()
        pre = run_prefilter(texts, [s.label for s in samples], policies=policies, repeat=repeat)
        results["prefilter"] = pre
        rows += _prefilter_rows(pre)
        if args.profile or pre["msgs_per_s"] < TARGET_MSGS_PER_S:
            # Too slow: show where the time goes rather than guessing (bench never edits bot/).
            print("\nprefilter profile (bot/ and re2 functions by cumulative time, 1,000 messages):")
            print(profile_prefilter(texts[:1000], policies))

    if args.only in (None, "direct"):
        print(f"direct load: {calls} calls, {args.slots} slots, time scale {time_scale}...", flush=True)
        direct = asyncio.run(
            run_direct_load(
                calls=calls,
                slots=args.slots,
                mean_latency_s=args.latency,
                time_scale=time_scale,
                texts=texts,
                seed=args.seed,
            )
        )
        results["direct"] = direct
        rows += _direct_rows(direct)

    print(f"\nfigures ({time.monotonic() - started:.1f} s):")
    _print_table(rows)
    if "prefilter" in results:
        print("pos / neg: messages the source data labels spam or harmful (any kind) / clean;")
        print("           a rough recall view, not each policy's own ground truth.")
    if args.json:
        print(json.dumps(results, indent=2, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
