"""A platform that appends flag cards to a file, idempotent by case id.

Like Discord's `enforce_nonce`, a second post with the same nonce (the case id) returns the
first card instead of a new one: this is what lets a restarted bot re-send a flag whose
reference it had not saved before it died.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bot.core.ports import Capabilities, PlatformResult
from bot.core.views import FlagView, MemberNotice


class FilePlatform:
    name = "test"
    capabilities = Capabilities()

    def __init__(self, path: Path) -> None:
        self.path = path

    def cards(self) -> list[dict[str, object]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text().splitlines() if line.strip()]

    async def post_flag(self, view: FlagView, mod_channel_id: str) -> PlatformResult:
        for card in self.cards():
            if card["case_id"] == view.case_id:
                return PlatformResult(True, ref=f"card-{view.case_id}")
        with self.path.open("a") as fh:
            fh.write(
                json.dumps({"case_id": view.case_id, "message_id": view.message_id, "pid": os.getpid()})
                + "\n"
            )
            fh.flush()
            os.fsync(fh.fileno())
        return PlatformResult(True, ref=f"card-{view.case_id}")

    async def update_flag(self, ref: str, view: FlagView, mod_channel_id: str) -> PlatformResult:
        return PlatformResult(True, ref=ref)

    async def delete_message(self, space_id: str, channel_id: str, message_id: str) -> PlatformResult:
        return PlatformResult(True)

    async def timeout_member(self, space_id: str, user_id: str, minutes: int, reason: str) -> PlatformResult:
        return PlatformResult(True)

    async def dm(self, notice: MemberNotice) -> PlatformResult:
        return PlatformResult(True)

    async def check_setup(self, space_id: str, mod_channel_id: str) -> list[str]:
        return []
