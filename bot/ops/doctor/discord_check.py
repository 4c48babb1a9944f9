"""Discord over plain REST: the token, the message content intent, the bot's permissions."""

from __future__ import annotations

from typing import Any

import httpx

from bot.config import Settings
from bot.ops.doctor.result import Check, fail, ok, skip
from bot.store import Space

INTENT_FLAGS = (1 << 18) | (1 << 19)  # GATEWAY_MESSAGE_CONTENT, GATEWAY_MESSAGE_CONTENT_LIMITED
ADMINISTRATOR = 1 << 3
# What a flag card needs in the mod channel, and what moderators' buttons need server-wide.
CHANNEL_NEEDS = {
    "View Channel": 1 << 10,
    "Send Messages": 1 << 11,
    "Embed Links": 1 << 14,
    "Read Message History": 1 << 16,
}
SERVER_NEEDS = {"Manage Messages": 1 << 13, "Moderate Members": 1 << 40}
ALL = (1 << 64) - 1


def channel_permissions(
    guild: dict[str, Any], roles: list[dict[str, Any]], member: dict[str, Any], channel: dict[str, Any]
) -> int:
    """Discord's documented algorithm: @everyone, the member's roles, then channel overwrites."""
    user_id = str(member.get("user", {}).get("id", ""))
    if str(guild.get("owner_id")) == user_id:
        return ALL
    by_id = {str(r["id"]): int(r.get("permissions", 0)) for r in roles}
    guild_id = str(guild["id"])
    member_roles = [str(r) for r in member.get("roles", [])]
    perms = by_id.get(guild_id, 0)
    for role in member_roles:
        perms |= by_id.get(role, 0)
    if perms & ADMINISTRATOR:
        return ALL
    overwrites = {str(o["id"]): o for o in channel.get("permission_overwrites", [])}

    def apply(allow: int, deny: int) -> None:
        nonlocal perms
        perms = (perms & ~deny) | allow

    if everyone := overwrites.get(guild_id):
        apply(int(everyone.get("allow", 0)), int(everyone.get("deny", 0)))
    allow = deny = 0
    for role in member_roles:
        if o := overwrites.get(role):
            allow |= int(o.get("allow", 0))
            deny |= int(o.get("deny", 0))
    apply(allow, deny)
    if o := overwrites.get(user_id):
        apply(int(o.get("allow", 0)), int(o.get("deny", 0)))
    return perms


async def check_discord(settings: Settings, spaces: list[Space]) -> list[Check]:
    token = settings.discord_token.get_secret_value()
    if not token:
        return [skip("discord", "DISCORD_TOKEN not set")]
    base = settings.discord_api_base_url.rstrip("/")
    headers = {"Authorization": f"Bot {token}", "User-Agent": "DiscordBot (modbot doctor, 1)"}
    timeout = httpx.Timeout(10.0, connect=5.0)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=timeout, trust_env=False) as http:
        try:
            me = await http.get("/users/@me")
        except httpx.HTTPError as exc:
            return [
                fail(
                    "discord.token",
                    f"cannot reach {base}: {exc}",
                    "check the network or DISCORD_API_BASE_URL",
                )
            ]
        if me.status_code == 401:
            return [
                fail(
                    "discord.token",
                    "Discord refused the token (401)",
                    "reset the token on the Developer Portal's Bot page and set DISCORD_TOKEN",
                )
            ]
        me.raise_for_status()
        user = me.json()
        checks = [ok("discord.token", f"valid: logged in as {user.get('username')} ({user.get('id')})")]
        app = (await http.get("/applications/@me")).raise_for_status().json()
        if int(app.get("flags") or 0) & INTENT_FLAGS:
            checks.append(ok("discord.intent", "message content intent is on"))
        else:
            checks.append(
                fail(
                    "discord.intent",
                    "the message content intent is off: the bot would see empty messages",
                    "Developer Portal -> your app -> Bot -> turn on MESSAGE CONTENT INTENT",
                )
            )
        mine = [s for s in spaces if s.platform == "discord" and s.mod_channel_id]
        if not mine:
            checks.append(skip("discord.permissions", "no server has a mod channel set up yet"))
        for space in mine:
            checks.append(await _permissions(http, space, str(user.get("id"))))
    return checks


async def _permissions(http: httpx.AsyncClient, space: Space, bot_id: str) -> Check:
    name = f"discord.permissions[{space.name or space.id}]"
    guild_resp = await http.get(f"/guilds/{space.id}")
    if guild_resp.status_code in (403, 404):
        return fail(name, f"the bot is not in server {space.id}", "invite the bot again with its OAuth2 URL")
    guild = guild_resp.raise_for_status().json()
    roles = (await http.get(f"/guilds/{space.id}/roles")).raise_for_status().json()
    member = (await http.get(f"/guilds/{space.id}/members/{bot_id}")).raise_for_status().json()
    channel_resp = await http.get(f"/channels/{space.mod_channel_id}")
    if channel_resp.status_code in (403, 404):
        return fail(
            name,
            f"cannot see mod channel {space.mod_channel_id}",
            "give the bot's role View Channel there, or set up the mod channel again",
        )
    channel = channel_resp.raise_for_status().json()
    in_channel = channel_permissions(guild, roles, member, channel)
    in_server = channel_permissions(guild, roles, member, {})
    in_mod_channel = [n for n, bit in CHANNEL_NEEDS.items() if not in_channel & bit]
    server_wide = [n for n, bit in SERVER_NEEDS.items() if not in_server & bit]
    where = f"#{channel.get('name', space.mod_channel_id)}"
    if not in_mod_channel and not server_wide:
        return ok(name, f"can post flag cards in {where}, delete messages and time out members")
    fixes = []
    if in_mod_channel:
        fixes.append(
            f"{where} -> Edit Channel -> Permissions -> the bot's role: allow {', '.join(in_mod_channel)}"
        )
    if server_wide:
        fixes.append(f"Server Settings -> Roles -> the bot's role: allow {', '.join(server_wide)}")
    missing = [*(f"{n} in {where}" for n in in_mod_channel), *(f"{n} server-wide" for n in server_wide)]
    return fail(name, f"missing {', '.join(missing)}", "; ".join(fixes))
