"""Prometheus metrics read from the core at scrape time (a custom collector, no global registry).

In-memory counters (messages, candidates, model calls and latency, cache hits, outbox retries,
errors) come from the pipeline and the outbox; flags, decisions, precision, appeals and the
oldest waiting job come from the store, refreshed by the async /metrics handler just before
`collect()` runs, so collection itself never touches the database.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator

from prometheus_client import CollectorRegistry
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.exposition import choose_encoder
from prometheus_client.registry import Collector

from bot.core.classifier.tiered import TieredClassifier
from bot.core.service import ModerationCore
from bot.store.metrics import MetricsRepo, StoreSnapshot

DECIDED = ("removed", "dismissed", "timed_out", "upheld", "overturned")


class ErrorTally(logging.Handler):
    """Counts ERROR records by logger, so crashes logged anywhere show up as `errors{kind}`."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.counts: Counter[str] = Counter()

    def emit(self, record: logging.LogRecord) -> None:
        self.counts[f"logged:{record.name}"] += 1


class CoreCollector(Collector):
    def __init__(self, core: ModerationCore, clock: Callable[[], float] = time.time) -> None:
        self.core = core
        self.queries = MetricsRepo(core.store.db)
        self.tally = ErrorTally()
        self._clock = clock
        self._snapshot: StoreSnapshot | None = None

    async def refresh(self) -> None:
        self._snapshot = await self.queries.snapshot()

    def collect(self) -> Iterator[Metric]:
        pipeline = self.core.pipeline
        stats, tele = pipeline.stats, pipeline.classifier.telemetry
        yield _counter("modbot_messages_seen", "Messages submitted by the platforms", stats.submitted)
        cands = CounterMetricFamily(
            "modbot_prefilter_candidates", "Messages a policy's prefilter sent on", labels=["policy"]
        )
        for policy, n in sorted(tele.candidates.items()):
            cands.add_metric([policy], n)
        yield cands
        calls = CounterMetricFamily(
            "modbot_model_calls",
            "Model calls by tier and outcome (verdict or why not)",
            labels=["tier", "outcome"],
        )
        for (tier, outcome), n in sorted(tele.model_calls.items()):
            calls.add_metric([str(tier), outcome], n)
        yield calls
        latency = HistogramMetricFamily(
            "modbot_model_latency_seconds", "Seconds per model call, end to end", labels=["tier"]
        )
        for tier, hist in sorted(tele.latency.items()):
            latency.add_metric([str(tier)], hist.cumulative(), sum_value=hist.total)
        yield latency
        yield from _endpoint_metrics(pipeline.classifier)
        yield _counter("modbot_cache_hits", "Verdicts served from the cache", stats.cache_hits)
        yield _counter("modbot_verdicts", "Verdicts stored", stats.verdicts)
        yield _gauge("modbot_queue_depth", "Jobs waiting for a model slot", len(pipeline.scheduler))
        yield _gauge(
            "modbot_model_circuit_open", "1 while calls to the model are paused", pipeline.breaker.is_open
        )
        yield _counter("modbot_outbox_retries", "Platform deliveries retried later", self.core.outbox.retries)
        errors = CounterMetricFamily("modbot_errors", "Errors by kind", labels=["kind"])
        kinds = Counter(tele.errors) + self.tally.counts
        kinds["job_gave_up"] += stats.failed
        for kind, n in sorted(kinds.items()):
            errors.add_metric([kind], n)
        yield errors
        if self._snapshot is not None:
            yield from self._from_store(self._snapshot)

    def _from_store(self, snap: StoreSnapshot) -> Iterator[Metric]:
        age = (
            0.0
            if snap.oldest_waiting_job_at is None
            else max(0.0, self._clock() - snap.oldest_waiting_job_at)
        )
        yield _gauge("modbot_oldest_job_age_seconds", "Age of the oldest job not yet classified", age)
        flags = CounterMetricFamily("modbot_flags", "Cases opened (flags posted)", labels=["space", "policy"])
        decisions = GaugeMetricFamily(
            "modbot_moderator_decisions", "Cases by their decision", labels=["space", "policy", "decision"]
        )
        precision = GaugeMetricFamily(
            "modbot_precision",
            "Share of decided flags the moderators confirmed (removed, timed out, upheld)",
            labels=["space", "policy"],
        )
        for row in snap.cases:
            flags.add_metric([row.space_id, row.policy_id], row.flags)
            for decision in DECIDED:
                decisions.add_metric([row.space_id, row.policy_id, decision], row.by_status.get(decision, 0))
            if row.precision is not None:
                precision.add_metric([row.space_id, row.policy_id], row.precision)
        yield from (flags, decisions, precision)
        appeals = GaugeMetricFamily("modbot_appeals", "Appeals by status", labels=["space", "status"])
        for (space, status), n in sorted(snap.appeals.items()):
            appeals.add_metric([space, status], n)
        yield appeals
        jobs = GaugeMetricFamily("modbot_jobs", "Classification jobs by status", labels=["status"])
        for status, n in sorted(snap.jobs.items()):
            jobs.add_metric([status], n)
        yield jobs
        outbox = GaugeMetricFamily("modbot_outbox_items", "Platform deliveries by status", labels=["status"])
        for status, n in sorted(snap.outbox.items()):
            outbox.add_metric([status], n)
        yield outbox


def _endpoint_metrics(classifier: TieredClassifier) -> Iterator[Metric]:
    """Per endpoint of a pool (MODEL_ENDPOINTS): latency, health, circuit and slots in use."""
    pools = classifier.pools()
    if not pools:
        return
    labels = ["tier", "endpoint"]
    latency = HistogramMetricFamily(
        "modbot_endpoint_latency_seconds", "Seconds per answered call, by model endpoint", labels=labels
    )
    healthy = GaugeMetricFamily(
        "modbot_endpoint_healthy", "1 while it gets work (model pulled, circuit closed)", labels=labels
    )
    in_flight = GaugeMetricFamily("modbot_endpoint_in_flight", "Calls running on the endpoint", labels=labels)
    for pool in pools:
        for e in pool.endpoints:
            key = [str(pool.tier), e.name]
            latency.add_metric(key, e.latency.cumulative(), sum_value=e.latency.total)
            healthy.add_metric(key, float(e.usable))
            in_flight.add_metric(key, float(e.in_flight))
    yield from (latency, healthy, in_flight)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=float(value))


class Metrics:
    """A registry of its own (never the process-wide default) around one core's collector."""

    def __init__(self, core: ModerationCore) -> None:
        self.collector = CoreCollector(core)
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(self.collector)

    async def render(self, accept: str = "") -> tuple[bytes, str]:
        """The exposition in the format the scraper asked for (text, or OpenMetrics), and its type."""
        await self.collector.refresh()
        encode, content_type = choose_encoder(accept)
        return encode(self.registry), content_type
