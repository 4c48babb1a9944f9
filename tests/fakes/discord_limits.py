"""What real Discord refuses with a 400: oversize messages, embeds, components, nonces, modals.

The fake checks every message body it is sent against these limits (from Discord's docs), so a
card that would bounce on Discord bounces in the tests too.
"""

from __future__ import annotations

import re
from typing import Any

JSON = dict[str, Any]


def message_problems(body: JSON) -> list[str]:
    problems: list[str] = []
    if len(body.get("content") or "") > 2000:
        problems.append("content: must be 2000 or fewer in length")
    nonce = body.get("nonce")
    if nonce is not None and len(str(nonce)) > 25:
        problems.append("nonce: must be 25 or fewer in length")
    embeds = body.get("embeds") or []
    if len(embeds) > 10:
        problems.append("embeds: at most 10")
    total = 0
    for embed in embeds:
        total += _embed_problems(embed, problems)
    if total > 6000:
        problems.append("embeds: total length over 6000")
    problems += component_problems(body.get("components") or [])
    return problems


def _embed_problems(embed: JSON, problems: list[str]) -> int:
    limits = {"title": 256, "description": 4096}
    size = 0
    for key, limit in limits.items():
        value = embed.get(key) or ""
        size += len(value)
        if len(value) > limit:
            problems.append(f"embed.{key}: must be {limit} or fewer in length")
    fields = embed.get("fields") or []
    if len(fields) > 25:
        problems.append("embed.fields: at most 25")
    for f in fields:
        size += len(f.get("name", "")) + len(f.get("value", ""))
        if not f.get("name") or not f.get("value"):
            problems.append("embed.fields: name and value are required")
        if len(f.get("name", "")) > 256 or len(f.get("value", "")) > 1024:
            problems.append("embed.fields: name over 256 or value over 1024")
    footer = (embed.get("footer") or {}).get("text", "")
    size += len(footer)
    if len(footer) > 2048:
        problems.append("embed.footer: must be 2048 or fewer in length")
    return size


def component_problems(rows: list[JSON]) -> list[str]:
    problems: list[str] = []
    if len(rows) > 5:
        problems.append("components: at most 5 action rows")
    for row in rows:
        children = row.get("components") or []
        if len(children) > 5:
            problems.append("components: at most 5 buttons in a row")
        for c in children:
            custom_id = c.get("custom_id")
            if c.get("style") != 5 and c.get("type") == 2 and not custom_id:
                problems.append("components: a button needs a custom_id")
            if custom_id and len(custom_id) > 100:
                problems.append("components: custom_id over 100")
            if len(c.get("label") or "") > 80:
                problems.append("components: label over 80")
    return problems


def modal_problems(data: JSON) -> list[str]:
    problems: list[str] = []
    if not data.get("custom_id") or len(data["custom_id"]) > 100:
        problems.append("modal: custom_id required, at most 100")
    if len(data.get("title") or "") > 45:
        problems.append("modal: title over 45")
    rows = data.get("components") or []
    if not 1 <= len(rows) <= 5:
        problems.append("modal: 1 to 5 components")
    for row in rows:
        for c in _inputs(row):
            if len(c.get("label") or "") > 45:
                problems.append("modal: label over 45")
            if len(c.get("value") or "") > 4000:
                problems.append("modal: value over 4000")
    return problems


def _inputs(row: JSON) -> list[JSON]:
    if row.get("type") == 18:  # a label wrapping one component (newer modals)
        inner = row.get("component")
        return [dict(inner, label=row.get("label"))] if inner else []
    return list(row.get("components") or [])


NAME = re.compile(r"^[-_\w]{1,32}$")


def command_problems(commands: list[JSON]) -> list[str]:
    """Application commands: names, descriptions, option counts, required options first."""
    problems: list[str] = []
    if len(commands) > 100:
        problems.append("commands: at most 100")
    for command in commands:
        if command.get("type", 1) == 1:
            problems += _options_problems(command)
        elif not 1 <= len(command.get("name", "")) <= 32 or command.get("description"):
            problems.append(f"{command.get('name')}: a menu has a name of 1-32 and no description")
    return problems


def _options_problems(node: JSON) -> list[str]:
    problems: list[str] = []
    name = node.get("name", "")
    if not NAME.match(name) or name != name.lower():
        problems.append(f"{name!r}: names are 1-32 lowercase letters, digits, - or _")
    if not 1 <= len(node.get("description", "")) <= 100:
        problems.append(f"{name}: description must be 1-100 characters")
    options = node.get("options") or []
    if len(options) > 25:
        problems.append(f"{name}: at most 25 options")
    seen_optional = False
    for option in options:
        if option.get("type") in (1, 2):
            problems += _options_problems(option)
            continue
        problems += _options_problems({k: v for k, v in option.items() if k != "options"})
        if option.get("required"):
            if seen_optional:
                problems.append(f"{name}: required options must come before optional ones")
        else:
            seen_optional = True
        if option.get("autocomplete") and option.get("choices"):
            problems.append(f"{option.get('name')}: autocomplete and choices cannot be combined")
        if len(option.get("choices") or []) > 25:
            problems.append(f"{option.get('name')}: at most 25 choices")
    return problems
