"""Violations become cases; moderators decide them. Every decision is audited.

Platform side effects (post a flag, delete, time out, DM) are written to the outbox in the
same transaction as the decision, so none is lost and none happens twice.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from bot.core.admin import PolicyAdmin
from bot.core.messages import ContextLine, Unavailable, Verdict
from bot.core.policy_book import ActivePolicy, PolicyBook
from bot.core.ports import Actor, FlagView
from bot.store import Store
from bot.store.cases import CaseConflict
from bot.store.records import Case, Job, NewJob

log = logging.getLogger(__name__)

RANK = {"low": 0, "medium": 1, "high": 2}
DECISIONS = {"remove": "removed", "dismiss": "dismissed", "timeout": "timed_out"}
OPEN_STATES = ("open", "escalating")


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    message: str
    case: Case | None = None


class CaseService:
    def __init__(self, store: Store, book: PolicyBook, admin: PolicyAdmin | None = None) -> None:
        self.store = store
        self.book = book
        self.admin = admin
        # Set by the core: persists a job and hands it to the workers.
        self.enqueue: Callable[[NewJob], Awaitable[bool]] | None = None

    # -- from the pipeline ------------------------------------------------------------------

    async def on_verdict(self, job: Job, active: ActivePolicy, verdict: Verdict) -> None:
        """Called inside the pipeline's transaction for every verdict."""
        if job.escalate:
            await self._second_opinion(job, verdict)
            return
        if not verdict.violation or active.mode != "live":
            return  # shadow mode records verdicts (done by the pipeline) and posts nothing
        case, created = await self.store.cases.open(
            space_id=job.space_id, platform=job.platform, channel_id=job.channel_id,
            message_id=job.message_id, author_id=job.author_id, author_name=job.author_name,
            policy_id=active.policy.id, policy_version=active.version, rule_ids=verdict.rule_ids,
            category=verdict.category, rationale=verdict.rationale, confidence=verdict.confidence,
            tier=verdict.tier, text=job.text,
        )  # fmt: skip
        if not created:
            return  # an edit or redelivery of a message already flagged under this policy
        await self.store.outbox.add(job.space_id, "post_flag", {}, case_id=case.id)
        await self._auto_action(case, active, verdict)

    async def _auto_action(self, case: Case, active: ActivePolicy, verdict: Verdict) -> None:
        action = active.policy.spec.action
        if action.kind == "flag":
            return
        space = await self.store.spaces.get(case.space_id)
        if space is None or not space.auto_actions:
            return
        if RANK[verdict.confidence] < RANK[action.min_confidence] or verdict.source != "content":
            return  # only a confident, well-formed answer may act without a human
        status = "removed" if action.kind == "delete" else "timed_out"
        await self._apply(case, status, Actor("modbot", "modbot", is_moderator=True), auto=True)

    async def _second_opinion(self, job: Job, verdict: Verdict) -> None:
        """A moderator asked the larger model: reopen the case and refresh its card."""
        for case in await self.store.cases.by_message(job.space_id, job.message_id):
            if case.policy_id != job.policy_id:
                continue
            if case.status == "escalating":
                await self.store.cases.set_status(case.id, "open")
            await self.store.outbox.add(case.space_id, "update_flag", {}, case_id=case.id)

    async def on_gave_up(self, job: Job, result: Unavailable) -> None:
        """A job will never get a verdict. For a moderator's escalation, say so on the card."""
        if not job.escalate:
            return
        for case in await self.store.cases.by_message(job.space_id, job.message_id):
            if case.policy_id == job.policy_id and case.status == "escalating":
                await self.store.cases.set_status(case.id, "open")
                await self.store.outbox.add(case.space_id, "update_flag", {}, case_id=case.id)

    # -- from moderators ---------------------------------------------------------------------

    async def decide(self, case_id: int, actor: Actor, action: str) -> Outcome:
        case = await self.store.cases.get(case_id)
        if case is None:
            return Outcome(False, f"no case #{case_id}")
        if not (actor.is_moderator or actor.is_admin):
            await self.store.audit.record(
                case.space_id,
                actor.user_id,
                actor.role,
                f"case.{action}",
                f"case:{case_id}",
                allowed=False,
                detail={"reason": "not a moderator"},
            )
            return Outcome(False, "only moderators can act on flags", case)
        if action == "escalate":
            return await self._escalate(case, actor)
        if action == "add_example":
            return await self._add_example(case, actor)
        status = DECISIONS.get(action)
        if status is None:
            return Outcome(False, f"unknown action {action!r}; use one of {', '.join(DECISIONS)}")
        try:
            async with self.store.transaction():
                decided = await self._apply(case, status, actor)
        except CaseConflict as exc:
            who = exc.case.decided_by or "someone"
            return Outcome(False, f"case #{case_id} was already {exc.case.status} by {who}", exc.case)
        return Outcome(True, f"case #{case_id} {status}", decided)

    async def _apply(self, case: Case, status: str, actor: Actor, *, auto: bool = False) -> Case:
        decided = await self.store.cases.decide(
            case.id,
            status,
            actor.user_id,
            action_taken=status if status != "dismissed" else None,
            expected=OPEN_STATES,
        )
        space = await self.store.spaces.get(case.space_id)
        if status == "removed":
            await self.store.outbox.add(case.space_id, "delete", {}, case_id=case.id)
        elif status == "timed_out":
            minutes = await self._timeout_minutes(case)
            await self.store.outbox.add(case.space_id, "timeout", {"minutes": minutes}, case_id=case.id)
        if status in ("removed", "timed_out") and (space is None or space.notify_members):
            await self.store.outbox.add(case.space_id, "dm", {"notice": status}, case_id=case.id)
        await self.store.outbox.add(case.space_id, "update_flag", {}, case_id=case.id)
        await self.store.audit.record(
            case.space_id,
            actor.user_id,
            "auto" if auto else actor.role,
            f"case.{status}",
            f"case:{case.id}",
            allowed=True,
            detail={"policy": case.policy_id},
        )
        return decided

    async def _timeout_minutes(self, case: Case) -> int:
        active = await self.book.for_job(case.space_id, case.policy_id)
        return active.policy.spec.action.timeout_minutes if active else 60

    async def _escalate(self, case: Case, actor: Actor) -> Outcome:
        job = await self.escalation_job(case)
        if job is None:
            return Outcome(False, "the message text is no longer stored (retention); cannot re-ask", case)
        if self.enqueue is None:
            return Outcome(False, "no model workers are running", case)
        async with self.store.transaction():
            await self.enqueue(job)
            await self.store.cases.set_status(case.id, "escalating")
            await self.store.outbox.add(case.space_id, "update_flag", {}, case_id=case.id)
            await self.store.audit.record(
                case.space_id, actor.user_id, actor.role, "case.escalate", f"case:{case.id}", allowed=True
            )
        return Outcome(True, f"case #{case.id} sent to the larger model", case)

    async def escalation_job(self, case: Case, statement: str = "") -> NewJob | None:
        """A tier-2 job for the case's message, from the job that first classified it."""
        verdicts = await self.store.verdicts.for_message(case.space_id, case.message_id)
        for stored in verdicts:
            if stored.policy_id != case.policy_id or stored.job_id is None:
                continue
            job = await self.store.inbox.get(stored.job_id)
            if job is None or not job.text:
                continue
            context = job.context
            if statement:
                context = (*context, ContextLine(f"{job.author_name} (appeal statement)", statement))
            # One escalation per answer so far: a second click while one is queued is a no-op.
            return NewJob(
                dedupe_key=f"escalate:{case.space_id}:{case.id}:{len(verdicts)}", space_id=job.space_id,
                platform=job.platform, channel_id=job.channel_id, channel_name=job.channel_name,
                message_id=job.message_id, author_id=job.author_id, author_name=job.author_name,
                text=job.text, context=context, policy_id=job.policy_id,
                policy_version=job.policy_version, policy_hash=job.policy_hash,
                match_reason="escalation", escalate=True,
            )  # fmt: skip
        return None

    async def _add_example(self, case: Case, actor: Actor) -> Outcome:
        if self.admin is None:
            return Outcome(False, "policy editing is not available here", case)
        ok, message = await self.admin.add_example(case, actor)
        return Outcome(ok, message, case)

    # -- views -------------------------------------------------------------------------------

    async def _tier2_summary(self, case: Case) -> str:
        """The latest escalated answer for the case's message, if one was asked for."""
        for stored in reversed(await self.store.verdicts.for_message(case.space_id, case.message_id)):
            if (
                stored.policy_id == case.policy_id
                and stored.created_at >= case.created_at
                and stored.tier == 2
            ):
                label = "violation" if stored.violation else "no violation"
                return f"tier 2: {label} ({stored.confidence}) {stored.rationale}"
        return ""

    async def view(self, case: Case) -> FlagView:
        active = await self.book.for_job(case.space_id, case.policy_id)
        spec = active.policy.spec if active else None
        appeal = await self.store.appeals.for_case(case.id)
        opinion = appeal.second_opinion if appeal else None
        second = str(opinion.get("summary", "")) if opinion else await self._tier2_summary(case)
        return FlagView(
            case_id=case.id, space_id=case.space_id, channel_id=case.channel_id,
            message_id=case.message_id, author_id=case.author_id, author_name=case.author_name,
            excerpt=case.excerpt, policy_id=case.policy_id,
            policy_title=spec.title if spec else case.policy_id, rule_ids=case.rule_ids,
            rationale=case.rationale, confidence=case.confidence, tier=case.tier,
            status=case.status, moderator_note=spec.moderator_note if spec else "",
            decided_by=case.decided_by or "",
            appeal_statement=appeal.statement if appeal else "",
            second_opinion=second,
        )  # fmt: skip
