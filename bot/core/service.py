"""The moderation core as the adapters see it: submit messages, decide cases, appeal.

Owns the background work (model workers, the outbox, appeal second opinions, retention) and
supervises it: a task that fails is logged and restarted, never silently gone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.admin import PolicyAdmin
from bot.core.appeals import AppealResult, AppealService
from bot.core.cases import CaseService, Outcome
from bot.core.classifier.tiered import TieredClassifier
from bot.core.dispatcher import OutboxDispatcher
from bot.core.messages import IncomingMessage
from bot.core.pipeline import Pipeline, PipelineSettings, SubmitResult
from bot.core.policy_book import PolicyBook
from bot.core.ports import Actor, Platform
from bot.core.screen import Screens, ScreenSettings
from bot.store import Store
from bot.store.records import Appeal, Space

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class CoreSettings:
    workers: int = 1
    appeals_per_hour: int = 3
    retention_sweep_s: float = 3600.0
    outbox_poll_s: float = 1.0
    retry_base_s: float = 2.0  # first backoff after a model outage or a failed platform call
    breaker_cooldown_s: float = 5.0
    screen: ScreenSettings | None = None  # None: keywords only, no learned screen


class ModerationCore:
    def __init__(
        self,
        store: Store,
        classifier: TieredClassifier,
        book: PolicyBook,
        platforms: dict[str, Platform],
        settings: CoreSettings = CoreSettings(),
    ) -> None:
        self.store = store
        self.book = book
        self.classifier = classifier
        self.settings = settings
        self.admin = PolicyAdmin(store, book)
        self.cases = CaseService(store, book, self.admin)
        self._budgets: dict[str, int] = {}
        self._spaces: dict[str, Space] = {}
        self.screens = Screens(store, settings.screen) if settings.screen is not None else None
        self.pipeline = Pipeline(
            store, book, classifier, self.cases.on_verdict,
            PipelineSettings(workers=settings.workers, backoff_base_s=settings.retry_base_s),
            budget_for=lambda space_id: self._budgets.get(space_id, 60),
            screens=self.screens,
        )  # fmt: skip
        self.pipeline.breaker.base_cooldown_s = settings.breaker_cooldown_s
        self.cases.enqueue = self.pipeline.enqueue_escalation
        self.appeals = AppealService(store, self.cases, classifier, settings.appeals_per_hour)
        self.outbox = OutboxDispatcher(store, self.cases, platforms, retry_base_s=settings.retry_base_s)
        self.pipeline.after_verdict = self.outbox.wake
        self.pipeline.on_gave_up = self.cases.on_gave_up
        self._tasks: set[asyncio.Task[None]] = set()

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self) -> None:
        for space in await self.store.spaces.list():
            self._remember(space)
        await self.pipeline.recover()
        if self.screens is not None:
            await self.screens.load()
            self._spawn("screen-trainer", self.screens.run)
        for n in range(self.settings.workers):
            self._spawn(f"model-worker-{n}", self.pipeline.worker)
        self._spawn("outbox", lambda: self.outbox.run(self.settings.outbox_poll_s))
        self._spawn("retention", self._retention_loop)
        for space in self._spaces.values():
            for appeal in await self.store.appeals.pending(space.id):
                if appeal.second_opinion_json is None:
                    self._opinion(appeal)

    async def stop(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._tasks.clear()

    async def __aenter__(self) -> ModerationCore:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _spawn(self, name: str, factory: Callable[[], Awaitable[None]], restart: bool = True) -> None:
        async def supervised() -> None:
            while True:
                try:
                    await factory()
                    return
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("background task %s failed%s", name, "; restarting" if restart else "")
                    if not restart:
                        return
                    await asyncio.sleep(1.0)

        task = asyncio.create_task(supervised(), name=name)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _retention_loop(self) -> None:
        while True:
            purged = await self.store.purge_expired_text()
            if purged:
                log.info("retention: removed message text from %d rows", purged)
            await asyncio.sleep(self.settings.retention_sweep_s)

    # -- for adapters ------------------------------------------------------------------------

    def _remember(self, space: Space) -> None:
        self._spaces[space.id] = space
        self._budgets[space.id] = space.budget_per_minute

    async def ensure_space(self, space_id: str, platform: str, name: str = "", **settings: object) -> Space:
        space = await self.store.spaces.get(space_id)
        if space is None or settings:
            space = await self.store.spaces.upsert(space_id, platform, name, **settings)
            self.pipeline.scheduler.budget_changed(space_id)
        self._remember(space)
        return space

    async def submit(self, msg: IncomingMessage) -> SubmitResult:
        """Persist the message's candidates; the adapter acknowledges the event after this."""
        if msg.space_id not in self._spaces:
            await self.ensure_space(msg.space_id, msg.platform)
        return await self.pipeline.submit(msg)

    async def decide(self, case_id: int, actor: Actor, action: str) -> Outcome:
        if action == "escalate" and self.classifier.tier2 is None:
            return Outcome(False, "no larger model is configured (set ESCALATION_URL)")
        outcome = await self.cases.decide(case_id, actor, action)
        self.outbox.wake()
        return outcome

    async def appeal(self, case_id: int, actor: Actor, statement: str) -> AppealResult:
        result = await self.appeals.appeal(case_id, actor, statement)
        if result.ok and result.appeal is not None:
            self._opinion(result.appeal)
        self.outbox.wake()
        return result

    async def decide_appeal(self, appeal_id: int, actor: Actor, outcome: str) -> AppealResult:
        result = await self.appeals.decide(appeal_id, actor, outcome)
        self.outbox.wake()
        return result

    def _opinion(self, appeal: Appeal) -> None:
        async def run() -> None:
            await self.appeals.second_opinion(appeal)
            self.outbox.wake()

        self._spawn(f"appeal-{appeal.id}", run, restart=False)

    async def settle(self, timeout_s: float = 30.0) -> None:
        """Wait until queued classifications and deliverable outbox items are done (tests, replay)."""
        async with asyncio.timeout(timeout_s):
            while True:
                await self.pipeline.drain()
                opinions = [t for t in self._tasks if t.get_name().startswith("appeal-")]
                await asyncio.gather(*opinions, return_exceptions=True)
                if await self.outbox.run_once() == 0 and not len(self.pipeline.scheduler):
                    return
