"""Members appeal their own cases, once; moderators decide with a second opinion at hand.

The second opinion goes through the durable inbox like a moderator's escalation, so it
respects the space's budget and the circuit breaker, and survives a restart.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.cases import CaseService
from bot.core.ports import Actor
from bot.core.text import valid_text
from bot.core.vocab import APPEAL_OUTCOMES, pick
from bot.store import Store
from bot.store.records import Appeal

log = logging.getLogger(__name__)

APPEALABLE = ("open", "removed", "timed_out")
MAX_STATEMENT = 1000


@dataclass(frozen=True, slots=True)
class AppealResult:
    ok: bool
    message: str
    appeal: Appeal | None = None


class AppealService:
    def __init__(
        self,
        store: Store,
        cases: CaseService,
        limit_per_hour: int = 3,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        self.cases = cases
        self.limit_per_hour = limit_per_hour
        self._clock = clock

    def _now(self) -> float:
        return self._clock() if self._clock else float(self.store.now())

    async def appeal(self, case_id: int, actor: Actor, statement: str) -> AppealResult:
        case = await self.store.cases.get(case_id)
        if case is None:
            return AppealResult(False, f"no case #{case_id}")
        target = f"case:{case_id}"

        async def refuse(reason: str, message: str) -> AppealResult:
            await self.store.audit.record(
                case.space_id, actor.user_id, "member", "appeal.create", target, allowed=False,
                detail={"reason": reason},
            )  # fmt: skip
            return AppealResult(False, message)

        if actor.user_id != case.author_id:
            return await refuse("not the author", "you can only appeal decisions about your own messages")
        if case.status not in APPEALABLE or case.shadow:
            return await refuse("not appealable", f"case #{case_id} is {case.status}; nothing to appeal")
        recent = await self.store.appeals.count_recent(actor.user_id, self._now() - 3600)
        if recent >= self.limit_per_hour:
            return await refuse("rate limited", "too many appeals in the last hour; try again later")
        statement = valid_text(statement).strip()[:MAX_STATEMENT]
        if not statement:
            return AppealResult(False, "tell the moderators why the decision was wrong")
        job = await self.cases.escalation_job(case, statement) if self.cases.has_tier2 else None
        async with self.store.transaction():
            appeal = await self.store.appeals.create(case_id, actor.user_id, statement)
            if appeal is None:
                return await refuse("already appealed", f"case #{case_id} was already appealed (once only)")
            await self.store.audit.record(
                case.space_id, actor.user_id, "member", "appeal.create", target, True
            )
            if job is not None:
                await self.cases.enqueue(job)
            else:
                why = (
                    "no larger model is configured"
                    if not self.cases.has_tier2
                    else "the message text is gone"
                )
                summary = json.dumps({"summary": f"no second opinion: {why}"})
                appeal = await self.store.appeals.set_second_opinion(appeal.id, summary)
            await self.store.outbox.add(case.space_id, "update_flag", {}, case_id=case_id)
        return AppealResult(True, "your appeal was sent to the moderators", appeal)

    async def decide(self, appeal_id: int, actor: Actor, outcome: str) -> AppealResult:
        appeal = await self.store.appeals.get(appeal_id)
        if appeal is None:
            return AppealResult(False, f"no appeal #{appeal_id}")
        case = await self.store.cases.get(appeal.case_id)
        if case is None:
            return AppealResult(False, "the case is gone")
        target = f"appeal:{appeal_id}"
        decision = await self.cases.gate.check(actor, case.space_id, "moderator", "appeal.decide", target)
        if not decision.allowed:
            reason = (
                "only moderators can decide appeals"
                if decision.reason.startswith("only")
                else decision.reason
            )
            return AppealResult(False, reason)
        if await self.cases.gate.own_case(actor, case.author_id, decision.role, case.space_id,
                                          "appeal.decide", target):  # fmt: skip
            return AppealResult(False, "another moderator must decide an appeal about your own message")
        chosen = pick(outcome, APPEAL_OUTCOMES)
        if chosen is None:
            return AppealResult(False, "decide an appeal with 'upheld' or 'overturned'")
        if appeal.status != "pending":
            return AppealResult(False, f"appeal #{appeal_id} was already {appeal.status}")
        async with self.store.transaction():
            decided = await self.store.appeals.decide(appeal_id, chosen, actor.user_id)
            if decided is None:  # another moderator decided it a moment ago
                current = await self.store.appeals.get(appeal_id)
                status = current.status if current else "decided"
                return AppealResult(False, f"appeal #{appeal_id} was already {status}")
            await self.store.cases.set_status(case.id, chosen)
            await self.store.outbox.add(case.space_id, "dm", {"notice": f"appeal_{chosen}"}, case_id=case.id)
            await self.store.outbox.add(case.space_id, "update_flag", {}, case_id=case.id)
            await self.store.audit.record(
                case.space_id, actor.user_id, decision.role, f"appeal.{chosen}", target, True
            )
        return AppealResult(True, f"appeal #{appeal_id} {chosen}; the member has been told", decided)
