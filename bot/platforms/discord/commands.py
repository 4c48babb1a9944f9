"""The core's command catalogue as Discord application commands, and their sync.

`/modbot` has the catalogue's paths as subcommand groups and subcommands with the same
parameter names, typed for Discord (channel, role, attachment, integer, choices, policy
autocomplete). Commands are written to Discord only when the generated set differs from what
Discord already has (one GET at start, a PUT when it changed): syncing at every start would
run into Discord's rate limit on command updates.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import discord

from bot.core.commands.model import Command, Param, Reply, Table

log = logging.getLogger(__name__)

JSON = dict[str, Any]
ROOT = "modbot"
CHECK_MENU = "Check against policies"
SKIPPED = {("setup", "show")}  # `/modbot setup` without options shows the setup on Discord
SUB_COMMAND, SUB_GROUP, STRING, INTEGER, CHANNEL, ROLE, ATTACHMENT = 1, 2, 3, 4, 7, 8, 11
TEXT_CHANNELS = [0, 5, 15, 10, 11, 12, 2]  # text, news, forum, threads, voice text
KINDS: dict[str, int] = {
    "policy": STRING, "text": STRING, "file": ATTACHMENT, "mode": STRING, "channel": CHANNEL,
    "channels": STRING, "role": ROLE, "version": INTEGER, "days": INTEGER, "limit": INTEGER,
    "case": INTEGER, "status": STRING,
}  # fmt: skip
MODES = ("live", "shadow", "off")


def _option(param: Param) -> JSON:
    option: JSON = {
        "name": param.name,
        "description": param.help[:100] or param.name,
        "type": KINDS[param.kind],
        "required": param.required,
    }
    choices = param.choices or (MODES if param.kind == "mode" else ())
    if choices:
        option["choices"] = [{"name": c, "value": c} for c in choices]
    elif param.kind == "policy":
        option["autocomplete"] = True
    if param.kind == "channel":
        option["channel_types"] = TEXT_CHANNELS
    if KINDS[param.kind] == INTEGER:
        option["min_value"] = 0
    return option


def _subcommand(name: str, command: Command) -> JSON:
    # Discord wants required options before optional ones.
    params = sorted(command.params, key=lambda p: not p.required)
    return {
        "name": name,
        "description": command.help[:100],
        "type": SUB_COMMAND,
        "options": [_option(p) for p in params],
    }


def command_payload(commands: Iterable[Command]) -> list[JSON]:
    """The application commands for the catalogue: `/modbot ...` and the message menu."""
    groups: dict[str, JSON] = {}
    options: list[JSON] = []
    for command in commands:
        if command.path in SKIPPED:
            continue
        if len(command.path) == 1:
            options.append(_subcommand(command.path[0], command))
            continue
        group = groups.get(command.path[0])
        if group is None:
            group = {"name": command.path[0], "description": f"{command.path[0]} commands", "type": SUB_GROUP,
                     "options": []}  # fmt: skip
            groups[command.path[0]] = group
            options.append(group)
        group["options"].append(_subcommand(command.path[1], command))
    root = {"name": ROOT, "description": "modbot: moderation with your own policies", "type": 1,
            "options": options, "contexts": [0], "integration_types": [0]}  # fmt: skip
    menu = {"name": CHECK_MENU, "type": 3, "contexts": [0], "integration_types": [0]}
    return [root, menu]


def invoked(data: Mapping[str, Any]) -> tuple[tuple[str, ...], dict[str, Any], str]:
    """(path, option values, focused option) of a `/modbot` interaction's nested options.

    An attachment option's value is its id, wrapped in `AttachmentRef` so it is never mistaken
    for text that happens to look like one.
    """
    path: list[str] = []
    options = list(data.get("options") or [])
    while options and options[0].get("type") in (SUB_COMMAND, SUB_GROUP):
        path.append(options[0]["name"])
        options = list(options[0].get("options") or [])
    values = {
        o["name"]: AttachmentRef(str(o.get("value"))) if o.get("type") == ATTACHMENT else o.get("value")
        for o in options
    }
    focused = next((o["name"] for o in options if o.get("focused")), "")
    return tuple(path), values, focused


def as_discord_help(reply: Reply) -> Reply:
    """`help` names `setup show`, which is `/modbot setup` without options on Discord."""
    if reply.table is None:
        return reply
    rows = tuple(
        (f"setup{row[0].removeprefix('setup show')} (no options: show)", *row[1:])
        if row[0].startswith("setup show")
        else row
        for row in reply.table.rows
    )
    return replace(reply, table=Table(reply.table.headers, rows))


@dataclass(frozen=True, slots=True)
class AttachmentRef:
    id: str


def _normal(value: Any) -> Any:
    """Compare as Discord stores it: ids and defaults (False, empty) dropped, keys we send kept."""
    if isinstance(value, list):
        return [_normal(v) for v in value]
    if isinstance(value, dict):
        drop = {"id", "application_id", "version", "guild_id", "default_member_permissions", "dm_permission",
                "nsfw", "name_localizations", "description_localizations"}  # fmt: skip
        return {
            k: _normal(v)
            for k, v in sorted(value.items())
            if k not in drop and v not in (False, None, [], "")
        }
    return value


async def sync_commands(client: discord.Client, payload: list[JSON]) -> bool:
    """Write the commands if Discord's differ. Returns True when they were written."""
    app_id = client.application_id
    if app_id is None:
        raise RuntimeError("the application id is unknown before login")
    current = await client.http.get_global_commands(app_id)

    def ordered(commands: list[Any]) -> list[Any]:
        return sorted((_normal(c) for c in commands), key=lambda c: (c.get("type", 1), c["name"]))

    if ordered(list(current)) == ordered(payload):
        log.info("Discord commands are up to date")
        return False
    await client.http.bulk_upsert_global_commands(app_id, payload)
    log.info("Discord commands synced (%d)", len(payload))
    return True
