"""`modbot eval`: measure a policy (and its prefilter) on a labelled data set."""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bot.app import build_engine
from bot.cli.common import CliError, err, find_policy
from bot.config import Settings
from bot.core.classifier.base import ClassifyRequest
from bot.core.evaluate import (
    DEFAULT_POSITIVE,
    Confusion,
    DatasetError,
    LatencyStats,
    Sample,
    read_samples,
)
from bot.core.messages import Verdict
from bot.core.policies import Policy
from bot.core.prefilter import PreparedText
from bot.core.screen import ScreenModel, Screens
from bot.core.screen import evaluate as screen_eval
from bot.store import Store


def register(sub: Any) -> None:
    p = sub.add_parser(
        "eval",
        help="precision, recall, F1 and latency of a policy on a labelled file",
        description="Evaluate a policy on JSONL, CSV or TSV data (optionally .gz). Messages "
        "the prefilter does not select count as 'allowed', as in the live bot. Numeric "
        "--text-field/--label-field mean column numbers of a headerless file.",
    )
    p.add_argument("--policy", required=True, metavar="ID|FILE")
    p.add_argument("--data", required=True, type=Path, metavar="FILE")
    p.add_argument("--text-field", required=True, metavar="F")
    p.add_argument("--label-field", required=True, metavar="L")
    p.add_argument(
        "--positive",
        default=",".join(sorted(DEFAULT_POSITIVE)),
        help="comma-separated label values that mean 'violation' (default: %(default)s)",
    )
    p.add_argument("--limit", type=int, help="only the first N rows")
    p.add_argument("--prefilter-only", action="store_true", help="no model calls")
    p.add_argument("--skip-prefilter", action="store_true", help="send every row to the model")
    p.add_argument("--concurrency", type=int, default=2, help="model calls at once (2)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    positive = frozenset(v.strip().lower() for v in args.positive.split(",") if v.strip())
    try:
        samples = read_samples(args.data, args.text_field, args.label_field, positive, args.limit)
        report = asyncio.run(_evaluate(args, settings, samples))
    except (CliError, DatasetError) as exc:
        err(str(exc))
        return 2
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        _print_report(report)
    return 3 if report["model"] and report["model"]["unavailable"] else 0


async def _evaluate(args: argparse.Namespace, settings: Settings, samples: list[Sample]) -> dict[str, Any]:
    async with build_engine(settings) as engine:
        policy = find_policy(engine.toolkit, args.policy)
        prefilter = Confusion()
        selected: list[tuple[int, Sample]] = []
        for i, sample in enumerate(samples):
            hit = policy.prefilter.match(PreparedText.of(sample.text), sample_key=str(i))
            prefilter.add(sample.positive, hit is not None)
            if hit is not None or args.skip_prefilter:
                selected.append((i, sample))
        report: dict[str, Any] = {
            "policy": f"{policy.id} v{policy.version}",
            "data": str(args.data),
            "rows": len(samples),
            "positives": sum(s.positive for s in samples),
            "prefilter": {
                "selected": len(selected) if not args.skip_prefilter else prefilter.tp + prefilter.fp,
                "recall_on_positives": round(prefilter.recall, 4),
                "missed_positives": prefilter.fn,
            },
            "model": None,
        }
        if args.prefilter_only:
            stored = await _stored_screen(settings, policy.id)
            positives = [s.positive for s in samples]
            texts = [s.text for s in samples]
            report["screen"] = await asyncio.to_thread(screen_eval.compare, policy, texts, positives, stored)
            return report
        model = Confusion()
        latency = LatencyStats()
        predictions = await _classify_all(engine.classifier, policy, selected, args.concurrency, latency)
        for i, sample in enumerate(samples):
            model.add(sample.positive, predictions.get(i, False))
        report["model"] = {
            "name": engine.classifier.tier1.model,
            "calls": len(selected),
            **model.summary(),
            "latency_ms": latency.summary(),
        }
        return report


async def _stored_screen(settings: Settings, policy_id: str) -> ScreenModel | None:
    """The promoted screen in the bot's database, if there is one (the file is never created here)."""
    path = settings.database_path
    if not await asyncio.to_thread(path.is_file):
        return None
    async with await Store.open(path) as store:
        screens = Screens(store)
        await screens.load()
        return screens.model(policy_id)


async def _classify_all(
    classifier: Any,
    policy: Policy,
    selected: list[tuple[int, Sample]],
    concurrency: int,
    latency: LatencyStats,
) -> dict[int, bool | None]:
    out: dict[int, bool | None] = {}
    queue: asyncio.Queue[tuple[int, Sample]] = asyncio.Queue()
    for item in selected:
        queue.put_nowait(item)
    bar = tqdm(total=len(selected), desc=f"eval {policy.id}", unit="msg", leave=False)

    async def worker() -> None:
        while not queue.empty():
            i, sample = queue.get_nowait()
            result = await classifier.classify(policy, ClassifyRequest(sample.text))
            latency.values_ms.append(result.latency_ms)
            out[i] = result.violation if isinstance(result, Verdict) else None
            bar.update(1)

    try:
        async with asyncio.TaskGroup() as tg:
            for _ in range(max(1, concurrency)):
                tg.create_task(worker())
    finally:
        bar.close()
    return out


def _print_report(report: dict[str, Any]) -> None:
    pf = report["prefilter"]
    print(f"{report['policy']} on {report['data']}: {report['rows']} rows, {report['positives']} positive")
    print(
        f"prefilter: selected {pf['selected']} rows for the model; recall on positives "
        f"{pf['recall_on_positives']:.1%} ({pf['missed_positives']} positives missed)"
    )
    for name, fig in (report.get("screen") or {}).items():
        print(
            f"  {name}: recall {fig['recall']:.1%}, pass rate {fig['pass_rate']:.1%} "
            f"({fig['selected']} rows to the model)"
        )
    m = report["model"]
    if not m:
        return
    c = Confusion(m["tp"], m["fp"], m["fn"], m["tn"], m["unavailable"])
    print(f"model {m['name']}: {m['calls']} calls")
    print(c.table())
    print(f"precision {m['precision']:.3f}  recall {m['recall']:.3f}  f1 {m['f1']:.3f}")
    lat = m["latency_ms"]
    print(f"latency ms: p50 {lat['p50']}  p90 {lat['p90']}  p95 {lat['p95']}  p99 {lat['p99']}")
    if m["unavailable"]:
        err(f"{m['unavailable']} calls got no usable answer: check the model server")
