"""The core's `Platform` port on Discord: post and edit flag cards, delete, time out, DM.

Every call has a timeout and returns a `PlatformResult`; nothing raises to the core. A 403
becomes a plain sentence naming the missing permission (the core audits it and shows it in
`setup show`); a 429 is retried by discord.py within `max_ratelimit_timeout`, longer ones and
server errors come back retryable. A card's nonce is its case id, so a post retried after a
crash or a timeout returns the card Discord already has instead of a second one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord.http import Route, handle_message_parameters

from bot.core.ports import Capabilities, PlatformResult
from bot.core.views import FlagView, MemberNotice
from bot.platforms.discord.cards import flag_components, flag_embed, notice_message

log = logging.getLogger(__name__)

CALL_TIMEOUT_S = 30.0
MAX_TIMEOUT_MINUTES = 28 * 24 * 60  # Discord's longest timeout
NEEDED = {
    "view_channel": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
    "read_message_history": "Read Message History",
}
NEEDED_SERVER = {"manage_messages": "Manage Messages", "moderate_members": "Moderate Members"}


def card_nonce(case_id: int) -> str:
    return f"modbot-case-{case_id}"[:25]  # Discord refuses nonces over 25 characters


class DiscordPort:
    name = "discord"
    capabilities = Capabilities(can_timeout=True, can_delete=True, moderator_fact_always=True)

    def __init__(self, client: discord.Client) -> None:
        self.client = client

    async def _call(self, what: str, forbidden: str, call: Callable[[], Awaitable[str]]) -> PlatformResult:
        if self.client.user is None or self.client.is_closed():
            return PlatformResult(False, error="not connected to Discord yet")
        try:
            async with asyncio.timeout(CALL_TIMEOUT_S):
                return PlatformResult(True, ref=await call())
        except discord.Forbidden:  # a missing permission, or closed DMs (50007): asking again won't help
            return PlatformResult(False, error=forbidden, retryable=False)
        except discord.NotFound as exc:
            return PlatformResult(
                False, error=f"{what}: Discord says {exc.text or 'not found'}", retryable=False
            )
        except discord.RateLimited as exc:
            return PlatformResult(False, error=f"{what}: rate limited for {exc.retry_after:.0f} s")
        except discord.HTTPException as exc:
            retry = exc.status >= 500
            return PlatformResult(
                False, error=f"{what}: Discord answered {exc.status} {exc.text}", retryable=retry
            )
        except (TimeoutError, OSError) as exc:
            return PlatformResult(False, error=f"{what}: {type(exc).__name__}; will retry")

    async def _send(self, channel_id: str, **message: Any) -> str:
        """Send through discord.py's HTTP layer: ids stay strings, nothing is cached."""
        with handle_message_parameters(
            previous_allowed_mentions=self.client.allowed_mentions, **message
        ) as params:
            sent = await self.client.http.send_message(channel_id, params=params)
        return str(sent["id"])

    async def post_flag(self, view: FlagView, mod_channel_id: str) -> PlatformResult:
        async def post() -> str:
            return await self._send(
                mod_channel_id,
                embed=flag_embed(view),
                view=flag_components(view),
                nonce=card_nonce(view.case_id),
            )

        need = (
            f"modbot lacks View Channel, Send Messages or Embed Links in the mod channel <#{mod_channel_id}>"
        )
        return await self._call("posting the flag card", need, post)

    async def update_flag(self, ref: str, view: FlagView, mod_channel_id: str) -> PlatformResult:
        async def edit() -> str:
            with handle_message_parameters(embed=flag_embed(view), view=flag_components(view)) as params:
                await self.client.http.edit_message(mod_channel_id, ref, params=params)
            return ref

        need = f"modbot lacks View Channel or Send Messages in the mod channel <#{mod_channel_id}>"
        return await self._call("updating the flag card", need, edit)

    async def delete_message(self, space_id: str, channel_id: str, message_id: str) -> PlatformResult:
        async def delete() -> str:
            route = Route("DELETE", "/channels/{channel_id}/messages/{message_id}",
                          channel_id=channel_id, message_id=message_id)  # fmt: skip
            with contextlib.suppress(discord.NotFound):  # already gone: the goal is met
                await self.client.http.request(route, reason="modbot case")
            return message_id

        need = f"modbot lacks the Manage Messages permission in <#{channel_id}>"
        return await self._call("deleting the message", need, delete)

    async def timeout_member(self, space_id: str, user_id: str, minutes: int, reason: str) -> PlatformResult:
        until = discord.utils.utcnow() + datetime.timedelta(minutes=min(minutes, MAX_TIMEOUT_MINUTES))

        async def timeout() -> str:
            await self.client.http.edit_member(
                space_id,
                user_id,
                reason=reason[:512],
                communication_disabled_until=until.isoformat(),
            )
            return user_id

        need = (
            "modbot lacks the Moderate Members permission (or its role is below the member's) "
            f"to time out <@{user_id}>"
        )
        return await self._call("timing out the member", need, timeout)

    async def dm(self, notice: MemberNotice) -> PlatformResult:
        async def send() -> str:
            channel = await self.client.http.start_private_message(notice.user_id)
            return await self._send(str(channel["id"]), **notice_message(notice))

        closed = f"<@{notice.user_id}> does not accept direct messages from this server; they were not told"
        return await self._call("sending the direct message", closed, send)

    async def check_setup(self, space_id: str, mod_channel_id: str) -> list[str]:
        guild = self.client.get_guild(int(space_id)) if space_id.isdigit() else None
        if guild is None or guild.me is None:
            return ["modbot does not see this server yet (is it invited, and connected?)"]
        missing = [
            label for attr, label in NEEDED_SERVER.items() if not getattr(guild.me.guild_permissions, attr)
        ]
        channel = guild.get_channel(int(mod_channel_id)) if mod_channel_id.isdigit() else None
        if mod_channel_id and channel is None:
            return [f"modbot cannot see the mod channel <#{mod_channel_id}>: give it View Channel there"]
        if channel is not None:
            perms = channel.permissions_for(guild.me)
            missing = [label for attr, label in NEEDED.items() if not getattr(perms, attr)] + missing
        if not missing:
            return []
        return [f"modbot lacks these permissions: {', '.join(missing)} (server settings → Roles → modbot)"]
