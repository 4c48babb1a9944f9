"""The Discord adapter (discord.py): `modbot run` builds it when DISCORD_TOKEN is set.

Files: connection (client, adapter), intake (messages -> core), actors (users -> Actor
facts), port (the core's Platform), cards (views -> embeds), buttons (restart-safe
DynamicItems), interactions (commands, buttons, modals -> core), commands (catalogue ->
application commands and their sync).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.platforms.discord.connection import DiscordAdapter


def build_adapter(settings: Settings) -> DiscordAdapter:
    from bot.platforms.discord.connection import DiscordAdapter, DiscordSettings

    return DiscordAdapter(
        DiscordSettings(
            token=settings.discord_token.get_secret_value(),
            api_base_url=settings.discord_api_base_url,
            gateway_url=settings.discord_gateway_url,
            shards=settings.discord_shards,
        )
    )


__all__ = ["build_adapter"]
