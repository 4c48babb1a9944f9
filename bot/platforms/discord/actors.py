"""Discord users as the core's `Actor`: facts only (permissions, roles), never a decision.

Admin facts are Manage Server or Administrator; the moderator fact is Manage Messages, both
server-wide (a channel's own overwrites do not count). The core's gate
turns these facts (and the space's moderator role) into a role.
"""

from __future__ import annotations

from typing import Any

import discord

from bot.core.ports import Actor


def actor_of(interaction: discord.Interaction[Any]) -> Actor:
    user = interaction.user
    space = str(interaction.guild_id) if interaction.guild_id else ""
    if not isinstance(user, discord.Member) or not space:
        return Actor(str(user.id), user.display_name if user else "")  # a DM: no server facts
    # Server-wide permissions: Manage Messages granted in one channel only must not make someone
    # a moderator of the whole server (interaction.permissions include channel overwrites).
    perms = user.guild_permissions if interaction.guild is not None else interaction.permissions
    return Actor(
        user_id=str(user.id),
        name=user.display_name,
        is_moderator=perms.manage_messages,
        is_admin=perms.administrator or perms.manage_guild,
        space_id=space,
        roles=frozenset(str(role_id) for role_id in user._roles),  # ids, even of uncached roles
    )
