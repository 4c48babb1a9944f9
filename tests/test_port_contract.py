"""The port contract, passed by the console platform and the recording test double."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.core.ports import Platform
from bot.platforms.console.platform import ConsolePlatform, render_flag
from tests.fakes.recording_platform import RecordingPlatform
from tests.port_contract import check_port_contract


@dataclass
class RecordingHarness:
    platform: RecordingPlatform = field(default_factory=RecordingPlatform)
    mod_channel: str = "mods"

    @property
    def port(self) -> Platform:
        return self.platform

    async def card_texts(self) -> list[str]:
        # One card per raw post (a double post shows twice), as its last update shows it.
        shown = []
        for n, view in enumerate(self.platform.flags, start=1):
            updates = [v for ref, v in self.platform.updates if ref == f"card-{n}"]
            shown.append(render_flag(updates[-1] if updates else view))
        return shown

    async def deleted(self) -> list[str]:
        return self.platform.deleted

    async def timed_out(self) -> list[str]:
        return [user for user, _minutes in self.platform.timeouts]

    async def dm_texts(self, user_id: str) -> list[str]:
        return [n.text for n in self.platform.dms if n.user_id == user_id]


@dataclass
class ConsoleHarness:
    lines: list[str] = field(default_factory=list)
    mod_channel: str = "mods"

    def __post_init__(self) -> None:
        self.platform = ConsolePlatform(self.lines.append)

    @property
    def port(self) -> Platform:
        return self.platform

    async def card_texts(self) -> list[str]:
        # The console prints each version of a card; the newest of each case is what is shown.
        cards: dict[str, str] = {}
        for line in self.lines:
            if line.startswith("[#mods]"):
                body = line.split("\n", 1)[1]
                case = body.split("case #", 1)[1].split(" ", 1)[0]
                cards[case] = body
        return list(cards.values())

    async def deleted(self) -> list[str]:
        return sorted(self.platform.deleted)

    async def timed_out(self) -> list[str]:
        return list(self.platform.timeouts)

    async def dm_texts(self, user_id: str) -> list[str]:
        return [line for line in self.lines if line.startswith(f"[DM to {user_id}]")]


async def test_recording_platform_passes_the_port_contract() -> None:
    await check_port_contract(RecordingHarness())


async def test_a_platform_that_posts_a_case_twice_fails_the_contract() -> None:
    harness = RecordingHarness()
    harness.platform.honours_nonce = False  # like Slack without its look-back: two cards
    with pytest.raises(AssertionError):
        await check_port_contract(harness)


async def test_console_platform_passes_the_port_contract() -> None:
    await check_port_contract(ConsoleHarness())
