"""The narrow protocol a platform adapter implements, and the neutral views it renders.

The core never knows whether a flag card is a Discord embed with buttons, Slack blocks, or a
line in a terminal: it hands over a `FlagView` and gets back an opaque reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from bot.core.messages import ContextLine


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting, and what the platform says they may do."""

    user_id: str
    name: str = ""
    is_moderator: bool = False
    is_admin: bool = False

    @property
    def role(self) -> str:
        return "admin" if self.is_admin else "moderator" if self.is_moderator else "member"


# Buttons a moderator sees on a flag card; ids are stable so restart-safe buttons can carry them.
MOD_ACTIONS: tuple[str, ...] = ("remove", "dismiss", "timeout", "escalate", "add_example")


@dataclass(frozen=True, slots=True)
class FlagView:
    """Everything a flag card shows. Reasoning is for moderators only."""

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
    status: str  # open, removed, dismissed, timed_out, escalating, upheld, overturned
    moderator_note: str = ""
    shadow: bool = False
    decided_by: str = ""
    actions: tuple[str, ...] = MOD_ACTIONS
    appeal_statement: str = ""
    second_opinion: str = ""


@dataclass(frozen=True, slots=True)
class MemberNotice:
    """A DM to the member whose message was acted on. Never includes the model's reasoning."""

    case_id: int
    space_id: str
    user_id: str
    text: str
    can_appeal: bool = False


@dataclass(frozen=True, slots=True)
class PlatformResult:
    ok: bool
    ref: str = ""  # e.g. the id of the posted card
    error: str = ""
    retryable: bool = True


class Platform(Protocol):
    """What the core asks of Discord, Slack or the console. Every call may fail; say so."""

    name: str

    async def post_flag(self, view: FlagView, mod_channel_id: str) -> PlatformResult: ...

    async def update_flag(self, ref: str, view: FlagView, mod_channel_id: str) -> PlatformResult: ...

    async def delete_message(self, space_id: str, channel_id: str, message_id: str) -> PlatformResult: ...

    async def timeout_member(
        self, space_id: str, user_id: str, minutes: int, reason: str
    ) -> PlatformResult: ...

    async def dm(self, notice: MemberNotice) -> PlatformResult: ...

    async def fetch_context(
        self, space_id: str, channel_id: str, before_message_id: str, limit: int
    ) -> list[ContextLine]: ...
