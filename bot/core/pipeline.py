"""From a platform message to a stored verdict: prefilter, durable inbox, fair workers.

`submit` persists every candidate (message x policy) before it returns, so the adapter may
acknowledge the event only after that. Workers, as many as the model has slots, take jobs
fairly across spaces; an outage leaves jobs on disk and they drain when the model returns.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.aio import wait_event
from bot.core.breaker import CircuitBreaker
from bot.core.classifier.base import ClassifyRequest
from bot.core.classifier.tiered import TieredClassifier, escalation_cause
from bot.core.jobqueue import JobQueue, Lease, LeaseLost, LocalQueue, SharedJobQueue
from bot.core.messages import IncomingMessage, Result, Unavailable, Verdict
from bot.core.policy_book import ActivePolicy, PolicyBook
from bot.core.prefilter import PrefilterMatch, PreparedText
from bot.core.scheduler import FairScheduler, Offer
from bot.core.screen import Screens
from bot.core.stored import stored_answer
from bot.core.vcache import VerdictCache, cache_key
from bot.store import Store
from bot.store.claims import SharedQueue
from bot.store.records import Job, NewJob
from bot.store.workers import Worker

log = logging.getLogger(__name__)
FORGOTTEN_MAX = 10_000

OnVerdict = Callable[[Job, ActivePolicy, Verdict], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class PipelineSettings:
    workers: int = 1  # = model slots (OLLAMA_NUM_PARALLEL)
    max_attempts_bad_output: int = 3  # unparseable/truncated answers before giving up
    backoff_base_s: float = 2.0
    backoff_max_s: float = 300.0


@dataclass(frozen=True, slots=True)
class SubmitResult:
    candidates: int  # policies whose prefilter selected the message
    queued: int  # new jobs (0 for a redelivered event)


@dataclass
class PipelineStats:
    submitted: int = 0
    candidates: int = 0
    duplicates: int = 0
    model_calls: int = 0
    cache_hits: int = 0
    verdicts: int = 0
    retries: int = 0
    failed: int = 0


class Pipeline:
    def __init__(
        self,
        store: Store,
        book: PolicyBook,
        classifier: TieredClassifier,
        on_verdict: OnVerdict,
        settings: PipelineSettings,
        budget_for: Callable[[str], int] = lambda _space: 600,
        clock: Callable[[], float] = time.monotonic,
        *,
        on_gave_up: Callable[[Job, Unavailable], Awaitable[None]] | None = None,
        after_verdict: Callable[[], None] | None = None,
        screens: Screens | None = None,
    ) -> None:
        self.store = store
        self.book = book
        self.classifier = classifier
        self.on_verdict = on_verdict
        self.settings = settings
        self.screens = screens
        ss = screens.settings if screens is not None else None
        self.scheduler = FairScheduler(
            budget_for, clock,
            offers_per_space=ss.offers_per_space if ss else 256,
            offer_max_age_s=ss.offer_max_age_s if ss else 120.0,
        )  # fmt: skip
        self.queue: JobQueue = LocalQueue(store, self.scheduler)
        self.breaker = CircuitBreaker(clock=clock)
        shared = store.shared_verdicts()  # several processes on Postgres: one call per text for all
        self.cache = VerdictCache(shared=shared.get_or_call if shared is not None else None)
        self.stats = PipelineStats()
        self._seen: Counter[str] = Counter()
        self._forgotten: dict[tuple[str, str], None] = {}  # deleted messages, oldest first
        self._idle = asyncio.Event()
        self._busy = 0
        self.after_verdict: Callable[[], None] = after_verdict or (lambda: None)
        self.on_gave_up: Callable[[Job, Unavailable], Awaitable[None]] = on_gave_up or _nothing

    # -- intake ------------------------------------------------------------------------------

    async def submit(self, msg: IncomingMessage) -> SubmitResult:
        """Select candidate policies and persist them. Returns once they are on disk."""
        self.stats.submitted += 1
        if not msg.edited:
            self._seen[msg.space_id] += 1  # written by flush_counts(): no write per message
        prepared = PreparedText.of(msg.text)
        jobs: list[NewJob] = []
        unmatched: list[ActivePolicy] = []
        for active in await self.book.active(msg.space_id):
            if not active.applies_to(msg.channel_id):
                continue
            match = active.policy.prefilter.match(prepared, sample_key=f"{msg.space_id}:{msg.message_id}")
            screens = self.screens
            if screens is not None and screens.drawn(msg.space_id, msg.message_id, active.policy.id):
                match = PrefilterMatch("random", "")  # checked whatever it scores: unbiased recall
            if match is None:
                unmatched.append(active)
                continue
            self.classifier.telemetry.candidate(active.policy.id)  # for /metrics
            jobs.append(_job(msg, active, match.reason))
        queued = await self._persist(msg.space_id, jobs) if jobs else 0
        self.stats.candidates += len(jobs)
        self.stats.duplicates += len(jobs) - queued
        if self.screens is not None and unmatched:  # optional work, offered once the certain is on disk
            await self.screens.ready([a.policy for a in unmatched])
            self._offer(self.screens, prepared, msg, unmatched)
        return SubmitResult(len(jobs), queued)

    def _offer(
        self, screens: Screens, prepared: PreparedText, msg: IncomingMessage, unmatched: list[ActivePolicy]
    ) -> None:
        """Scored by the learned screen: optional work the scheduler runs when a slot is free."""
        scores = screens.scores(prepared, msg.space_id, [a.policy for a in unmatched])
        for active, score in zip(unmatched, scores, strict=True):
            if score > 0.0 and score >= screens.settings.min_score:  # 0: the screen is off
                policy = active.policy
                priority = screens.priority(policy.id, score)
                offer = Offer(priority, msg, policy.id, active.version, policy.content_hash)
                self.scheduler.offer(msg.space_id, offer)
                screens.stats.offered += 1

    async def enqueue_escalation(self, job: NewJob) -> bool:
        return await self._persist(job.space_id, [job]) > 0

    async def _persist(self, space_id: str, jobs: list[NewJob]) -> int:
        """Write one space's jobs to the inbox; hand the new ones (not redeliveries) to workers."""
        ids = await self.store.inbox.add_many(jobs)
        for job_id in ids:
            self._enqueue(space_id, job_id)
        return len(ids)

    def use_shared_queue(self, queue: SharedQueue, worker: Worker, *, escalations: bool = True) -> None:
        """Several processes on one Postgres: claim jobs in SQL as ``worker`` (before ``recover``);
        ``escalations=False`` leaves the jobs that ask for tier 2 to the processes that have one."""
        self.queue = SharedJobQueue(queue, worker, self.scheduler, escalations=escalations)

    def _enqueue(self, space_id: str, job_id: int, delay_s: float = 0.0) -> None:
        self._idle.clear()
        self.queue.put(space_id, job_id, delay_s)

    async def recover(self) -> int:
        """After a restart: jobs a dead process had taken are pending again, and queued."""
        self._idle.clear()
        pending = await self.queue.recover()
        if pending:
            log.info("recovered %d pending jobs", pending)
        return pending

    # -- workers -----------------------------------------------------------------------------

    async def worker(self) -> None:
        """One model slot. Runs until cancelled."""
        while True:
            work = await self.queue.next()
            self._busy += 1
            try:
                await self.breaker.wait_until_allowed()
                if isinstance(work, Lease):
                    lease: Lease | None = work
                else:
                    job_id = await self._take_offer(work) if isinstance(work, Offer) else work
                    lease = await self.queue.take(job_id) if job_id is not None else None
                if lease is not None:
                    await self._run(lease)
            finally:
                self._busy -= 1
                if self._busy == 0 and len(self.queue) == 0:
                    self._idle.set()

    def forget(self, space_id: str, message_id: str) -> None:
        """A deleted message: its offers (held in memory, not yet jobs) are never taken."""
        self._forgotten[(space_id, message_id)] = None
        while len(self._forgotten) > FORGOTTEN_MAX:  # offers live minutes; keep the newest ids
            self._forgotten.pop(next(iter(self._forgotten)))

    async def _take_offer(self, offer: Offer) -> int | None:
        """A slot took a screen offer: it becomes a durable job now (None if it already was one)."""
        message = offer.message
        if (message.space_id, message.message_id) in self._forgotten:
            return None  # deleted by its author or a moderator before it was checked
        job = NewJob.from_message(
            message, policy_id=offer.policy_id, policy_version=offer.policy_version,
            policy_hash=offer.policy_hash, match_reason="screen",
        )  # fmt: skip
        ids = await self.store.inbox.add_many([job])
        return ids[0] if ids else None

    async def _run(self, lease: Lease) -> None:
        job = lease.job
        try:
            await self._process(lease)
        except LeaseLost:
            # This process was declared dead or hung meanwhile: the job is another's now, and
            # nothing of this attempt was written.
            log.warning("job %d: lease taken back before its verdict was stored; dropped here", job.id)
        except Exception as exc:
            # A bug or a storage hiccup must not lose the job: back to pending, with backoff.
            log.exception("job %d failed unexpectedly; will retry", job.id)
            await self._retry(lease, f"internal error: {exc!r}")

    async def _process(self, lease: Lease) -> None:
        job = lease.job
        active = await self.book.for_job(job.space_id, job.policy_id)
        if active is None:
            await self.queue.complete(lease)  # the space turned the policy off
            return
        result, cached = await self._classify(job, active)
        if isinstance(result, Verdict) and not job.escalate and result.tier == 1:
            cause = escalation_cause(active.policy, result, False)
            if cause is not None and await self.queue.hand_off(lease, f"needs the larger model ({cause})"):
                # A donor's worker without the 120b: a process that has it gives the final answer.
                log.info("job %d handed to a process with the larger model (%s)", job.id, cause)
                return
        if isinstance(result, Verdict):
            if not cached:
                self.breaker.success()
            async with self.queue.finishing(lease):  # with the (fenced) complete, or not at all
                await self.store.verdicts.add(
                    job.id,
                    job.space_id,
                    job.message_id,
                    result,
                    shadow=active.mode == "shadow",
                    cached=cached,
                )
                await self.on_verdict(job, active, result)
            self.stats.verdicts += 1  # stored: a lease lost before this point counts nothing
            _log_verdict(job, result, cached)
            self.after_verdict()  # e.g. wake the outbox: a new flag should go out now
            if self.screens is not None:
                await self.screens.observe(job, active.policy, result, cached=cached)  # never raises
            return
        await self._on_unavailable(lease, result)

    async def _classify(self, job: Job, active: ActivePolicy) -> tuple[Result, bool]:
        wanted = active.policy.spec.context_messages
        context = job.context[-wanted:] if wanted else ()
        if job.match_reason == "appeal" and not wanted:
            context = job.context[-1:]  # the member's statement goes with an appeal, always
        request = ClassifyRequest(job.text, job.author_name or job.author_id, job.channel_name, context)
        # An escalation starts from the stored answer: one call, to the larger model only.
        previous = await stored_answer(self.store, job) if job.escalate else None

        async def call() -> Result:
            self.stats.model_calls += 1
            await self.queue.charge(job.space_id)
            return await self.classifier.classify(
                active.policy, request, escalate=job.escalate, previous=previous
            )

        if job.escalate:
            return await call(), False  # an explicit second opinion is never served from cache
        key = cache_key(active.policy.content_hash, job.text, [c.text for c in context])
        result, cached = await self.cache.get_or_call(key, call)
        if cached:
            self.stats.cache_hits += 1
        return result, cached

    async def _on_unavailable(self, lease: Lease, result: Unavailable) -> None:
        job = lease.job
        outage = result.transient or result.reason == "model_missing"
        if outage:
            self.breaker.failure()
            await self._retry(lease, f"{result.reason}: {result.detail}")
            return
        self.breaker.neutral()
        if job.attempts + 1 >= self.settings.max_attempts_bad_output:
            # Never a verdict: kept on disk as failed, visible to operators, never punished.
            self.stats.failed += 1
            async with self.store.transaction():
                if not await self.queue.fail(lease, f"{result.reason}: {result.detail}"):
                    raise LeaseLost(f"job {job.id}")
                await self.on_gave_up(job, result)
            log.warning("job %d gave no verdict after %d tries: %s", job.id, job.attempts + 1, result.detail)
            return
        await self._retry(lease, f"{result.reason}: {result.detail}")

    async def _retry(self, lease: Lease, error: str) -> None:
        job = lease.job
        delay = min(self.settings.backoff_max_s, self.settings.backoff_base_s * 2 ** min(job.attempts, 10))
        self.stats.retries += 1
        if await self.queue.retry_later(lease, self.store.now() + delay, error[:500]):
            self._enqueue(job.space_id, job.id, delay)

    async def flush_counts(self) -> None:
        """Add the messages seen since the last flush to the store's daily counts."""
        seen, self._seen = self._seen, Counter()
        for space_id, n in seen.items():
            await self.store.stats.count_messages(space_id, n)

    # -- control -----------------------------------------------------------------------------

    async def drain(self, timeout_s: float | None = None) -> None:
        """Wait until no job is queued or running (delayed retries count as queued)."""
        async with asyncio.timeout(timeout_s):
            while self._busy or len(self.queue):
                self._idle.clear()
                await wait_event(self._idle, 0.1)


def _log_verdict(job: Job, verdict: Verdict, cached: bool) -> None:
    """One line per verdict: ids and labels for LOG_FORMAT=json, never the message text."""
    fields = {
        "job_id": job.id, "space_id": job.space_id, "policy_id": job.policy_id,
        "violation": verdict.violation, "confidence": verdict.confidence, "tier": verdict.tier,
        "rule_ids": verdict.rule_ids, "latency_ms": verdict.latency_ms, "cached": cached,
    }  # fmt: skip
    label = "violation" if verdict.violation else "no violation"
    log.info("job %d %s: %s (%s, tier %d)", job.id, job.policy_id, label, verdict.confidence,
             verdict.tier, extra=fields)  # fmt: skip


def _job(msg: IncomingMessage, active: ActivePolicy, reason: str) -> NewJob:
    policy = active.policy
    return NewJob.from_message(
        msg, policy_id=policy.id, policy_version=active.version, policy_hash=policy.content_hash,
        match_reason=reason,
    )  # fmt: skip


async def _nothing(_job: Job, _result: Unavailable) -> None:
    return None
