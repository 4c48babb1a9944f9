"""What adapters render, built in one place: flag cards, member notices, the buttons a card offers.

A Discord embed, Slack blocks and a console line all show the same `FlagView`; which buttons
it carries is decided here from the case's state, the space's model tiers and what the
platform can do, so no adapter decides what a moderator may press.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.vocab import AppealStatus, CardButton, CaseStatus

STATUS_LABELS: dict[str, str] = {
    "open": "open",
    "escalating": "asking the larger model",
    "removed": "removed",
    "dismissed": "dismissed",
    "timed_out": "author timed out",
    "upheld": "appeal upheld",
    "overturned": "appeal overturned",
}


@dataclass(frozen=True, slots=True)
class FlagView:
    """Everything a flag card shows. The model's reasoning is not here: moderators ask for it."""

    case_id: int
    space_id: str
    channel_id: str
    message_id: str
    author_id: str
    author_name: str
    excerpt: str
    policy_id: str
    policy_title: str
    rule_ids: tuple[str, ...]
    rationale: str
    confidence: str
    tier: int
    status: CaseStatus
    moderator_note: str = ""
    shadow: bool = False
    decided_by: str = ""  # a user id: adapters mention it (<@id>)
    buttons: tuple[CardButton, ...] = ()
    appeal_id: int | None = None
    appeal_status: AppealStatus | None = None
    appeal_statement: str = ""
    second_opinion: str = ""
    notice: str = ""  # a line for the moderators, e.g. "delete the message by hand"
    channel_name: str = ""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def rules(self) -> str:
        return ", ".join(self.rule_ids) or "-"


@dataclass(frozen=True, slots=True)
class MemberNotice:
    """A DM to the member whose message was acted on. Never includes the model's reasoning.

    The fields are structured so each platform can lay them out its own way; `text` is the
    same in plain English for platforms that show one paragraph.
    """

    case_id: int
    space_id: str
    user_id: str
    text: str
    can_appeal: bool = False
    kind: str = "removed"  # removed | timed_out | appeal_upheld | appeal_overturned
    rule: str = ""  # the rule's words, not its id
    policy_title: str = ""
    action: str = ""  # what happened, in plain words
    minutes: int = 0
    space_name: str = ""


def card_buttons(
    status: CaseStatus,
    *,
    shadow: bool,
    appeal_pending: bool,
    has_tier2: bool,
    can_timeout: bool,
) -> tuple[CardButton, ...]:
    """The buttons a flag card offers now. Shadow cards never offer punishment."""
    if appeal_pending:
        return ("uphold", "overturn", "show_reasoning")
    if status == "open":
        buttons: list[CardButton] = []
        if not shadow:
            buttons.append("remove")
        buttons.append("dismiss")
        if can_timeout and not shadow:
            buttons.append("timeout")
        if has_tier2:
            buttons.append("escalate")
        buttons += ["add_example", "show_reasoning"]
        return tuple(buttons)
    if status == "escalating":
        return ("dismiss", "show_reasoning")
    return ("show_reasoning",)
