"""The moderation core as the adapters see it: submit messages, run commands, decide, appeal.

Owns the background work (model workers, the outbox, retention) and supervises it: a task
that fails is logged and restarted, never silently gone. Everything an adapter may do goes
through the entry points below; each checks the caller in the core (`permissions.Gate`).
"""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from bot.core.admin import PolicyAdmin
from bot.core.aio import Supervisor
from bot.core.appeals import AppealResult, AppealService
from bot.core.case_views import CaseViews, Outcome
from bot.core.cases import CaseService
from bot.core.classifier.tiered import TieredClassifier
from bot.core.commands.catalogue import CommandSet
from bot.core.commands.context import Services
from bot.core.commands.model import Reply, Value
from bot.core.dispatcher import OutboxDispatcher
from bot.core.library import PolicyLibrary
from bot.core.messages import IncomingMessage
from bot.core.permissions import Gate
from bot.core.pipeline import Pipeline, PipelineSettings, SubmitResult
from bot.core.policy_book import PolicyBook
from bot.core.ports import Actor, Platform, ShardLocks
from bot.core.screen import Screens, ScreenSettings
from bot.store import Store
from bot.store.records import Space
from bot.store.workers import SCREEN_TRAINER, Worker

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CoreSettings:
    workers: int = 1
    appeals_per_hour: int = 3
    retention_sweep_s: float = 3600.0
    outbox_poll_s: float = 1.0
    retry_base_s: float = 2.0  # first backoff after a model outage or a failed platform call
    breaker_cooldown_s: float = 5.0
    counts_flush_s: float = 10.0
    endpoint_probe_s: float = 15.0  # how often a pool's endpoints are asked for their model
    screen: ScreenSettings | None = None  # None: keywords only, no learned screen
    # `modbot worker` (a donated GPU): model workers, their probes and the heartbeat only; no
    # outbox, retention or counts (the `modbot run` processes on the same Postgres do those).
    classify_only: bool = False


class ModerationCore:
    def __init__(
        self,
        store: Store,
        classifier: TieredClassifier,
        book: PolicyBook,
        platforms: Mapping[str, Platform],
        library: PolicyLibrary,
        settings: CoreSettings = CoreSettings(),
        shard_locks: ShardLocks | None = None,
    ) -> None:
        self.store = store
        self.shard_locks = shard_locks  # which Discord shards this process connects (the factory's)
        self.book = book
        self.classifier = classifier
        self.settings = settings
        self.gate = Gate(store, {name: p.capabilities for name, p in platforms.items()})
        self.admin = PolicyAdmin(store, book, self.gate)
        self._budgets: dict[str, int] = {}
        self._spaces: dict[str, Space] = {}
        has_tier2 = classifier.tier2 is not None
        views = CaseViews(store, book, self.gate, has_tier2)
        self.outbox = OutboxDispatcher(store, book, views, platforms, retry_base_s=settings.retry_base_s)
        # The pipeline and the cases call each other (verdict -> case, escalation -> job): the
        # late-bound lambdas keep that one cycle inside this constructor.
        self.screens = Screens(store, settings.screen) if settings.screen is not None else None
        self.pipeline = Pipeline(
            store, book, classifier, lambda job, active, verdict: self.cases.on_verdict(job, active, verdict),
            PipelineSettings(workers=settings.workers, backoff_base_s=settings.retry_base_s),
            budget_for=lambda space_id: self._budgets.get(space_id, 60),
            on_gave_up=lambda job, result: self.cases.on_gave_up(job, result),
            after_verdict=self.outbox.wake,
            screens=self.screens,
        )  # fmt: skip
        self.pipeline.breaker.base_cooldown_s = settings.breaker_cooldown_s
        self.cases = CaseService(store, book, self.admin, self.gate, views, self.pipeline.enqueue_escalation)
        self.appeals = AppealService(store, self.cases, settings.appeals_per_hour)
        self.commands = CommandSet(
            Services(
                store,
                self.admin,
                self.cases,
                book,
                classifier,
                library,
                self.gate,
                platforms,
                self.pipeline.flush_counts,
                self.screens,
            )
        )
        self._tasks = Supervisor(log)
        self._worker: Worker | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        if self.settings.classify_only and not self.store.shared:
            raise ValueError("a classify-only core shares nothing without Postgres (DATABASE_URL)")
        for space in await self.store.spaces.list():
            self._remember(space)
        if self.store.shared:  # Postgres: this process is one of several claiming from one queue
            self._worker = await self.store.register_worker()
            # A policy edited through another process is read again here before its next job.
            self._worker.on_config_change(self.book.invalidate)
            self._worker.start()
            shared = self.store.shared_queue()
            # A worker without a 120b leaves appeals and Escalate to the `modbot run` processes
            # (they claim everything, so no job waits for a tier 2 that no process has).
            escalations = not self.settings.classify_only or self.classifier.tier2 is not None
            self.pipeline.use_shared_queue(shared, self._worker, escalations=escalations)
            self.outbox.use_shared_queue(shared, self._worker.id)
        await self.pipeline.recover()
        if self.screens is not None:
            await self.screens.load()
            lead = None
            if not self.screens.settings.trains:  # `modbot worker`: only loads what others train
                lead = _never
            elif self._worker is not None:  # one process trains, the others load what it stores
                lead = functools.partial(self._worker.try_duty, SCREEN_TRAINER)
            self._tasks.spawn("screen-trainer", functools.partial(self.screens.run, lead), restart=True)
        for pool in self.classifier.pools():
            probes = functools.partial(pool.watch, self.settings.endpoint_probe_s)
            self._tasks.spawn(f"endpoint-probes-tier{pool.tier}", probes, restart=True)
        for n in range(self.settings.workers):
            self._tasks.spawn(f"model-worker-{n}", self.pipeline.worker, restart=True)
        if self.settings.classify_only:
            return
        self._tasks.spawn("outbox", lambda: self.outbox.run(self.settings.outbox_poll_s), restart=True)
        self._tasks.spawn("retention", self._retention_loop, restart=True)
        self._tasks.spawn("counts", self._counts_loop, restart=True)

    @property
    def worker_id(self) -> str | None:
        """This process's id on the shared queue (its leases' owner); None on SQLite."""
        return self._worker.id if self._worker is not None else None

    async def stop(self) -> None:
        await self.outbox.finish()
        await self._tasks.stop()
        if self._worker is not None:  # its leases go back to the queue for the other processes
            await self._worker.close()
            self._worker = None
        try:
            await self.pipeline.flush_counts()
        except Exception:  # the store may already be failing; the counts are only figures
            log.warning("could not save the last message counts", exc_info=True)

    async def __aenter__(self) -> ModerationCore:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _retention_loop(self) -> None:
        while True:
            purged = await self.store.purge_expired_text()
            if purged:
                log.info("retention: removed message text from %d rows", purged)
            await asyncio.sleep(self.settings.retention_sweep_s)

    async def _counts_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.counts_flush_s)
            await self.pipeline.flush_counts()

    # -- for adapters ------------------------------------------------------------------------

    def _remember(self, space: Space) -> None:
        self._spaces[space.id] = space
        self._budgets[space.id] = space.budget_per_minute

    async def ensure_space(self, space_id: str, platform: str, name: str = "", **settings: object) -> Space:
        space = await self.store.spaces.get(space_id)
        if space is None or settings or (name and name != space.name):
            space = await self.store.spaces.upsert(space_id, platform, name, **settings)
            self.pipeline.scheduler.budget_changed(space_id)
        self._remember(space)
        return space

    async def mod_channel(self, space_id: str) -> str:
        """The space's mod channel id, "" before setup (Slack's moderators are its members)."""
        space = await self.store.spaces.get(space_id)
        return space.mod_channel_id if space else ""

    async def submit(self, msg: IncomingMessage) -> SubmitResult:
        """Persist the message's candidates; the adapter acknowledges the event after this."""
        if msg.space_id not in self._spaces:
            await self.ensure_space(msg.space_id, msg.platform)
        return await self.pipeline.submit(msg)

    async def withdraw(self, space_id: str, message_id: str) -> int:
        """The message was deleted on the platform: skip its checks that have not started
        (queued jobs, and screen offers that are not jobs yet)."""
        self.pipeline.forget(space_id, message_id)
        return await self.store.inbox.withdraw(space_id, message_id)

    async def run_command(
        self, path: tuple[str, ...] | list[str], actor: Actor, space_id: str, args: Mapping[str, Value],
        platform: str = "",
    ) -> Reply:  # fmt: skip
        """A command of the catalogue (`setup`, `policy enable`, ...), checked and audited here."""
        if platform and space_id not in self._spaces:
            await self.ensure_space(space_id, platform)
        reply = await self.commands.run(path, actor, space_id, args, platform)
        if reply.ok and tuple(path) == ("setup",):
            await self.store.outbox.wake_waiting(space_id)  # cards that waited for a mod channel
            self.outbox.wake()
        return reply

    async def decide(self, case_id: int, actor: Actor, action: str) -> Outcome:
        """A moderator's button: remove, dismiss, timeout, escalate, add_example."""
        outcome = await self.cases.decide(case_id, actor, action)
        self.outbox.wake()
        return outcome

    async def reasoning(self, case_id: int, actor: Actor) -> Reply:
        """ "Show reasoning": the model's chain of thought, for moderators of the case's space."""
        return await self.cases.views.reasoning(case_id, actor)

    async def appeal(self, case_id: int, actor: Actor, statement: str) -> AppealResult:
        result = await self.appeals.appeal(case_id, actor, statement)
        self.outbox.wake()
        return result

    async def decide_appeal(self, appeal_id: int, actor: Actor, outcome: str) -> AppealResult:
        result = await self.appeals.decide(appeal_id, actor, outcome)
        self.outbox.wake()
        return result

    async def settle(self, timeout_s: float = 30.0) -> None:
        """Wait until queued classifications and deliverable outbox items are done (tests, replay)."""
        async with asyncio.timeout(timeout_s):
            while True:
                await self.pipeline.drain()
                if await self.outbox.run_once() == 0 and not len(self.pipeline.scheduler):
                    return


async def _never() -> bool:
    return False
