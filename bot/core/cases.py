"""Violations become cases; moderators decide them. Every decision is audited.

Platform side effects (post a flag, delete, time out, DM) are written to the outbox in the
same transaction as the decision, so none is lost and none happens twice. Who may decide is
asked of the one gate (`permissions.Gate`), which also refuses a moderator of another space.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable

from bot.core.admin import PolicyAdmin
from bot.core.case_views import CaseViews, Outcome
from bot.core.messages import ContextLine, Unavailable, Verdict
from bot.core.permissions import Gate
from bot.core.policy_book import ActivePolicy, PolicyBook
from bot.core.ports import Actor
from bot.core.vocab import CASE_ACTIONS, CaseAction, CaseStatus, pick
from bot.store import Store
from bot.store.cases import CaseConflict
from bot.store.records import Case, Job, NewJob

log = logging.getLogger(__name__)

RANK = {"low": 0, "medium": 1, "high": 2}
DECISIONS: dict[str, CaseStatus] = {"remove": "removed", "dismiss": "dismissed", "timeout": "timed_out"}
OPEN_STATES = ("open", "escalating")
APPEAL_REASON = "appeal"  # match_reason of a job that asks for an appeal's second opinion
ESCALATION_REASON = "escalation"  # ... and of a moderator's Escalate


class CaseService:
    def __init__(
        self,
        store: Store,
        book: PolicyBook,
        admin: PolicyAdmin,
        gate: Gate,
        views: CaseViews,
        enqueue: Callable[[NewJob], Awaitable[bool]],
    ) -> None:
        self.store = store
        self.book = book
        self.admin = admin
        self.gate = gate
        self.views = views
        self.enqueue = enqueue  # persists a job and hands it to the workers
        self.has_tier2 = views.has_tier2

    # -- from the pipeline ------------------------------------------------------------------

    async def on_verdict(self, job: Job, active: ActivePolicy, verdict: Verdict) -> None:
        """Called inside the pipeline's transaction for every verdict."""
        if _asks_second_opinion(job):
            await self._second_opinion(job, verdict)
            return
        if not verdict.violation:
            return
        shadow = active.mode != "live"
        case, created = await self.store.cases.open(
            space_id=job.space_id, platform=job.platform, channel_id=job.channel_id,
            message_id=job.message_id, author_id=job.author_id, author_name=job.author_name,
            policy_id=active.policy.id, policy_version=active.version, rule_ids=verdict.rule_ids,
            category=verdict.category, rationale=verdict.rationale, confidence=verdict.confidence,
            tier=verdict.tier, text=job.text, shadow=shadow,
        )  # fmt: skip
        if not created:
            return  # an edit or redelivery of a message already flagged under this policy
        await self.store.outbox.add(job.space_id, "post_flag", {}, case_id=case.id)
        if not shadow:  # a shadow card shows what the policy would flag; it never acts
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
        status: CaseStatus = "removed" if action.kind == "delete" else "timed_out"
        await self._apply(case, status, Actor.bot(case.space_id), "auto")

    async def _second_opinion(self, job: Job, verdict: Verdict) -> None:
        """The larger model answered: for an appeal, store it; for a moderator, reopen the card."""
        for case in await self.store.cases.by_message(job.space_id, job.message_id):
            if case.policy_id != job.policy_id:
                continue
            if job.match_reason == APPEAL_REASON:
                await self._store_opinion(case, _summary(verdict), verdict.to_dict())
            elif case.status == "escalating":
                await self.store.cases.set_status(case.id, "open")
            await self.store.outbox.add(case.space_id, "update_flag", {}, case_id=case.id)

    async def _store_opinion(self, case: Case, summary: str, verdict: dict[str, object] | None) -> None:
        appeal = await self.store.appeals.for_case(case.id)
        if appeal is not None:
            data = {"summary": summary, **({"verdict": verdict} if verdict else {})}
            await self.store.appeals.set_second_opinion(appeal.id, json.dumps(data))

    async def on_gave_up(self, job: Job, result: Unavailable) -> None:
        """A job will never get a verdict. For a moderator's or member's request, say so on the card."""
        if not _asks_second_opinion(job):
            return
        for case in await self.store.cases.by_message(job.space_id, job.message_id):
            if case.policy_id != job.policy_id:
                continue
            if job.match_reason == APPEAL_REASON:
                await self._store_opinion(case, f"no second opinion ({result.reason}): {result.detail}", None)
            elif case.status == "escalating":
                await self.store.cases.set_status(case.id, "open")
            await self.store.outbox.add(case.space_id, "update_flag", {}, case_id=case.id)

    # -- from moderators ---------------------------------------------------------------------

    async def decide(self, case_id: int, actor: Actor, action: str) -> Outcome:
        case = await self.store.cases.get(case_id)
        if case is None:
            return Outcome(False, f"no case #{case_id}", code="not_found")
        chosen = pick(action, CASE_ACTIONS)
        decision = await self.gate.check(
            actor, case.space_id, "moderator", f"case.{action[:40]}", f"case:{case_id}"
        )
        if not decision.allowed:
            message = (
                "only moderators can act on flags" if decision.reason.startswith("only") else decision.reason
            )
            return Outcome(False, message, case, code="refused")
        if chosen is None:
            return Outcome(False, f"unknown action {action!r}; use one of {', '.join(CASE_ACTIONS)}", case,
                           code="invalid")  # fmt: skip
        if await self.gate.own_case(actor, case.author_id, decision.role, case.space_id, f"case.{chosen}",
                                    f"case:{case.id}"):  # fmt: skip
            return Outcome(False, "another moderator must decide a flag on your own message", case,
                           code="refused")  # fmt: skip
        return await self._decide(case, actor, chosen)

    async def _decide(self, case: Case, actor: Actor, action: CaseAction) -> Outcome:
        if action == "escalate":
            return await self._escalate(case, actor)
        if action == "add_example":
            ok, message = await self.admin.add_example(case, actor)
            return Outcome(ok, message, case, code="ok" if ok else "invalid")
        status = DECISIONS[action]
        if case.shadow and status != "dismissed":
            return Outcome(False, "this policy is in shadow mode: its flags are never acted on", case,
                           code="refused")  # fmt: skip
        role = await self.gate.role(actor, case.space_id)
        try:
            async with self.store.transaction():
                decided = await self._apply(case, status, actor, role)
        except CaseConflict as exc:
            who = exc.case.decided_by or "someone"
            return Outcome(False, f"case #{case.id} was already {exc.case.status} by {who}", exc.case,
                           code="invalid")  # fmt: skip
        return Outcome(True, f"case #{case.id} {status}", decided)

    async def _apply(self, case: Case, status: CaseStatus, actor: Actor, role: str) -> Case:
        decided = await self.store.cases.decide(
            case.id, status, actor.user_id, action_taken=status if status != "dismissed" else None,
            expected=OPEN_STATES,
        )  # fmt: skip
        space = await self.store.spaces.get(case.space_id)
        if status == "removed" and self.gate.capabilities(case.platform).can_delete:
            # Where the bot cannot delete (Slack without an admin token) the card says so instead.
            await self.store.outbox.add(case.space_id, "delete", {}, case_id=case.id)
        elif status == "timed_out":
            minutes = await self._timeout_minutes(case)
            await self.store.outbox.add(case.space_id, "timeout", {"minutes": minutes}, case_id=case.id)
        if status in ("removed", "timed_out") and (space is None or space.notify_members):
            await self.store.outbox.add(case.space_id, "dm", {"notice": status}, case_id=case.id)
        await self.store.outbox.add(case.space_id, "update_flag", {}, case_id=case.id)
        await self.store.audit.record(
            case.space_id, actor.user_id, role, f"case.{status}", f"case:{case.id}", allowed=True,
            detail={"policy": case.policy_id},
        )  # fmt: skip
        return decided

    async def _timeout_minutes(self, case: Case) -> int:
        active = await self.book.for_job(case.space_id, case.policy_id)
        return active.policy.spec.action.timeout_minutes if active else 60

    async def _escalate(self, case: Case, actor: Actor) -> Outcome:
        if case.status != "open":  # a decided case must not come back with its buttons
            return Outcome(False, f"case #{case.id} is {case.status}; only open cases can be escalated", case,
                           code="invalid")  # fmt: skip
        if not self.has_tier2:
            return Outcome(False, "no larger model is configured (set ESCALATION_URL)", case, code="invalid")
        job = await self.escalation_job(case)
        if job is None:
            return Outcome(False, "the message text is no longer stored (retention); cannot re-ask", case,
                           code="invalid")  # fmt: skip
        role = await self.gate.role(actor, case.space_id)
        try:
            async with self.store.transaction():
                await self.store.cases.set_status(case.id, "escalating", expected=("open",))
                await self.enqueue(job)
                await self.store.outbox.add(case.space_id, "update_flag", {}, case_id=case.id)
                await self.store.audit.record(
                    case.space_id, actor.user_id, role, "case.escalate", f"case:{case.id}", allowed=True
                )
        except CaseConflict as exc:
            return Outcome(False, f"case #{case.id} is {exc.case.status}; only open cases can be escalated",
                           exc.case, code="invalid")  # fmt: skip
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
            kind = APPEAL_REASON if statement else ESCALATION_REASON
            # One request per answer so far: a second click while one is queued is a no-op.
            return NewJob(
                dedupe_key=f"{kind}:{case.space_id}:{case.id}:{len(verdicts)}", space_id=job.space_id,
                platform=job.platform, channel_id=job.channel_id, channel_name=job.channel_name,
                message_id=job.message_id, author_id=job.author_id, author_name=job.author_name,
                text=job.text, context=context, policy_id=job.policy_id,
                policy_version=job.policy_version, policy_hash=job.policy_hash,
                match_reason=kind, escalate=True,
            )  # fmt: skip
        return None


def _summary(verdict: Verdict) -> str:
    label = "violation" if verdict.violation else "no violation"
    return f"tier {verdict.tier}: {label} ({verdict.confidence}) {verdict.rationale}"


def _asks_second_opinion(job: Job) -> bool:
    """An appeal's or a moderator's request about a case. (A job a worker without the 120b handed
    on also asks for tier 2, but it is a first look: its verdict opens the case.)"""
    return job.escalate and job.match_reason in (APPEAL_REASON, ESCALATION_REASON)
