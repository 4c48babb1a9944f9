"""The core's views in Block Kit: flag cards, member DMs, command replies, modals, App Home.

Built with slack_sdk's block models, so a malformed block fails here, not at Slack. Text
that came from members or the model is escaped before it enters mrkdwn, so a message
cannot forge a mention (`<!channel>`) or a link on the moderators' card.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.core.commands.model import Reply
from bot.core.views import FlagView, MemberNotice

SECTION_MAX = 3000  # Slack's limit for a section's text
FIELD_MAX = 2000
MAX_BLOCKS = 50
INPUT_MAX = 3000  # a plain_text_input holds at most 3000 characters
YAML_PARTS = 8  # a policy of up to 24,000 characters fits a modal
ACTION_PREFIX = "modbot."

ICONS = {"open": "🚩", "escalating": "⏳", "removed": "🗑", "dismissed": "✔", "timed_out": "⏱",
         "upheld": "⚖", "overturned": "↩"}  # fmt: skip
LABELS = {"remove": "Remove", "dismiss": "Dismiss", "escalate": "Escalate", "add_example": "Add as example",
          "show_reasoning": "Show reasoning", "uphold": "Uphold", "overturn": "Overturn"}  # fmt: skip
STYLES = {"remove": "danger", "uphold": "primary", "overturn": "danger"}


def escape(text: str) -> str:
    """Slack's three control characters, so untrusted text stays text."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _md(text: str, limit: int = SECTION_MAX) -> MarkdownTextObject:
    return MarkdownTextObject(text=clip(text, limit))


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=_md(text))


def as_dicts(blocks: Iterable[Block]) -> list[dict[str, Any]]:
    return [b.to_dict() for b in blocks][:MAX_BLOCKS]


# -- flag cards ------------------------------------------------------------------------------


def _button(name: str, view: FlagView) -> ButtonElement | None:
    if name not in LABELS:
        return None  # e.g. timeout, which Slack does not offer
    target = view.appeal_id if name in ("uphold", "overturn") else view.case_id
    confirm = None
    if name == "remove":
        confirm = ConfirmObject(
            title="Remove the message?", text="The member is told and may appeal once.",
            confirm="Remove", deny="Cancel",
        )  # fmt: skip
    return ButtonElement(
        text=LABELS[name], action_id=f"{ACTION_PREFIX}{name}", value=str(target),
        style=STYLES.get(name), confirm=confirm,
    )  # fmt: skip


def flag_text(view: FlagView) -> str:
    """The notification text of a card (and what screen readers say)."""
    return f"{ICONS.get(view.status, '🚩')} case #{view.case_id}: {view.policy_title} ({view.status_label})"


def flag_blocks(view: FlagView, permalink: str = "") -> list[dict[str, Any]]:
    shadow = " (shadow)" if view.shadow else ""
    blocks: list[Block] = [
        HeaderBlock(text=clip(f"{ICONS.get(view.status, '🚩')} {view.policy_title}{shadow}", 150)),
        SectionBlock(
            text=_md(
                f"*Case #{view.case_id}* · {view.status_label} · <@{view.author_id}> in <#{view.channel_id}>"
            ),
            fields=[
                _md(f"*Policy*\n{escape(view.policy_id)}", FIELD_MAX),
                _md(f"*Rules*\n{escape(view.rules)}", FIELD_MAX),
                _md(f"*Confidence*\n{view.confidence}", FIELD_MAX),
                _md(f"*Tier*\n{view.tier}", FIELD_MAX),
            ],
        ),
        _section("> " + escape(view.excerpt).replace("\n", "\n> ")),
        _section(f"*Why:* {escape(view.rationale) or '(no rationale)'}"),
    ]
    if view.moderator_note:
        blocks.append(_section(f"*Note for moderators:* {escape(view.moderator_note.strip())}"))
    if view.second_opinion:
        blocks.append(_section(f"*Second opinion:* {escape(view.second_opinion)}"))
    if view.appeal_statement:
        status = f" ({view.appeal_status})" if view.appeal_status else ""
        blocks.append(_section(f"*Appeal by the author{status}:* “{escape(view.appeal_statement)}”"))
    context = [f"<{permalink}|Open the message>" if permalink else f"message {view.message_id}"]
    if view.decided_by:
        who = "modbot" if view.decided_by == "modbot" else f"<@{view.decided_by}>"  # automatic actions
        context.append(f"{view.status_label} by {who}")
    if view.notice:
        context.append(escape(view.notice))
    blocks.append(ContextBlock(elements=[_md(" · ".join(context))]))
    buttons = [b for b in (_button(name, view) for name in view.buttons) if b is not None]
    if buttons:
        blocks.append(ActionsBlock(block_id=f"case-{view.case_id}", elements=buttons))
    return as_dicts(blocks)


# -- member notices --------------------------------------------------------------------------


def notice_blocks(notice: MemberNotice) -> list[dict[str, Any]]:
    blocks: list[Block] = [_section(escape(notice.text))]
    fields = []
    if notice.rule:
        fields.append(_md(f"*Rule*\n{escape(notice.rule)}", FIELD_MAX))
    if notice.action:
        fields.append(_md(f"*What happened*\n{escape(notice.action)}", FIELD_MAX))
    if fields:
        blocks.append(SectionBlock(fields=fields))
    if notice.can_appeal:
        blocks.append(
            ActionsBlock(
                block_id=f"appeal-{notice.case_id}",
                elements=[
                    ButtonElement(
                        text="Appeal", action_id=f"{ACTION_PREFIX}appeal", value=str(notice.case_id)
                    )
                ],
            )
        )
    return as_dicts(blocks)


def appeal_modal(case_id: int, space_id: str) -> dict[str, Any]:
    return View(
        type="modal", callback_id=f"{ACTION_PREFIX}appeal", title="Appeal", submit="Send", close="Cancel",
        private_metadata=json.dumps({"case": case_id, "space": space_id}),
        blocks=[
            _section(f"Tell the moderators why the decision on case #{case_id} was wrong (once only)."),
            InputBlock(
                block_id="statement", label="Your appeal",
                element=PlainTextInputElement(action_id="statement", multiline=True, max_length=1000),
            ),
        ],
    ).to_dict()  # fmt: skip


def done_modal(title: str, text: str) -> dict[str, Any]:
    return View(type="modal", title=clip(title, 24), close="Close", blocks=[_section(escape(text))]).to_dict()


# -- policy YAML in a modal ------------------------------------------------------------------


def split_text(text: str, size: int = INPUT_MAX) -> list[str]:
    """Text cut into pieces of at most `size` characters, at line ends where possible."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > size:
            if current:
                parts.append(current)
                current = ""
            parts.append(line[:size])
            line = line[size:]
        if len(current) + len(line) > size:
            parts.append(current)
            current = ""
        current += line
    if current:
        parts.append(current)
    return parts


def yaml_modal(title: str, yaml_text: str, metadata: dict[str, str]) -> dict[str, Any]:
    """A modal with the policy's YAML in text areas (Slack caps one at 3000 characters)."""
    parts = split_text(yaml_text)[:YAML_PARTS]
    parts += [""] * (min(YAML_PARTS, max(2, len(parts) + 1)) - len(parts))
    blocks: list[Block] = [
        _section("Paste or edit the policy's YAML. A long policy continues in the next box; "
                 "the version in force keeps running until this one is valid."),
    ]  # fmt: skip
    for n, part in enumerate(parts, start=1):
        blocks.append(
            InputBlock(
                block_id=f"yaml-{n}", label="Policy YAML" if n == 1 else f"continued ({n})", optional=n > 1,
                element=PlainTextInputElement(
                    action_id="yaml", multiline=True, max_length=INPUT_MAX, initial_value=part or None
                ),
            )
        )  # fmt: skip
    return View(
        type="modal", callback_id=f"{ACTION_PREFIX}policy_upload", title=clip(title, 24), submit="Save",
        close="Cancel", private_metadata=json.dumps(metadata), blocks=blocks,
    ).to_dict()  # fmt: skip


def yaml_from_state(values: dict[str, Any]) -> str:
    """The text areas of `yaml_modal`, joined back in order."""
    parts = []
    for n in range(1, YAML_PARTS + 1):
        value = values.get(f"yaml-{n}", {}).get("yaml", {}).get("value")
        if value:
            parts.append(value)
    return "".join(parts)


# -- command replies and App Home ------------------------------------------------------------


def _code(text: str) -> list[Block]:
    """A preformatted text in as many sections as it needs."""
    return [_section(f"```{chunk}```") for chunk in split_text(text, SECTION_MAX - 8) if chunk.strip()]


def reply_blocks(reply: Reply) -> list[Block]:
    mark = "" if reply.ok else "⚠ "
    blocks: list[Block] = [_section(f"*{mark}{reply.title}*")]
    if reply.fields:
        fields = [_md(f"*{name}*\n{value}", FIELD_MAX) for name, value in reply.fields[:10]]
        blocks.append(SectionBlock(fields=fields))
    if reply.lines:
        text = "\n".join(reply.lines)
        blocks += [_section(chunk) for chunk in split_text(text, SECTION_MAX)]
    if reply.table is not None:
        blocks += _code(reply.table.as_text())
    if reply.file is not None:
        blocks.append(ContextBlock(elements=[_md(f"`{reply.file.name}`")]))
        blocks += _code(reply.file.text)
    return blocks


def reply_message(reply: Reply) -> dict[str, Any]:
    """`text` and `blocks` of a message that shows a reply (ack body, response_url, ephemeral)."""
    blocks = reply_blocks(reply)
    if len(blocks) > MAX_BLOCKS:
        blocks = [*blocks[: MAX_BLOCKS - 1], _section("… (cut: the rest did not fit in one Slack message)")]
    return {"text": clip(reply.as_text(), SECTION_MAX), "blocks": as_dicts(blocks)}


def home_view(replies: Sequence[Reply]) -> dict[str, Any]:
    blocks: list[Block] = [
        HeaderBlock(text="modbot"),
        _section("Policies, their modes and the last 7 days. `/modbot help` lists what you can run."),
    ]
    for reply in replies:
        blocks.append(DividerBlock())
        blocks += reply_blocks(reply)
    if len(blocks) > 100:  # Home tabs take 100 blocks
        blocks = blocks[:100]
    return View(type="home", blocks=blocks).to_dict()
