"""Who is who in a workspace: Slack users as `Actor` facts, channel names as ids.

Facts only: admin or owner (users.info), member of the mod channel (conversations.members),
user groups (usergroups.list). Membership counts only when the mod channel is private
(conversations.info): anyone can join a public channel, and joining must not make a moderator.
The core turns the facts into a role. Answers are cached for a minute (or until Slack's
events say a group, a channel's members or a user changed), so a burst of clicks costs Slack
one lookup; a failed lookup reports no privilege, and the core then refuses rather than
guessing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.ports import Actor
from bot.platforms.slack.webapi import call

log = logging.getLogger(__name__)

TTL_S = 60.0
NAME_TTL_S = 3600.0
PAGE = 200
MAX_PAGES = 50


@dataclass
class _Cache:
    """Values with an expiry, per key (instance state, never module state)."""

    ttl_s: float = TTL_S
    items: dict[str, tuple[float, Any]] = field(default_factory=dict)

    def get(self, key: str) -> Any | None:
        found = self.items.get(key)
        if found is None or found[0] < time.monotonic():
            return None
        return found[1]

    def put(self, key: str, value: Any) -> None:
        if len(self.items) > 10_000:
            self.items.clear()  # a crude bound; the next lookups refill it
        self.items[key] = (time.monotonic() + self.ttl_s, value)


class Directory:
    def __init__(self, client: AsyncWebClient, mod_channel: Callable[[str], Awaitable[str]]) -> None:
        self._client = client
        self._mod_channel = mod_channel
        self._users = _Cache()
        self._members = _Cache()
        self._groups = _Cache()
        self._channels = _Cache()
        self._private = _Cache()  # channel -> is_private
        self._names = _Cache(ttl_s=NAME_TTL_S)  # display names change rarely; facts above may not
        self._learning: set[str] = set()

    def forget(self, event: dict[str, Any]) -> None:
        """Slack said who joined or left a group or a channel: look again next time."""
        kind = str(event.get("type", ""))
        if kind.startswith("subteam_"):
            self._groups.items.clear()
        elif kind in ("member_joined_channel", "member_left_channel"):
            self._members.items.pop(str(event.get("channel", "")), None)
        elif kind == "user_change":
            self._users.items.pop(str((event.get("user") or {}).get("id", "")), None)

    async def user(self, user_id: str) -> dict[str, Any]:
        cached = self._users.get(user_id)
        if cached is not None:
            return dict(cached)
        got = await call(self._client, "users.info", form=True, user=user_id)
        user = dict(got.data.get("user") or {}) if got.ok else {}
        if got.ok:
            self._users.put(user_id, user)
            self._names.put(user_id, _name(user))
        return user

    def cached_name(self, user_id: str) -> str:
        """The name if known, else "" (intake cannot wait for Slack; `learn_name` fetches it)."""
        return str(self._names.get(user_id) or "")

    def needs_name(self, user_id: str) -> bool:
        return self._names.get(user_id) is None and user_id not in self._learning

    async def learn_name(self, user_id: str) -> None:
        """Look a message author up after the event was acknowledged, for the next messages."""
        self._learning.add(user_id)
        try:
            await self.user(user_id)
        finally:
            self._learning.discard(user_id)

    async def actor(self, user_id: str, space_id: str) -> Actor:
        """The facts about `user_id` in `space_id` that the core needs to decide a role."""
        user = await self.user(user_id)
        mod_channel = await self._mod_channel(space_id) if space_id else ""
        members = await self._moderators(mod_channel) if mod_channel else frozenset()
        return Actor(
            user_id=user_id,
            name=_name(user) or user_id,
            is_admin=bool(user.get("is_admin") or user.get("is_owner") or user.get("is_primary_owner")),
            is_moderator=user_id in members,
            space_id=space_id,
            roles=await self._groups_of(user_id),
        )

    async def _moderators(self, channel: str) -> frozenset[str]:
        """The mod channel's members when it is private; nobody when anyone could join it."""
        if not await self.is_private(channel):
            return frozenset()
        return await self._channel_members(channel)

    async def is_private(self, channel: str) -> bool:
        """Whether only invited people can join `channel` (False when Slack cannot say)."""
        cached = self._private.get(channel)
        if cached is not None:
            return bool(cached)
        got = await call(self._client, "conversations.info", form=True, channel=channel)
        if not got.ok:
            return False  # a failed lookup grants nothing; the next one tries again
        private = bool((got.data.get("channel") or {}).get("is_private"))
        self._private.put(channel, private)
        return private

    async def _channel_members(self, channel: str) -> frozenset[str]:
        cached = self._members.get(channel)
        if cached is not None:
            return frozenset(cached)
        members: set[str] = set()
        cursor = ""
        for _ in range(MAX_PAGES):
            got = await call(self._client, "conversations.members", form=True, channel=channel, limit=PAGE,
                             **({"cursor": cursor} if cursor else {}))  # fmt: skip
            if not got.ok:
                return frozenset()
            members.update(str(m) for m in got.data.get("members") or ())
            cursor = str((got.data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
        self._members.put(channel, frozenset(members))
        return frozenset(members)

    async def _groups_of(self, user_id: str) -> frozenset[str]:
        groups = self._groups.get("all")
        if groups is None:
            got = await call(self._client, "usergroups.list", form=True, include_users=True)
            if not got.ok:
                return frozenset()  # no usergroups:read: the mod channel decides instead
            groups = {
                str(g.get("id")): frozenset(g.get("users") or ()) for g in got.data.get("usergroups") or ()
            }
            self._groups.put("all", groups)
        return frozenset(gid for gid, users in groups.items() if user_id in users)

    async def channel_id(self, name: str) -> str:
        """The id of the channel called `name` (without #), or "" when there is none."""
        wanted = name.lstrip("#").lower()
        ids = self._channels.get("names")
        if ids is None or wanted not in ids:
            ids = await self._channel_names()
        return str(ids.get(wanted, ""))

    async def _channel_names(self) -> dict[str, str]:
        names: dict[str, str] = {}
        cursor = ""
        for _ in range(MAX_PAGES):
            got = await call(
                self._client, "conversations.list", form=True, limit=PAGE, exclude_archived=True,
                types="public_channel,private_channel", **({"cursor": cursor} if cursor else {}),
            )  # fmt: skip
            if not got.ok:
                break
            for channel in got.data.get("channels") or ():
                names[str(channel.get("name", "")).lower()] = str(channel.get("id", ""))
            cursor = str((got.data.get("response_metadata") or {}).get("next_cursor") or "")
            if not cursor:
                break
        self._channels.put("names", names)
        return names


def _name(user: dict[str, Any]) -> str:
    profile = user.get("profile") or {}
    return str(profile.get("display_name") or profile.get("real_name") or user.get("name") or "")
