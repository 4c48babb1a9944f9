"""The contract every platform port passes (console, recording double, Discord, Slack).

A platform's test module builds a `PortHarness` around its port and a fake of its platform,
then awaits `check_port_contract(harness)`. The checks are what the core relies on: a posted
card comes back with a reference, a second post of the same case comes back with the same card
(not a second one), an update shows the new state under the same reference,
deletions, timeouts (where offered) and DMs reach the platform, and nothing raises.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Protocol

from bot.core.ports import Platform
from bot.core.views import FlagView, MemberNotice

VIEW = FlagView(
    case_id=7, space_id="S1", channel_id="C-general", message_id="M-1", author_id="U-sam",
    author_name="sam", excerpt="selling aimbot, dm me", policy_id="game-cheating",
    policy_title="Game cheating", rule_ids=("GC1",), rationale="Offers a cheat for sale.",
    confidence="high", tier=1, status="open",
    buttons=("remove", "dismiss", "timeout", "add_example", "show_reasoning"),
)  # fmt: skip
NOTICE = MemberNotice(
    case_id=7, space_id="S1", user_id="U-sam",
    text="Your message in this server was removed by the moderators because it breaks the rule "
    "“No selling cheats”. If you think this is a mistake, you can appeal once (case #7).",
    can_appeal=True, kind="removed", rule="No selling cheats", policy_title="Game cheating",
    action="your message was removed",
)  # fmt: skip


class PortHarness(Protocol):
    """A port plus a look at its (fake) platform. Texts are what a person would read."""

    mod_channel: str

    @property
    def port(self) -> Platform: ...

    async def card_texts(self) -> list[str]: ...  # every card in the mod channel, as shown

    async def deleted(self) -> list[str]: ...  # ids of deleted messages

    async def timed_out(self) -> list[str]: ...  # user ids timed out

    async def dm_texts(self, user_id: str) -> list[str]: ...


async def check_port_contract(h: PortHarness) -> None:
    port = h.port
    posted = await port.post_flag(VIEW, h.mod_channel)
    assert posted.ok and posted.ref, posted.error
    cards = await h.card_texts()
    assert any("Offers a cheat for sale." in c and "Game cheating" in c for c in cards), cards

    # The outbox posts again when it never learnt the first post's fate (a timeout, a crash
    # before the reference was saved): the platform must come back with the same card.
    again = await port.post_flag(VIEW, h.mod_channel)
    assert again.ok and again.ref == posted.ref, (posted, again)
    assert len(await h.card_texts()) == len(cards), "a second post of the same case showed a second card"

    decided = replace(VIEW, status="removed", decided_by="U-mia", buttons=("show_reasoning",))
    updated = await port.update_flag(posted.ref, decided, h.mod_channel)
    assert updated.ok, updated.error
    after = await h.card_texts()
    assert len(after) == len(cards), "an update must not post a second card"
    assert any("removed" in c.lower() and "U-mia" in c for c in after), after

    if port.capabilities.can_delete:
        gone = await port.delete_message("S1", "C-general", "M-1")
        assert gone.ok, gone.error
        assert "M-1" in await h.deleted()
    if port.capabilities.can_timeout:
        timed = await port.timeout_member("S1", "U-sam", 60, "case 7")
        assert timed.ok, timed.error
        assert "U-sam" in await h.timed_out()

    sent = await port.dm(NOTICE)
    assert sent.ok, sent.error
    texts = await h.dm_texts("U-sam")
    assert any("No selling cheats" in t for t in texts), texts

    problems = await port.check_setup("S1", h.mod_channel)
    assert isinstance(problems, list) and all(isinstance(p, str) for p in problems)
