"""The console's side of the platform port: flags, deletions and DMs become printed lines."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.messages import ContextLine
from bot.core.ports import Capabilities, PlatformResult
from bot.core.views import FlagView, MemberNotice

ICONS = {
    "open": "🚩",
    "escalating": "⏳",
    "removed": "🗑",
    "dismissed": "✔",
    "timed_out": "⏱",
    "upheld": "⚖",
    "overturned": "↩",
}


def render_flag(view: FlagView) -> str:
    rules = ",".join(view.rule_ids) or "-"
    shadow = " SHADOW" if view.shadow else ""
    lines = [
        f"{ICONS.get(view.status, '🚩')} case #{view.case_id} [{view.status}{shadow}] {view.policy_title} "
        f"({view.policy_id} {rules}, {view.confidence} confidence, tier {view.tier})",
        f"   {view.author_name or view.author_id} in #{view.channel_id}: “{view.excerpt}”",
        f"   why: {view.rationale or '(no rationale)'}",
    ]
    if view.moderator_note:
        lines.append(f"   note for moderators: {view.moderator_note.strip().splitlines()[0]}")
    if view.second_opinion:
        lines.append(f"   second opinion: {view.second_opinion}")
    if view.appeal_statement:
        lines.append(f"   appeal by the author: “{view.appeal_statement}”")
    if view.notice:
        lines.append(f"   {view.notice}")
    if view.decided_by:
        lines.append(f"   decided by {view.decided_by}")
    if view.buttons:
        lines.append("   actions: " + " ".join(_command(b, view) for b in view.buttons))
    return "\n".join(lines)


def _command(button: str, view: FlagView) -> str:
    if button in ("uphold", "overturn"):
        return f"/{button} {view.appeal_id}"
    name = {"add_example": "example", "show_reasoning": "reasoning"}.get(button, button)
    return f"/{name} {view.case_id}"


class ConsolePlatform:
    name = "console"
    capabilities = Capabilities(can_timeout=True, can_delete=True)

    def __init__(self, write: Callable[[str], None]) -> None:
        self._write = write
        self._refs = 0
        self._cards: dict[int, str] = {}  # case id -> its card: a second post shows the same card
        self.history: dict[str, list[ContextLine]] = {}  # the room keeps each channel's lines
        self.deleted: set[str] = set()
        self.timeouts: dict[str, int] = {}

    async def post_flag(self, view: FlagView, mod_channel_id: str) -> PlatformResult:
        if view.case_id in self._cards:
            return PlatformResult(True, ref=self._cards[view.case_id])
        self._refs += 1
        self._cards[view.case_id] = f"card-{self._refs}"
        self._write(f"[#{mod_channel_id or 'mod'}]\n{render_flag(view)}")
        return PlatformResult(True, ref=self._cards[view.case_id])

    async def update_flag(self, ref: str, view: FlagView, mod_channel_id: str) -> PlatformResult:
        self._write(f"[#{mod_channel_id or 'mod'}] updated {ref}\n{render_flag(view)}")
        return PlatformResult(True, ref=ref)

    async def delete_message(self, space_id: str, channel_id: str, message_id: str) -> PlatformResult:
        self.deleted.add(message_id)
        self._write(f"[#{channel_id}] message {message_id} was removed by the moderators")
        return PlatformResult(True)

    async def timeout_member(self, space_id: str, user_id: str, minutes: int, reason: str) -> PlatformResult:
        self.timeouts[user_id] = minutes
        self._write(f"[server] {user_id} is timed out for {minutes} minutes ({reason})")
        return PlatformResult(True)

    async def dm(self, notice: MemberNotice) -> PlatformResult:
        hint = f"\n   reply with: /appeal {notice.case_id} <why>" if notice.can_appeal else ""
        self._write(f"[DM to {notice.user_id}] {notice.text}{hint}")
        return PlatformResult(True)

    async def check_setup(self, space_id: str, mod_channel_id: str) -> list[str]:
        return []  # the console can always print
