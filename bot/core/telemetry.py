"""Counters the core keeps in memory for the metrics endpoint: cheap to update, read at scrape.

The pipeline counts candidates and the classifier every call to a tier (whoever asked: the
pipeline, an appeal's second opinion, `modbot check`); everything else the
metrics report (flags, decisions, appeals, queue age) is read from the store when scraped.
Nothing here imports prometheus: `bot/ops/metrics.py` turns these into metric families.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass, field

from bot.core.messages import Result, Unavailable, Verdict

# Seconds; a low-effort 20b call is about 1 s, a 120b escalation several.
LATENCY_BUCKETS: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 15.0, 30.0, 60.0, 120.0)


@dataclass
class Histogram:
    """Cumulative-on-read histogram of observations in seconds."""

    bounds: tuple[float, ...] = LATENCY_BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    total: float = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect.bisect_left(self.bounds, value)] += 1
        self.total += value

    def cumulative(self) -> list[tuple[str, int]]:
        """(upper bound, observations <= bound) pairs ending with +Inf, as Prometheus wants."""
        out: list[tuple[str, int]] = []
        running = 0
        for bound, count in zip((*self.bounds, float("inf")), self.counts, strict=True):
            running += count
            out.append(("+Inf" if bound == float("inf") else repr(bound), running))
        return out

    @property
    def count(self) -> int:
        return sum(self.counts)


@dataclass
class Telemetry:
    candidates: Counter[str] = field(default_factory=Counter)  # policy id -> prefilter candidates
    model_calls: Counter[tuple[int, str]] = field(default_factory=Counter)  # (tier, outcome)
    latency: dict[int, Histogram] = field(default_factory=dict)  # tier -> seconds per call
    errors: Counter[str] = field(default_factory=Counter)  # kind -> count

    def candidate(self, policy_id: str) -> None:
        self.candidates[policy_id] += 1

    def model_call(self, result: Result) -> None:
        """One call to one tier: its outcome (verdict, or why there was none) and its latency."""
        outcome = "verdict" if isinstance(result, Verdict) else result.reason
        self.model_calls[(result.tier, outcome)] += 1
        self.latency.setdefault(result.tier, Histogram()).observe(result.latency_ms / 1000)
        if isinstance(result, Unavailable):
            self.errors[f"model_{result.reason}"] += 1

    def error(self, kind: str) -> None:
        self.errors[kind] += 1
