"""The core's views as Discord messages: flag cards, member DMs, command replies.

Everything a moderator must read is in the embed (it shows on every client, unlike some
component layouts); buttons carry the case or appeal id in their custom id so they keep
working after a restart (`interactions.py`). Texts are cut to Discord's limits here, so a
long rationale or a long error list never makes Discord refuse the whole message.
"""

from __future__ import annotations

import io
from typing import Any

import discord

from bot.core.commands.model import Reply
from bot.core.views import FlagView, MemberNotice
from bot.core.vocab import CardButton
from bot.platforms.discord.buttons import AppealDecisionButton, AppealOpenButton, CaseButton

COLOURS = {"open": 0xE67E22, "escalating": 0x3498DB, "dismissed": 0x95A5A6, "overturned": 0x95A5A6}
TIER_NAMES = {1: "20b", 2: "120b"}
LABELS: dict[CardButton, tuple[str, discord.ButtonStyle]] = {
    "remove": ("Remove", discord.ButtonStyle.danger),
    "dismiss": ("Dismiss", discord.ButtonStyle.secondary),
    "timeout": ("Timeout", discord.ButtonStyle.danger),
    "escalate": ("Escalate", discord.ButtonStyle.primary),
    "add_example": ("Add as example", discord.ButtonStyle.secondary),
    "show_reasoning": ("Show reasoning", discord.ButtonStyle.secondary),
    "uphold": ("Uphold", discord.ButtonStyle.danger),
    "overturn": ("Overturn", discord.ButtonStyle.success),
}
DESCRIPTION_MAX = 4000
RATIONALE_MAX = 1500
FIELD_MAX = 1000
EMBED_TOTAL_MAX = 5900


def cut(text: str, limit: int) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def fit(embed: discord.Embed) -> discord.Embed:
    """Drop trailing fields until the embed is within Discord's 6000 characters."""
    while len(embed) > EMBED_TOTAL_MAX and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed


def jump_link(space_id: str, channel_id: str, message_id: str) -> str:
    return f"https://discord.com/channels/{space_id}/{channel_id}/{message_id}"


def flag_embed(view: FlagView) -> discord.Embed:
    shadow = " (shadow mode)" if view.shadow else ""
    embed = discord.Embed(
        title=cut(f"Case #{view.case_id} · {view.policy_title}{shadow}", 256),
        description=cut(view.rationale or "(no rationale)", RATIONALE_MAX),
        colour=COLOURS.get(view.status, 0xC0392B),
    )
    status = view.status_label
    if view.decided_by:
        status += f" by <@{view.decided_by}>"
    tier = TIER_NAMES.get(view.tier, str(view.tier))
    # Per-field limits keep the whole card under Discord's 6000 characters per message's embeds.
    for name, value, inline, limit in (
        ("Status", status, True, 200),
        ("Policy", f"`{view.policy_id}`", True, 100),
        ("Rules", view.rules, True, 200),
        ("Confidence", view.confidence, True, 20),
        ("Tier", tier, True, 20),
        ("Author", f"<@{view.author_id}> ({view.author_name})", True, 150),
        ("Channel", f"<#{view.channel_id}>", True, 50),
        ("Message", jump_link(view.space_id, view.channel_id, view.message_id), False, 150),
        ("Excerpt", f">>> {view.excerpt}" if view.excerpt else "", False, 600),
        ("Moderator note", view.moderator_note, False, 400),
        ("Appeal", _appeal(view), False, FIELD_MAX),
        ("Second opinion (120b)", view.second_opinion, False, 800),
        ("Note", view.notice, False, 300),
    ):
        if value:
            embed.add_field(name=name, value=cut(value, limit), inline=inline)
    return fit(embed)


def _appeal(view: FlagView) -> str:
    if view.appeal_id is None:
        return ""
    head = f"#{view.appeal_id} ({view.appeal_status or 'pending'})"
    return f"{head}: {view.appeal_statement}" if view.appeal_statement else head


def flag_components(view: FlagView) -> discord.ui.View:
    """The card's buttons. The view is stopped: clicks are routed by custom id, not by this object."""
    out = discord.ui.View(timeout=None)
    for button in view.buttons:
        label, style = LABELS[button]
        if button in ("uphold", "overturn"):
            if view.appeal_id is None:
                continue
            outcome = "upheld" if button == "uphold" else "overturned"
            out.add_item(AppealDecisionButton(view.appeal_id, outcome, label, style))
        else:
            out.add_item(CaseButton(view.case_id, button, label, style))
    out.stop()  # never kept in memory: the DynamicItem templates answer clicks, even after restarts
    return out


NOTICE_TITLES = {
    "removed": "Your message was removed",
    "timed_out": "You were timed out",
    "appeal_upheld": "Your appeal was reviewed: the decision stands",
    "appeal_overturned": "Your appeal was accepted",
}


def notice_message(notice: MemberNotice) -> dict[str, Any]:
    """A member's DM: what happened and which rule, in plain words, and an Appeal button."""
    title = NOTICE_TITLES.get(notice.kind, "A message from the moderators")
    embed = discord.Embed(title=title, description=cut(notice.text, DESCRIPTION_MAX))
    if notice.rule and notice.kind in ("removed", "timed_out"):
        embed.add_field(name="Rule", value=cut(notice.rule, FIELD_MAX), inline=False)
    where = f"{notice.space_name} · " if notice.space_name else ""
    embed.set_footer(text=cut(f"{where}case #{notice.case_id}", 200))
    out: dict[str, Any] = {"embed": fit(embed)}
    if notice.can_appeal:
        view = discord.ui.View(timeout=None)
        view.add_item(AppealOpenButton(notice.case_id))
        view.stop()
        out["view"] = view
    return out


def reply_message(reply: Reply) -> dict[str, Any]:
    """A command's reply: the title and lines as text (errors must be readable without a file)."""
    body = [f"**{reply.title}**" if reply.ok else f"⚠ **{reply.title}**", *reply.lines]
    if reply.table is not None:
        body.append("```\n" + reply.table.as_text() + "\n```")
    embed: discord.Embed | None = None
    if reply.fields:
        embed = discord.Embed()
        for name, value in reply.fields[:25]:
            embed.add_field(name=cut(name, 256) or "-", value=cut(value, FIELD_MAX) or "-", inline=False)
    text = "\n".join(body)
    out: dict[str, Any] = {"content": cut(text, 2000)}
    if embed is not None:
        out["embed"] = fit(embed)
    files = []
    if len(text) > 2000:  # the whole text as a file; the first part stays readable above
        files.append(discord.File(io.BytesIO(text.encode()), filename="reply.txt"))
    if reply.file is not None:
        files.append(discord.File(io.BytesIO(reply.file.text.encode()), filename=reply.file.name))
    if files:
        out["files"] = files
    return out
