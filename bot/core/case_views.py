"""What moderators see of a case: its flag card (with the buttons it offers) and the reasoning.

The card's buttons depend on the case's state, whether a larger model is configured and
what the platform can do; they are computed here once for every adapter.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.commands.model import Reply, ReplyCode
from bot.core.permissions import Gate
from bot.core.policy_book import PolicyBook
from bot.core.ports import Actor
from bot.core.views import FlagView, card_buttons
from bot.store import Store
from bot.store.records import Case

MAX_REASONING = 3500  # fits a Discord embed and a Slack section


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of a moderator's or member's action on a case."""

    ok: bool
    message: str
    case: Case | None = None
    code: ReplyCode = "ok"

    def reply(self) -> Reply:
        return Reply(self.ok, self.message, code=self.code)


class CaseViews:
    def __init__(self, store: Store, book: PolicyBook, gate: Gate, has_tier2: bool) -> None:
        self.store = store
        self.book = book
        self.gate = gate
        self.has_tier2 = has_tier2

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
        caps = self.gate.capabilities(case.platform)
        pending = appeal is not None and appeal.status == "pending"
        notice = ""
        if case.status == "removed" and not caps.can_delete:
            notice = "modbot cannot delete messages here: delete it by hand (link above)"
        elif case.shadow:
            notice = "shadow mode: this policy only records what it would flag; nothing was done"
        elif undelivered := await self.store.outbox.failed_for_case(case.id, "dm"):
            notice = f"the member was not told: {undelivered[-1].last_error or 'the message failed'}"
        return FlagView(
            case_id=case.id, space_id=case.space_id, channel_id=case.channel_id,
            message_id=case.message_id, author_id=case.author_id, author_name=case.author_name,
            excerpt=case.excerpt, policy_id=case.policy_id,
            policy_title=spec.title if spec else case.policy_id, rule_ids=case.rule_ids,
            rationale=case.rationale, confidence=case.confidence, tier=case.tier,
            status=case.status, moderator_note=spec.moderator_note if spec else "", shadow=case.shadow,
            decided_by=case.decided_by or "",
            buttons=card_buttons(
                case.status, shadow=case.shadow, appeal_pending=pending,
                has_tier2=self.has_tier2, can_timeout=caps.can_timeout,
            ),
            appeal_id=appeal.id if appeal else None, appeal_status=appeal.status if appeal else None,
            appeal_statement=appeal.statement if appeal else "", second_opinion=second, notice=notice,
        )  # fmt: skip

    async def reasoning(self, case_id: int, actor: Actor) -> Reply:
        """The model's reasoning for a case: moderators of the case's space only, never public."""
        case = await self.store.cases.get(case_id)
        if case is None:
            return Reply.fail("not_found", f"no case #{case_id}")
        decision = await self.gate.check(
            actor, case.space_id, "moderator", "case.show_reasoning", f"case:{case_id}"
        )
        if not decision.allowed:
            return Reply.fail("refused", decision.reason)
        lines: list[str] = []
        for stored in await self.store.verdicts.for_message(case.space_id, case.message_id):
            if stored.policy_id != case.policy_id:
                continue
            label = "violation" if stored.violation else "no violation"
            lines.append(
                f"tier {stored.tier} ({stored.model}): {label}, {stored.confidence} — {stored.rationale}"
            )
            if stored.reasoning:
                lines.append(_clip(stored.reasoning, MAX_REASONING // 2))
            elif stored.purged_at:
                lines.append("(the reasoning was removed after the retention period)")
        if not lines:
            lines.append("no stored answer for this case")
        return Reply(True, f"case #{case.id}: the model's reasoning", tuple(lines), private=True)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
