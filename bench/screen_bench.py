"""The learning curve: model calls and recall as the screen learns, at a fixed GPU capacity.

A labelled stream (bench/screen_data.py, or any JSONL) is replayed through the bot's own parts:
the library policies' prefilters, the learned screens (`Screens`, storing labels and models in
an in-memory store and retraining as the bot does) and the `FairScheduler`, under a simulated
clock. The GPU takes `capacity` calls per 1,000 messages; each call is answered by an emulated
model that returns the data set's label; the pipeline's verdict cache answers a text already
checked under the same policy without a call, as in the bot. A violation counts as caught when the
model (or the cache, with the model's earlier answer) judged it under the policy it violates. The
same stream runs twice: keywords alone, and with the screen (and once more without the cache, for
chat that never repeats itself).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from bench.screen_ceiling import screen_ceiling
from bench.screen_data import Labelled
from bot.core.messages import IncomingMessage, PolicyRef, Verdict
from bot.core.policies import Policy
from bot.core.prefilter import PreparedText
from bot.core.scheduler import FairScheduler, Offer
from bot.core.screen import Screens, ScreenSettings, wilson
from bot.core.vcache import VerdictCache, cache_key
from bot.store import Store
from bot.store.records import Job

__all__ = ["CHECKPOINTS", "DEFAULT_RANDOM_RATE", "other_draws", "run_screen"]

CHECKPOINTS = (1_000, 10_000, 20_000, 30_000, 40_000, 50_000)
LEARNED_FROM = 10_000  # the screen's recall is also reported over everything after this
SPACE = "bench"
DEFAULT_RANDOM_RATE = ScreenSettings().random_rate  # the bot's own default
MSGS_PER_S = 10.0  # simulated arrival rate; offers age out after 120 s = 1,200 messages


@dataclass
class _Run:
    caught: set[int] = field(default_factory=set)
    calls: int = 0
    by_reason: Counter[str] = field(default_factory=Counter)
    curve: list[dict[str, Any]] = field(default_factory=list)
    window_start: int = 0
    window_calls: int = 0
    screen_checks: Counter[str] = field(default_factory=Counter)
    screen_hits: Counter[str] = field(default_factory=Counter)
    cache_hits: int = 0


def _job(n: int, idx: int, text: str, policy: Policy, reason: str) -> Job:
    return Job(
        id=n, dedupe_key=f"j{n}", space_id=SPACE, platform="bench", channel_id="c", channel_name="",
        message_id=str(idx), author_id="u", author_name="", text=text, context=(), edited=False,
        sent_at=0.0, policy_id=policy.id, policy_version=policy.version, policy_hash=policy.content_hash,
        match_reason=reason, status="done", attempts=0, not_before=0.0, last_error=None, escalate=False,
        created_at=0.0, updated_at=0.0,
    )  # fmt: skip


def _verdict(policy: Policy, violation: bool) -> Verdict:
    return Verdict(
        violation=violation, confidence="high", rule_ids=(), category=None, rationale="", reasoning="",
        tier=1, model="emulated", policy=PolicyRef(policy.id, policy.version, policy.content_hash),
        latency_ms=0.0,
    )  # fmt: skip


def _recall(caught: set[int], stream: Sequence[Labelled], lo: int, hi: int) -> tuple[int, int]:
    positives = [i for i in range(lo, hi) if stream[i].label]
    return sum(1 for i in positives if i in caught), len(positives)


async def _replay(
    stream: Sequence[Labelled],
    policies: Sequence[Policy],
    *,
    capacity: float,
    screen: bool,
    random_rate: float,
    cache: bool = True,
) -> dict[str, Any]:
    by_id = {p.id: p for p in policies}
    now = [0.0]
    scheduler = FairScheduler(lambda _s: 10**9, lambda: now[0], offers_per_space=256, offer_max_age_s=120.0)
    store = await Store.open(":memory:")
    screens = Screens(store, ScreenSettings(random_rate=random_rate)) if screen else None
    jobs: dict[int, tuple[int, str, str]] = {}  # job id -> (message index, policy id, reason)
    run = _Run()
    credit = 0.0
    train_s = 0.0
    next_id = 0
    checkpoints = [c for c in CHECKPOINTS if c < len(stream)] + [len(stream)]

    answers = VerdictCache(clock=lambda: now[0])  # the pipeline's: a repeated text costs no call

    async def check(idx: int, policy: Policy, reason: str) -> bool:
        """Whether the GPU was used (a cached answer costs none)."""
        item = stream[idx]
        violation = item.label == 1 and item.policy == policy.id
        key = cache_key(policy.content_hash, item.text)
        known = answers.get(key)
        if known is not None:
            # The pipeline answers from its cache: the verdict is stored and flagged if it is a
            # violation, without a call.
            run.cache_hits += 1
            violation = known.violation
        else:
            if cache:
                answers.put(key, _verdict(policy, violation))
            run.calls += 1
            run.window_calls += 1
            run.by_reason[reason] += 1
            if reason == "screen":
                run.screen_checks[policy.id] += 1
                run.screen_hits[policy.id] += violation
        if violation:
            run.caught.add(idx)
        if screens is not None:
            job = _job(run.calls, idx, item.text, policy, reason)
            await screens.observe(job, policy, _verdict(policy, violation), cached=known is not None)
        return known is None

    try:
        if screens is not None:
            await screens.ready(list(policies))
        for idx, item in enumerate(stream):
            now[0] = idx / MSGS_PER_S
            prepared = PreparedText.of(item.text)
            unmatched: list[Policy] = []
            for policy in policies:
                hit = policy.prefilter.match(prepared)
                reason: str = hit.reason if hit else ""
                if screens is not None and screens.drawn(SPACE, str(idx), policy.id):
                    reason = "random"
                if reason:
                    next_id += 1
                    jobs[next_id] = (idx, policy.id, reason)
                    scheduler.put(SPACE, next_id)
                else:
                    unmatched.append(policy)
            if screens is not None and unmatched:
                for policy, score in zip(unmatched, screens.scores(prepared, SPACE, unmatched), strict=True):
                    if score >= screens.settings.min_score:
                        msg = IncomingMessage("bench", SPACE, "c", str(idx), "u", "", item.text)
                        priority = screens.priority(policy.id, score)
                        scheduler.offer(SPACE, Offer(priority, msg, policy.id, 1, ""))
            credit = min(credit + capacity / 1000.0, 1.0 + capacity / 1000.0)  # an idle GPU banks nothing
            while credit >= 1.0:
                got = scheduler.poll()
                if got is None:
                    break
                work = got[1]
                if isinstance(work, Offer):
                    used = await check(int(work.message.message_id), by_id[work.policy_id], "screen")
                else:
                    m_idx, pid, reason = jobs.pop(work)
                    used = await check(m_idx, by_id[pid], reason)
                credit -= 1.0 if used else 0.0
            if screens is not None and (due := screens.due()):
                started = time.perf_counter()
                for pid in due:
                    await screens.retrain(pid)
                train_s += time.perf_counter() - started
            if idx + 1 == checkpoints[0]:
                _checkpoint(run, stream, idx + 1)
                checkpoints.pop(0)
        backlog = len(jobs)
        for m_idx, pid, reason in list(jobs.values()):  # certain work is never dropped: it runs later
            await check(m_idx, by_id[pid], reason)
        random_est = await _random_estimate(screens, policies) if screens is not None else None
    finally:
        await store.close()
    start = min(LEARNED_FROM, len(stream) // 5)
    found, total = _recall(run.caught, stream, start, len(stream))
    return {
        "curve": run.curve,
        "learned": {"window": f"{start:,}-{len(stream):,}", "recall": found / total if total else 0.0},
        "calls": run.calls,
        "calls_per_1000": 1000 * run.calls / len(stream),
        "cache_hits": run.cache_hits,
        "by_reason": dict(run.by_reason),
        "screen_checks": {p: (run.screen_checks[p], run.screen_hits[p]) for p in sorted(run.screen_checks)},
        "certain_backlog_at_end": backlog,
        "per_policy": _per_policy(run.caught, stream, by_id),
        "offers": vars(scheduler.offer_stats) if screens is not None else None,
        "screens": vars(screens.stats) if screens is not None else None,
        "random_estimate": random_est,
        "train_s": train_s,
    }


def _checkpoint(run: _Run, stream: Sequence[Labelled], upto: int) -> None:
    hit, total = _recall(run.caught, stream, 0, upto)
    w_hit, w_total = _recall(run.caught, stream, run.window_start, upto)
    run.curve.append(
        {
            "messages": upto,
            "calls_per_1000": 1000 * run.calls / upto,
            "recall": hit / total if total else 0.0,
            "violations": total,
            "window": f"{run.window_start:,}-{upto:,}",
            "window_calls_per_1000": 1000 * run.window_calls / max(1, upto - run.window_start),
            "window_recall": w_hit / w_total if w_total else 0.0,
            "window_violations": w_total,
        }
    )
    run.window_start, run.window_calls = upto, 0


def _per_policy(caught: set[int], stream: Sequence[Labelled], by_id: dict[str, Policy]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for pid in sorted({s.policy for s in stream if s.label and s.policy in by_id}):
        idx = [i for i, s in enumerate(stream) if s.label and s.policy == pid]
        out[pid] = {"violations": len(idx), "recall": sum(i in caught for i in idx) / len(idx)}
    return out


async def _random_estimate(screens: Screens, policies: Sequence[Policy]) -> dict[str, Any]:
    v = k = s = n = 0
    for policy in policies:
        counts = await screens.store.screens.check_counts(policy.id)
        v, k, s, n = v + counts.violations, k + counts.by_keyword, s + counts.by_screen, n + counts.checks
    return {
        "checks": n,
        "violations": v,
        "keyword_recall": k / v if v else None,
        "screen_recall": s / v if v else None,
        "screen_recall_ci95": wilson(s, v),
    }


def run_screen(
    stream: Sequence[Labelled],
    policies: Sequence[Policy],
    *,
    capacity: float = 100.0,
    random_rate: float = DEFAULT_RANDOM_RATE,
    sweep: Sequence[float] = (200.0, 400.0),
) -> dict[str, Any]:
    """Replay `stream` with keywords alone and with the screen; every figure of both runs, and the
    screen's last-window recall at the larger capacities in `sweep`."""
    started = time.perf_counter()
    keywords = asyncio.run(_replay(stream, policies, capacity=capacity, screen=False, random_rate=0.0))
    screened = asyncio.run(_replay(stream, policies, capacity=capacity, screen=True, random_rate=random_rate))
    more = []
    for cap in sweep:
        run = asyncio.run(_replay(stream, policies, capacity=cap, screen=True, random_rate=random_rate))
        last = run["curve"][-1]
        more.append({"capacity": cap, "window": last["window"], "recall": last["window_recall"]})
    # The same run with every check a model call: what the screen does where chat never repeats.
    bare = asyncio.run(
        _replay(stream, policies, capacity=capacity, screen=True, random_rate=random_rate, cache=False)
    )
    caught_kw = sum(p["recall"] * p["violations"] for p in keywords["per_policy"].values())
    caught_sc = sum(p["recall"] * p["violations"] for p in screened["per_policy"].values())
    return {
        "messages": len(stream),
        "violations": sum(s.label for s in stream),
        "capacity_per_1000": capacity,
        "random_rate": random_rate,
        "keywords": keywords,
        "screen": screened,
        "never_fewer_caught": round(caught_sc) >= round(caught_kw),
        "sweep": more,
        "uncached": {"last": bare["curve"][-1], "learned": bare["learned"]},
        "repeats": len(stream) - len({s.text for s in stream}),
        "ceiling": screen_ceiling(stream, policies, (capacity, *sweep)),
        "wall_s": time.perf_counter() - started,
    }


def other_draws(
    streams: Sequence[tuple[int, Sequence[Labelled]]],
    policies: Sequence[Policy],
    *,
    capacity: float = 100.0,
    random_rate: float = DEFAULT_RANDOM_RATE,
) -> list[dict[str, Any]]:
    """The screen's run on other draws (seeds) of the same data: one seed's figure may be luck."""
    out = []
    for seed, stream in streams:
        run = asyncio.run(_replay(stream, policies, capacity=capacity, screen=True, random_rate=random_rate))
        last = run["curve"][-1]
        out.append(
            {"seed": seed, "window": last["window"], "last": last["window_recall"], "learned": run["learned"]}
        )
    return out
