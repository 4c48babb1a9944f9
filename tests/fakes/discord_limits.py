"""What real Discord refuses with a 400: oversize messages, embeds, components, nonces, modals.

The fake checks every message body it is sent against these limits (from Discord's docs), so a
card that would bounce on Discord bounces in the tests too.
"""

from __future__ import annotations

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
