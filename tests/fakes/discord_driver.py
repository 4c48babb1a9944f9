"""Act as people on the fake Discord: post, edit, delete, run /modbot, click, submit modals.

Each action is a gateway event the bot receives exactly as from Discord; the read helpers
render what a person would see (message text, embed text, button labels, ephemeral replies).
"""

from __future__ import annotations

import secrets
from typing import Any

from tests.fakes.discord_payloads import FakeGuild, FakeUser, message, now_iso
from tests.fakes.discord_server import FakeDiscord, Interaction

JSON = dict[str, Any]
SUBCOMMAND, GROUP = 1, 2


class Driver:
    def __init__(self, fake: FakeDiscord, guild: FakeGuild) -> None:
        self.fake = fake
        self.guild = guild

    # -- members' messages -------------------------------------------------------------------

    async def say(self, user: FakeUser, channel_id: str, text: str) -> str:
        data = message(self.fake.ids(), channel_id, user, text, guild_id=self.guild.id)
        self.fake.messages[data["id"]] = data
        await self.fake.gateway.dispatch("MESSAGE_CREATE", data)
        return str(data["id"])

    async def edit(self, message_id: str, text: str) -> None:
        data = self.fake.messages[message_id]
        data.update(content=text, edited_timestamp=now_iso())
        await self.fake.gateway.dispatch("MESSAGE_UPDATE", dict(data))

    async def delete(self, message_id: str) -> None:
        data = self.fake.messages.pop(message_id)
        await self.fake.gateway.dispatch(
            "MESSAGE_DELETE", {"id": message_id, "channel_id": data["channel_id"], "guild_id": self.guild.id}
        )

    # -- interactions ------------------------------------------------------------------------

    async def interact(
        self, user: FakeUser, kind: int, data: JSON, channel_id: str, **extra: Any
    ) -> Interaction:
        iid, token = self.fake.ids(), secrets.token_hex(8)
        payload: JSON = {
            "id": iid, "application_id": self.fake.app_id, "type": kind, "data": data,
            "guild_id": self.guild.id, "channel_id": channel_id,
            "channel": {"id": channel_id, "type": 0, "guild_id": self.guild.id,
                        "name": self.guild.channels.get(channel_id, "dm"), "position": 0,
                        "permission_overwrites": [], "nsfw": False, "parent_id": None},
            "member": user.member(permissions=True), "token": token, "version": 1,
            "app_permissions": str(self.guild.bot_permissions), "locale": "en-US",
            "guild_locale": "en-US", "entitlements": [], "context": 0,
            "authorizing_integration_owners": {"0": self.guild.id},
            "attachment_size_limit": 26214400, **extra,
        }  # fmt: skip
        found = Interaction(iid, token, payload)
        self.fake.interactions[iid] = found
        await self.fake.gateway.dispatch("INTERACTION_CREATE", payload)
        return found

    async def dm_interact(self, user: FakeUser, kind: int, data: JSON, **extra: Any) -> Interaction:
        """An interaction in the member's DM with the bot (no guild, no member permissions)."""
        channel = self.fake.dm_channels[user.id]
        iid, token = self.fake.ids(), secrets.token_hex(8)
        payload: JSON = {
            "id": iid, "application_id": self.fake.app_id, "type": kind, "data": data,
            "channel_id": channel, "channel": {"id": channel, "type": 1, "recipients": [user.user()]},
            "user": user.user(), "token": token, "version": 1, "app_permissions": "0",
            "locale": "en-US", "entitlements": [], "context": 1,
            "authorizing_integration_owners": {"1": user.id}, "attachment_size_limit": 26214400, **extra,
        }  # fmt: skip
        found = Interaction(iid, token, payload)
        self.fake.interactions[iid] = found
        await self.fake.gateway.dispatch("INTERACTION_CREATE", payload)
        return found

    async def slash(
        self, user: FakeUser, path: str, channel_id: str, resolved: JSON | None = None,
        types: dict[str, int] | None = None, **options: Any,
    ) -> Interaction:  # fmt: skip
        """`/modbot <path> name:value ...` as Discord sends it (nested subcommand options)."""
        names = path.split()
        leaf: JSON = {
            "name": names[-1],
            "type": SUBCOMMAND,
            "options": [_option(k, v, (types or {}).get(k)) for k, v in options.items()],
        }
        if len(names) == 2:
            leaf = {"name": names[0], "type": GROUP, "options": [leaf]}
        data: JSON = {"id": "1", "name": "modbot", "type": 1, "options": [leaf]}
        if resolved:
            data["resolved"] = resolved
        return await self.interact(user, 2, data, channel_id)

    async def upload(self, user: FakeUser, channel_id: str, name: str, text: str) -> Interaction:
        aid = self.fake.ids()
        self.fake.files[aid] = text.encode()
        url = f"{self.fake.url}/attachments/{aid}/{name}"
        attachment = {"id": aid, "filename": name, "size": len(text.encode()), "url": url,
                      "proxy_url": url, "content_type": "application/x-yaml"}  # fmt: skip
        return await self.slash(
            user,
            "policy upload",
            channel_id,
            resolved={"attachments": {aid: attachment}},
            types={"file": 11},
            file=aid,
        )

    async def click(
        self, user: FakeUser, message_id: str, custom_id: str, *, dm: bool = False
    ) -> Interaction:
        msg = self.fake.messages[message_id]
        data = {"custom_id": custom_id, "component_type": 2}
        if dm:
            return await self.dm_interact(user, 3, data, message=msg)
        return await self.interact(user, 3, data, msg["channel_id"], message=msg)

    async def submit(self, user: FakeUser, custom_id: str, values: dict[str, str], *, dm: bool = False,
                     channel_id: str = "") -> Interaction:  # fmt: skip
        rows = [
            {"type": 1, "components": [{"type": 4, "custom_id": k, "value": v}]} for k, v in values.items()
        ]
        data = {"custom_id": custom_id, "components": rows}
        if dm:
            return await self.dm_interact(user, 5, data)
        return await self.interact(user, 5, data, channel_id)

    async def answered(self, found: Interaction, wait_s: float = 10.0) -> str:
        """Wait for the bot's visible answer to an interaction; return its text."""

        def done() -> bool:
            if not found.callbacks:
                return False
            kind = found.callbacks[0].get("type")
            return (
                kind not in (5, 6)
                or bool(found.original or found.followups)
                or (
                    kind == 6
                    and bool(self.fake.calls("PATCH", f"/webhooks/{self.fake.app_id}/{found.token}"))
                )
            )

        await self.fake.wait_for(done, wait_s)
        return reply_text(found)


def _option(name: str, value: Any, kind: int | None = None) -> JSON:
    kind = kind or (4 if isinstance(value, int) else 3)
    return {"name": name, "type": kind, "value": value}


def render(data: JSON) -> str:
    """A message as a person reads it: its text, its embeds, its buttons' labels."""
    out = [data.get("content") or ""]
    for embed in data.get("embeds") or []:
        out += [embed.get("title") or "", embed.get("description") or ""]
        out += [f"{f['name']}: {f['value']}" for f in embed.get("fields") or []]
        out.append((embed.get("footer") or {}).get("text", ""))
    labels = [c.get("label", "") for row in data.get("components") or [] for c in row.get("components", [])]
    if labels:
        out.append("[" + "] [".join(labels) + "]")
    return "\n".join(line for line in out if line)


def buttons(data: JSON) -> dict[str, str]:
    """Button label -> custom id."""
    return {
        c.get("label", ""): c.get("custom_id", "")
        for row in data.get("components") or []
        for c in row.get("components", [])
    }


def reply_text(found: Interaction) -> str:
    parts = [render(c.get("data") or {}) for c in found.callbacks if c.get("type") == 7]
    if found.original:  # a type-4 response, as last edited
        parts.append(render(found.original))
    parts += [render(f) for f in found.followups]
    return "\n".join(p for p in parts if p)


def is_ephemeral(found: Interaction) -> bool:
    flags = [(c.get("data") or {}).get("flags") or 0 for c in found.callbacks]
    flags += [f.get("flags") or 0 for f in found.followups]
    return any(f & 64 for f in flags)
