"""`/modbot ...`: the core's command catalogue as text, answered to the caller only.

`/modbot policy enable game-cheating`, `/modbot setup #mod-queue`: the words are parsed by
the core's `parse_line`; Slack's escaped channels (`<#C123|name>`, `<#C123|>`, the manifest
sets `should_escape`) and plain `#name` become channel ids, `<!subteam^S1|@mods>` a group id.
A reply goes in the acknowledgement when it is ready within Slack's 3 s, else through the
command's `response_url`; both are ephemeral unless the catalogue marks a reply public.
`policy edit` and `policy upload` open a modal with the YAML.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond

from bot.core.commands.model import Reply, Value
from bot.core.commands.text import ParseError, parse_line
from bot.platforms.slack.cards import reply_message, yaml_modal
from bot.platforms.slack.intake import plain_text
from bot.platforms.slack.listener import Listener
from bot.platforms.slack.webapi import call

log = logging.getLogger(__name__)

COMMAND = "/modbot"
ANSWER_WITHIN_S = 2.5  # Slack gives 3 s; keep a margin for the network
ESCAPED_CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|[^>]*)?>")
ESCAPED_GROUP = re.compile(r"<!subteam\^([A-Z0-9]+)(?:\|[^>]*)?>")
CHANNEL_NAME = re.compile(r"#([^\s,#<>]+)")
MODAL_PATHS = {("policy", "edit"), ("policy", "upload")}
WORKING = Reply(True, "⏳ working on it…")


def _message(reply: Reply) -> dict[str, Any]:
    return {**reply_message(reply), "response_type": "ephemeral" if reply.private else "in_channel"}


class SlashCommands(Listener):
    def register(self, app: AsyncApp) -> None:
        app.command(COMMAND)(self.on_command)

    async def on_command(self, ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        text = str(body.get("text") or "").strip() or "help"
        parsed = parse_line(self._core.commands.commands, text)
        if isinstance(parsed, ParseError):
            await ack(**_message(Reply.fail("invalid", parsed.message.replace("`help`", "`/modbot help`"))))
            return
        path = parsed.command.path
        if path in MODAL_PATHS and "file" not in parsed.args:
            await ack()  # the modal (or the reason there is none) follows
            self._background.spawn("policy modal", self._modal(body, path, dict(parsed.args), respond))
            return

        async def answer_later(reply: Reply) -> None:
            await respond(**_message(reply), replace_original=False)

        work = self._run(body, path, dict(parsed.args))
        wait_s = 0.0 if parsed.command.slow else ANSWER_WITHIN_S  # a slow one is deferred at once
        reply = await self._background.within(" ".join(path), work, wait_s, answer_later)
        await ack(**_message(reply or WORKING))

    async def _run(self, body: dict[str, Any], path: tuple[str, ...], raw: dict[str, str]) -> Reply:
        """The command for the caller; a user's mistake is a reply, and so is a bug (logged)."""
        try:
            space = str(body.get("team_id") or "")
            actor = await self._directory.actor(str(body.get("user_id") or ""), space)
            args, problem = await self._arguments(path, raw)
            if problem:
                return Reply.fail("invalid", problem)
            return await self._core.run_command(path, actor, space, args, "slack")
        except Exception:
            log.exception("slack: /modbot %s failed", " ".join(path))
            return Reply.fail(
                "error", f"{' '.join(path)} failed", "the error was logged for the bot's operator"
            )

    async def _arguments(self, path: tuple[str, ...], raw: dict[str, str]) -> tuple[dict[str, Value], str]:
        """Slack's escaped mentions and channel names as the ids the core takes."""
        command = self._core.commands.find(path)
        args: dict[str, Value] = {}
        for name, value in raw.items():
            param = command.param(name) if command else None
            kind = param.kind if param else ""
            if kind in ("channel", "channels"):
                value = ESCAPED_CHANNEL.sub(r"\1", value)
                for channel_name in CHANNEL_NAME.findall(value):
                    found = await self._directory.channel_id(channel_name)
                    if not found:
                        return {}, (f"no channel #{channel_name} that modbot can see: check the name, or "
                                    "invite modbot there first (`/invite @modbot`)")  # fmt: skip
                    value = value.replace(f"#{channel_name}", found, 1)
            elif kind == "role":
                value = ESCAPED_GROUP.sub(r"\1", value)
            elif kind == "text":
                value = plain_text(value)
            args[name] = value
        return args, ""

    async def _modal(
        self, body: dict[str, Any], path: tuple[str, ...], raw: dict[str, str], respond: AsyncRespond
    ) -> None:
        """`policy edit` shows the current YAML; `policy upload` an empty form. The core decides who may."""
        # Without its file the core still checks the caller first: a refusal, or "file is required".
        reply = await self._run(body, path, raw)
        if path == ("policy", "upload") and reply.code == "invalid":
            yaml_text, title, name = "", "Upload a policy", "upload.yaml"
        elif path == ("policy", "edit") and reply.ok and reply.file is not None:
            yaml_text, title, name = reply.file.text, f"Edit {raw.get('policy', '')}", reply.file.name
        else:
            await respond(**_message(reply), replace_original=False)
            return
        metadata = {"space": str(body.get("team_id") or ""), "channel": str(body.get("channel_id") or ""),
                    "name": name}  # fmt: skip
        opened = await call(self._client, "views.open", trigger_id=body.get("trigger_id", ""),
                            view=yaml_modal(title, yaml_text, metadata))  # fmt: skip
        if not opened.ok:
            await respond(**_message(Reply.fail("error", "could not open the form", opened.error)),
                          replace_original=False)  # fmt: skip
