"""Members appeal their own cases, once; moderators decide with a second opinion at hand."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.cases import CaseService
from bot.core.classifier.base import ClassifyRequest
from bot.core.classifier.tiered import TieredClassifier
from bot.core.messages import ContextLine, Verdict
from bot.core.ports import Actor
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
        classifier: TieredClassifier,
        limit_per_hour: int = 3,
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.store = store
        self.cases = cases
        self.classifier = classifier
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
                case.space_id, actor.user_id, actor.role, "appeal.create", target, allowed=False,
                detail={"reason": reason},
            )  # fmt: skip
            return AppealResult(False, message)

        if actor.user_id != case.author_id:
            return await refuse("not the author", "you can only appeal decisions about your own messages")
        if case.status not in APPEALABLE:
            return await refuse("not appealable", f"case #{case_id} is {case.status}; nothing to appeal")
        recent = await self.store.appeals.count_recent(actor.user_id, self._now() - 3600)
        if recent >= self.limit_per_hour:
            return await refuse("rate limited", "too many appeals in the last hour; try again later")
        statement = statement.strip()[:MAX_STATEMENT]
        if not statement:
            return AppealResult(False, "tell the moderators why the decision was wrong")
        async with self.store.transaction():
            appeal = await self.store.appeals.create(case_id, actor.user_id, statement)
            if appeal is None:
                return await refuse("already appealed", f"case #{case_id} was already appealed (once only)")
            await self.store.audit.record(
                case.space_id, actor.user_id, actor.role, "appeal.create", target, True
            )
            await self.store.outbox.add(case.space_id, "update_flag", {}, case_id=case_id)
        return AppealResult(True, "your appeal was sent to the moderators", appeal)

    async def second_opinion(self, appeal: Appeal) -> None:
        """Ask tier 2 with the member's statement as context; stored for the moderators."""
        case = await self.store.cases.get(appeal.case_id)
        if case is None:
            return
        active = await self.cases.book.for_job(case.space_id, case.policy_id)
        job = await self.cases.escalation_job(case, appeal.statement)
        if active is None or job is None:
            summary = "no second opinion: the policy or the message text is no longer available"
            await self.store.appeals.set_second_opinion(appeal.id, json.dumps({"summary": summary}))
            return
        request = ClassifyRequest(
            job.text, job.author_name, job.channel_name,
            (*job.context, ContextLine("moderation note", "The author has appealed; statement above.")),
        )  # fmt: skip
        result = await self.classifier.classify(active.policy, request, escalate=True)
        if isinstance(result, Verdict):
            summary = (
                f"tier {result.tier}: {'violation' if result.violation else 'no violation'} "
                f"({result.confidence}) {result.rationale}"
            )
            data = {"summary": summary, "verdict": result.to_dict()}
        else:
            data = {"summary": f"no second opinion ({result.reason}): {result.detail}"}
        async with self.store.transaction():
            await self.store.appeals.set_second_opinion(appeal.id, json.dumps(data))
            await self.store.outbox.add(case.space_id, "update_flag", {}, case_id=case.id)

    async def decide(self, appeal_id: int, actor: Actor, outcome: str) -> AppealResult:
        appeal = await self.store.appeals.get(appeal_id)
        if appeal is None:
            return AppealResult(False, f"no appeal #{appeal_id}")
        case = await self.store.cases.get(appeal.case_id)
        if case is None:
            return AppealResult(False, "the case is gone")
        if not (actor.is_moderator or actor.is_admin):
            await self.store.audit.record(
                case.space_id, actor.user_id, actor.role, "appeal.decide", f"appeal:{appeal_id}",
                allowed=False, detail={"reason": "not a moderator"},
            )  # fmt: skip
            return AppealResult(False, "only moderators can decide appeals")
        if outcome not in ("upheld", "overturned"):
            return AppealResult(False, "decide an appeal with 'upheld' or 'overturned'")
        if appeal.status != "pending":
            return AppealResult(False, f"appeal #{appeal_id} was already {appeal.status}")
        async with self.store.transaction():
            decided = await self.store.appeals.decide(appeal_id, outcome, actor.user_id)
            await self.store.cases.set_status(case.id, outcome)
            await self.store.outbox.add(case.space_id, "dm", {"notice": f"appeal_{outcome}"}, case_id=case.id)
            await self.store.outbox.add(case.space_id, "update_flag", {}, case_id=case.id)
            await self.store.audit.record(
                case.space_id, actor.user_id, actor.role, f"appeal.{outcome}", f"appeal:{appeal_id}", True
            )
        return AppealResult(True, f"appeal #{appeal_id} {outcome}; the member has been told", decided)
