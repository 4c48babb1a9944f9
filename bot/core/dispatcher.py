"""Carry out the outbox: post and update flag cards, delete, time out, DM, with retries.

The outbox row is written with the decision; this loop is the only place that talks to the
platform for them, so a failed post is retried later instead of lost, and a posted flag is
never posted twice (the card's reference is stored on the case).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import replace

from bot.core.aio import wait_event
from bot.core.case_views import CaseViews
from bot.core.policy_book import PolicyBook
from bot.core.ports import Platform, PlatformResult
from bot.core.redact import redact
from bot.core.views import MemberNotice
from bot.store import Store
from bot.store.claims import SharedQueue
from bot.store.records import Case, OutboxItem, Space

log = logging.getLogger(__name__)

NOTICES = {
    "removed": "Your message in this server was removed by the moderators because it breaks "
    "the rule “{rule}”.",
    "timed_out": "You were timed out for {minutes} minutes because a message of yours breaks "
    "the rule “{rule}”.",
    "appeal_upheld": "Your appeal of case #{case} was reviewed: the moderators kept their decision.",
    "appeal_overturned": "Your appeal of case #{case} was accepted: the action was overturned. "
    "Sorry for the trouble.",
}
ACTIONS = {
    "removed": "your message was removed",
    "timed_out": "you were timed out for {minutes} minutes",
    "appeal_upheld": "your appeal was reviewed: the decision stands",
    "appeal_overturned": "your appeal was accepted: the action was overturned",
}


class OutboxDispatcher:
    def __init__(
        self,
        store: Store,
        book: PolicyBook,
        views: CaseViews,
        platforms: Mapping[str, Platform],
        max_attempts: int = 12,
        retry_base_s: float = 2.0,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        self.book = book
        self.views = views
        self.platforms = platforms
        self.max_attempts = max_attempts
        self.retry_base_s = retry_base_s
        self._clock = clock
        self._wake = asyncio.Event()
        self._lock = asyncio.Lock()  # one delivery pass at a time: an item is never sent twice
        self._stopping = False
        self._shared: tuple[SharedQueue, str] | None = None
        self.delivered = 0
        self.retries = 0  # read by the metrics endpoint

    def use_shared_queue(self, queue: SharedQueue, owner: str) -> None:
        """Several processes on one Postgres: take items by claiming them, so none is sent twice."""
        self._shared = (queue, owner)

    def wake(self) -> None:
        self._wake.set()

    def _now(self) -> float:
        return self._clock() if self._clock else float(self.store.now())

    async def run(self, idle_poll_s: float = 1.0) -> None:
        while True:
            handled = await self.run_once()
            if handled == 0:
                self._wake.clear()
                await wait_event(self._wake, idle_poll_s)

    async def run_once(self) -> int:
        async with self._lock:
            work: list[tuple[OutboxItem, int | None]]  # with the claim's token on the shared queue
            if self._shared is not None:
                queue, owner = self._shared
                work = [(claim.item, claim.token) for claim in await queue.claim_outbox(owner)]
            else:
                work = [(item, None) for item in await self.store.outbox.due(self._now())]
            for item, token in work:
                if self._stopping:
                    break
                await self._deliver(item, token)
            return len(work)

    async def finish(self, timeout_s: float = 10.0) -> None:
        """Stop after the item being delivered, so a posted card is recorded as posted.

        Cancelling between a platform call and its bookkeeping would send it again after a
        restart (a second card on a platform without nonces); this waits for the pass instead.
        """
        self._stopping = True
        try:
            async with asyncio.timeout(timeout_s):
                await self._lock.acquire()
            self._lock.release()
        except TimeoutError:
            log.warning("the outbox was still delivering after %.0f s; stopping anyway", timeout_s)

    async def _deliver(self, item: OutboxItem, token: int | None = None) -> None:
        if token is not None and not await self.store.outbox.held(item.id, token):
            # This process was paused long enough to be declared dead: another one has the item.
            log.warning("outbox item %d was taken over by another process; not sending it", item.id)
            return
        case = await self.store.cases.get(item.case_id) if item.case_id is not None else None
        space = await self.store.spaces.get(item.space_id)
        if space is None or case is None:
            await self.store.outbox.fail(item.id, "no space or case for this item")
            return
        platform = self.platforms.get(space.platform)
        if item.kind in ("post_flag", "update_flag") and not space.mod_channel_id:
            # Enabled before `setup`: the card waits for a mod channel (setup wakes the outbox).
            await self.store.outbox.wait(item.id, self._now() + 300, "no mod channel yet: run `setup`")
            return
        if platform is None:
            # This process does not serve that platform (yet): keep the item for one that does.
            await self.store.outbox.wait(item.id, self._now() + 300, f"{space.platform} is not connected")
            return
        try:
            result = await self._call(platform, item, case, space)
        except Exception as exc:  # an adapter bug must not stop every other delivery
            log.exception("outbox item %d (%s) raised", item.id, item.kind)
            result = PlatformResult(False, error=repr(exc))
        if result.ok:
            if item.kind in ("post_flag", "update_flag") and result.ref and not case.flag_ref:
                await self.store.cases.set_flag_ref(case.id, result.ref)
            if not await self.store.outbox.done(item.id, token) and token is not None:
                log.warning("outbox item %d was sent after its claim was taken back", item.id)
            self.delivered += 1
            log.info("%s done for case %s", item.kind, case.id,
                     extra={"case_id": case.id, "space_id": case.space_id, "kind": item.kind})  # fmt: skip
            return
        result = replace(result, error=redact(result.error))  # a platform may echo a token
        attempts = item.attempts + 1
        if not result.retryable or attempts >= self.max_attempts:
            log.error("giving up on %s for case %s: %s", item.kind, item.case_id, result.error)
            async with self.store.transaction():
                if not await self.store.outbox.fail(item.id, result.error, token) and token is not None:
                    return  # taken over: its new owner decides
                if item.kind == "dm":
                    # A member's closed DMs are about that member, not the setup: the card says
                    # the member was not told.
                    await self.store.outbox.add(case.space_id, "update_flag", {}, case_id=case.id)
                else:  # the admins see this in `setup show` (e.g. a missing permission, named)
                    await self.store.audit.record(
                        item.space_id, "modbot", "system", "platform.refused", item.kind, allowed=False,
                        detail={"error": f"{item.kind} for case #{case.id} failed: {result.error}"[:300]},
                    )  # fmt: skip
            return
        delay = min(300.0, self.retry_base_s * 2 ** min(attempts - 1, 8))
        self.retries += 1
        await self.store.outbox.retry_later(item.id, self._now() + delay, result.error, token)

    async def _call(self, platform: Platform, item: OutboxItem, case: Case, space: Space) -> PlatformResult:
        kind = item.kind
        if kind in ("post_flag", "update_flag"):
            view = await self.views.view(case)
            if case.flag_ref:
                if kind == "post_flag":
                    return PlatformResult(True, case.flag_ref)  # posted before a crash: not again
                return await platform.update_flag(case.flag_ref, view, space.mod_channel_id)
            if kind == "update_flag" and await self._post_pending(case):
                return PlatformResult(True)  # the pending post will show the latest state
            return await platform.post_flag(view, space.mod_channel_id)
        if kind == "delete":
            return await platform.delete_message(case.space_id, case.channel_id, case.message_id)
        if kind == "timeout":
            minutes = int(item.payload.get("minutes", 60))
            return await platform.timeout_member(case.space_id, case.author_id, minutes, f"case {case.id}")
        if kind == "dm":
            return await platform.dm(await self._notice(case, item, space))
        return PlatformResult(False, error=f"unknown outbox kind {kind!r}", retryable=False)

    async def _post_pending(self, case: Case) -> bool:
        items = await self.store.outbox.due(float("inf"), limit=500)
        return any(i.kind == "post_flag" and i.case_id == case.id for i in items)

    async def _notice(self, case: Case, item: OutboxItem, space: Space) -> MemberNotice:
        kind = str(item.payload.get("notice", "removed"))
        active = await self.book.for_job(case.space_id, case.policy_id)
        rule, title, minutes = case.policy_id, case.policy_id, 60
        if active is not None:
            spec = active.policy.spec
            texts = {r.id: r.text for r in spec.rules}
            named = [texts[r] for r in case.rule_ids if r in texts]
            rule, title = (named[0] if named else spec.title), spec.title
            minutes = spec.action.timeout_minutes
        if kind not in NOTICES:
            kind = "removed"
        text = NOTICES[kind].format(rule=rule, minutes=minutes, case=case.id)
        can_appeal = kind in ("removed", "timed_out")
        if can_appeal:
            text += f" If you think this is a mistake, you can appeal once (case #{case.id})."
        return MemberNotice(
            case.id, case.space_id, case.author_id, text, can_appeal, kind=kind, rule=rule,
            policy_title=title, action=ACTIONS[kind].format(minutes=minutes), minutes=minutes,
            space_name=space.name,
        )  # fmt: skip
