"""Discord's JSON shapes for the fake: users, members, guilds, messages, interactions.

Only what discord.py reads is filled in; shapes follow Discord's OpenAPI spec (v10). The ids
are fixed small snowflakes so a test can name them.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

JSON = dict[str, Any]

# Permission bits (Discord's documented values).
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
READ_MESSAGE_HISTORY = 1 << 16
MANAGE_GUILD = 1 << 5
MODERATE_MEMBERS = 1 << 40
BOT_PERMISSIONS = (
    VIEW_CHANNEL | SEND_MESSAGES | MANAGE_MESSAGES | EMBED_LINKS | READ_MESSAGE_HISTORY | MODERATE_MEMBERS
)
MEMBER_PERMISSIONS = VIEW_CHANNEL | SEND_MESSAGES | READ_MESSAGE_HISTORY


def now_iso() -> str:
    return datetime.now(UTC).isoformat()


@dataclass
class FakeUser:
    id: str
    name: str
    permissions: int = MEMBER_PERMISSIONS  # what the member's roles grant in the guild
    bot: bool = False
    roles: list[str] = field(default_factory=list)
    channel_only: bool = False  # the extra permissions come from one channel's overwrite, not a role

    def user(self) -> JSON:
        data: JSON = {
            "id": self.id, "username": self.name, "discriminator": "0", "avatar": None,
            "global_name": self.name, "public_flags": 0,
        }  # fmt: skip
        if self.bot:
            data["bot"] = True
        return data

    @property
    def grant_role(self) -> str | None:
        """A role of the member's own that grants what @everyone does not (guild-wide permissions
        come from roles, as on Discord)."""
        elevated = self.permissions & ~MEMBER_PERMISSIONS and not self.channel_only
        return str(int(self.id) + 5000) if elevated else None

    def member(self, *, with_user: bool = True, permissions: bool = False) -> JSON:
        grant = [self.grant_role] if self.grant_role else []
        data: JSON = {
            "roles": [*self.roles, *grant], "joined_at": "2024-01-01T00:00:00+00:00", "deaf": False,
            "mute": False, "flags": 0, "nick": None, "avatar": None, "pending": False,
        }  # fmt: skip
        if with_user:
            data["user"] = self.user()
        if permissions:
            data["permissions"] = str(self.permissions)
        return data


@dataclass
class FakeGuild:
    id: str
    name: str
    owner_id: str
    channels: dict[str, str]  # id -> name (text channels)
    members: dict[str, FakeUser]
    bot_role: str = ""
    bot_permissions: int = BOT_PERMISSIONS

    def payload(self) -> JSON:
        roles = [_role(self.id, "@everyone", MEMBER_PERMISSIONS, 0)]
        if self.bot_role:
            roles.append(_role(self.bot_role, "modbot", self.bot_permissions, 1))
        roles += [
            _role(m.grant_role, f"{m.name}'s role", m.permissions, 2)
            for m in self.members.values()
            if m.grant_role and not m.bot
        ]
        channels: list[dict[str, Any]] = [
            {
                "id": cid, "type": 0, "name": name, "position": n, "permission_overwrites": [],
                "guild_id": self.id, "parent_id": None, "nsfw": False, "topic": None,
                "rate_limit_per_user": 0, "last_message_id": None,
            }
            for n, (cid, name) in enumerate(self.channels.items())
        ]  # fmt: skip
        return {
            "id": self.id, "name": self.name, "icon": None, "owner_id": self.owner_id,
            "roles": roles, "channels": channels, "threads": [],
            "members": [m.member() for m in self.members.values()],
            "member_count": len(self.members), "emojis": [], "stickers": [], "features": [],
            "unavailable": False, "large": False, "voice_states": [], "presences": [],
            "stage_instances": [], "guild_scheduled_events": [], "soundboard_sounds": [],
            "premium_tier": 0, "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "mfa_level": 0, "system_channel_flags": 0,
            "preferred_locale": "en-US", "nsfw_level": 0, "afk_timeout": 300,
            "joined_at": "2024-01-01T00:00:00+00:00",
        }  # fmt: skip


def _role(role_id: str, name: str, permissions: int, position: int) -> JSON:
    return {
        "id": role_id, "name": name, "permissions": str(permissions), "position": position,
        "color": 0, "hoist": False, "managed": False, "mentionable": False, "flags": 0,
    }  # fmt: skip


def message(
    message_id: str, channel_id: str, author: FakeUser, content: str, *, guild_id: str | None = None,
    nonce: str | None = None, embeds: list[JSON] | None = None, components: list[JSON] | None = None,
) -> JSON:  # fmt: skip
    data: JSON = {
        "id": message_id, "channel_id": channel_id, "author": author.user(), "content": content,
        "timestamp": now_iso(), "edited_timestamp": None, "tts": False, "mention_everyone": False,
        "mentions": [], "mention_roles": [], "attachments": [], "embeds": embeds or [],
        "pinned": False, "type": 0, "components": components or [], "flags": 0,
    }  # fmt: skip
    if guild_id:
        data["guild_id"] = guild_id
        data["member"] = author.member(with_user=False)
    if nonce is not None:
        data["nonce"] = nonce
    return data


class Snowflakes:
    """Increasing ids, so newer objects sort after older ones like real snowflakes."""

    def __init__(self, start: int = 10_000) -> None:
        self._next = itertools.count(start)

    def __call__(self) -> str:
        return str(next(self._next))


def interaction_message(data: JSON, interaction: JSON) -> JSON:
    author = {"id": interaction["application_id"], "username": "modbot", "discriminator": "0",
              "avatar": None, "bot": True}  # fmt: skip
    base: dict[str, Any] = {
        "channel_id": interaction.get("channel_id"), "author": author, "content": "",
        "timestamp": now_iso(), "edited_timestamp": None, "tts": False, "mention_everyone": False,
        "mentions": [], "mention_roles": [], "attachments": [], "embeds": [], "pinned": False,
        "type": 19, "components": [], "flags": 0,
    }  # fmt: skip
    return {**base, **{k: v for k, v in data.items() if k != "attachments"}}


async def read_body(request: web.Request) -> Any:
    """JSON, or multipart/form-data with a `payload_json` part (a message with files)."""
    if request.content_type.startswith("multipart/"):
        body: JSON = {}
        files: list[JSON] = []
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":
                body.update(json.loads(await part.text()))
            else:
                raw = await part.read()
                files.append({"name": part.filename, "text": raw.decode("utf-8", "replace")})
        body["_files"] = files
        return body
    text = await request.text()
    return json.loads(text) if text else None
