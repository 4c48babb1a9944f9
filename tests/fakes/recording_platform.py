"""The one test double of the platform port: records what the core asked, fails on request.

Like a real platform that honours a nonce (Discord's `enforce_nonce`), a second post of the
same case returns the first card rather than a new one. Every test of the core uses this
class; Discord's and Slack's adapters pass the same contract test (tests/test_port_contract.py).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.ports import Capabilities, PlatformResult
from bot.core.views import FlagView, MemberNotice


@dataclass
class RecordingPlatform:
    name: str = "test"
    capabilities: Capabilities = field(default_factory=Capabilities)
    flags: list[FlagView] = field(default_factory=list)
    updates: list[tuple[str, FlagView]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    timeouts: list[tuple[str, int]] = field(default_factory=list)
    dms: list[MemberNotice] = field(default_factory=list)
    fail_posts: int = 0  # the next N posts fail (platform outage)
    refuse: dict[str, str] = field(default_factory=dict)  # call name -> a permanent error
    setup_problems: list[str] = field(default_factory=list)
    honours_nonce: bool = True  # False: like Slack, a second post is a second card

    def _refused(self, call: str) -> PlatformResult | None:
        if call in self.refuse:
            return PlatformResult(False, error=self.refuse[call], retryable=False)
        return None

    async def post_flag(self, view: FlagView, mod_channel_id: str) -> PlatformResult:
        if refused := self._refused("post_flag"):
            return refused
        if self.fail_posts:
            self.fail_posts -= 1
            return PlatformResult(False, error="503 from the platform")
        for n, posted in enumerate(self.flags, start=1):
            if posted.case_id == view.case_id and self.honours_nonce:
                return PlatformResult(True, ref=f"card-{n}")  # the nonce was seen: same card
        self.flags.append(view)
        return PlatformResult(True, ref=f"card-{len(self.flags)}")

    async def update_flag(self, ref: str, view: FlagView, mod_channel_id: str) -> PlatformResult:
        if refused := self._refused("update_flag"):
            return refused
        self.updates.append((ref, view))
        return PlatformResult(True, ref=ref)

    async def delete_message(self, space_id: str, channel_id: str, message_id: str) -> PlatformResult:
        if refused := self._refused("delete_message"):
            return refused
        self.deleted.append(message_id)
        return PlatformResult(True)

    async def timeout_member(self, space_id: str, user_id: str, minutes: int, reason: str) -> PlatformResult:
        if refused := self._refused("timeout_member"):
            return refused
        self.timeouts.append((user_id, minutes))
        return PlatformResult(True)

    async def dm(self, notice: MemberNotice) -> PlatformResult:
        if refused := self._refused("dm"):
            return refused
        self.dms.append(notice)
        return PlatformResult(True)

    async def check_setup(self, space_id: str, mod_channel_id: str) -> list[str]:
        return list(self.setup_problems)

    def latest(self, case_id: int) -> FlagView:
        """The card as moderators see it now: the last update, or the post."""
        for _ref, view in reversed(self.updates):
            if view.case_id == case_id:
                return view
        return next(v for v in self.flags if v.case_id == case_id)
