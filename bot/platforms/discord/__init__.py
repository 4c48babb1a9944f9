"""The Discord adapter (discord.py). Being built: see issue 8."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.platforms.adapter import Adapter


def build_adapter(settings: Settings) -> Adapter:
    raise SystemExit("modbot: the Discord adapter is not in this build yet; use `modbot chat` meanwhile")
