"""The Slack adapter (slack-bolt): Socket Mode or signed HTTP, Block Kit cards, /modbot, App Home.

`build_adapter` is what `modbot run` calls when SLACK_BOT_TOKEN is set; the listeners are
wired to the core in `connection.SlackAdapter.serving`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.platforms.adapter import Adapter


def build_adapter(settings: Settings) -> Adapter:
    from bot.platforms.slack.connection import SlackAdapter

    return SlackAdapter(settings)


__all__ = ["build_adapter"]
