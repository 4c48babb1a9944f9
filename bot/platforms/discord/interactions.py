"""Interactions -> the core's entry points: `/modbot`, the Check menu, buttons, modals.

Every answer is within Discord's 3 s: slow commands and attachment downloads are deferred
first. Modal submissions are routed by their custom id (like the buttons' DynamicItems), so
a form opened before a restart is still handled after it. Nothing here decides who may do
what: a refusal comes from the core and is shown to the person privately.
"""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import discord

from bot.core.commands.model import Command, Reply, Upload, Value
from bot.core.service import ModerationCore
from bot.platforms.discord.actors import actor_of
from bot.platforms.discord.buttons import APPEAL_FORM, POLICY_EDIT_FORM, appeal_form_id, policy_edit_id
from bot.platforms.discord.cards import reply_message
from bot.platforms.discord.commands import CHECK_MENU, ROOT, AttachmentRef, as_discord_help, invoked

log = logging.getLogger(__name__)

MENTION = re.compile(r"<(?:#|@&)([0-9]{1,20})>")
DOWNLOAD_TIMEOUT_S = 20.0
INTERACTION_TIMEOUT_S = 600.0  # slow commands (policy test) included; a token lives 15 minutes
MAX_UPLOAD_BYTES = 256 * 1024
Itx = discord.Interaction[Any]


async def send(interaction: Itx, reply: Reply) -> None:
    """Answer with a Reply: as the response, or as a follow-up once deferred."""
    kwargs = reply_message(reply)
    if interaction.response.is_done():
        await interaction.followup.send(ephemeral=reply.private, **kwargs)
    else:
        await interaction.response.send_message(ephemeral=reply.private, **kwargs)


def _fields(rows: list[dict[str, Any]]) -> dict[str, str]:
    """A modal's text inputs by custom id (in action rows, or in the newer label wrappers)."""
    out: dict[str, str] = {}
    for row in rows:
        inputs = row.get("components") or ([row["component"]] if row.get("component") else [])
        for item in inputs:
            out[str(item.get("custom_id"))] = str(item.get("value") or "")
    return out


class Interactions:
    def __init__(self, core: ModerationCore) -> None:
        self.core = core

    async def on_interaction(self, interaction: Itx) -> None:
        """Application commands, autocomplete and modals (buttons go through DynamicItem)."""
        try:
            async with asyncio.timeout(INTERACTION_TIMEOUT_S):
                await self._route(interaction)
        except Exception:  # answer with an error rather than leave "the application did not respond"
            log.exception("interaction %s failed", interaction.id)
            await self._failed(interaction)

    async def _route(self, interaction: Itx) -> None:
        kind = interaction.type
        if kind is discord.InteractionType.application_command:
            await self._command(interaction)
        elif kind is discord.InteractionType.autocomplete:
            await self._autocomplete(interaction)
        elif kind is discord.InteractionType.modal_submit:
            await self._modal(interaction)

    async def _failed(self, interaction: Itx) -> None:
        try:
            await send(interaction, Reply.fail("error", "modbot could not do that; the error was logged"))
        except discord.HTTPException:
            log.warning("could not tell the user about the failure of interaction %s", interaction.id)

    # -- /modbot and the message menu --------------------------------------------------------

    async def _command(self, interaction: Itx) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        space = str(interaction.guild_id or "")
        if data.get("name") == CHECK_MENU:
            messages: dict[str, Any] = (data.get("resolved") or {}).get("messages") or {}
            target: dict[str, Any] = messages.get(str(data.get("target_id"))) or {}
            await interaction.response.defer(ephemeral=True, thinking=True)
            reply = await self.core.run_command(
                ("check",), actor_of(interaction), space, {"text": target.get("content", "")}, "discord"
            )
            await send(interaction, reply)
            return
        if data.get("name") != ROOT:
            return
        path, values, _focused = invoked(data)
        if path == ("setup",) and not values:
            path = ("setup", "show")  # Discord cannot have both `setup` and `setup show`
        command = self.core.commands.find(path)
        if command is None:
            await send(interaction, Reply.fail("invalid", f"unknown command {' '.join(path)}"))
            return
        if path == ("policy", "edit"):
            await self._edit_policy(interaction, space, values)
            return
        has_file = any(p.kind == "file" for p in command.params)
        if command.slow or has_file:
            await interaction.response.defer(ephemeral=True, thinking=True)
        args = await self._arguments(interaction, command, values)
        if isinstance(args, Reply):
            await send(interaction, args)
            return
        reply = await self.core.run_command(path, actor_of(interaction), space, args, "discord")
        await send(interaction, as_discord_help(reply) if path == ("help",) else reply)

    async def _arguments(
        self, interaction: Itx, command: Command, values: dict[str, Any]
    ) -> dict[str, Value] | Reply:
        data: dict[str, Any] = dict(interaction.data or {})
        attachments: dict[str, Any] = (data.get("resolved") or {}).get("attachments") or {}
        args: dict[str, Value] = {}
        for name, value in values.items():
            if isinstance(value, AttachmentRef):
                if value.id not in attachments:
                    return Reply.fail("invalid", f"{name}: Discord sent no file")
                attachment = discord.Attachment(data=attachments[value.id], state=interaction._state)
                if attachment.size > MAX_UPLOAD_BYTES:
                    kb = MAX_UPLOAD_BYTES // 1024
                    return Reply.fail(
                        "invalid", f"{attachment.filename} is larger than {kb} KB; a policy is smaller"
                    )
                async with asyncio.timeout(DOWNLOAD_TIMEOUT_S):
                    raw = await attachment.read()
                args[name] = Upload(attachment.filename, raw.decode("utf-8", errors="replace"))
            else:
                param = command.param(name)
                ids = param is not None and param.kind in ("channel", "channels", "role")
                # Discord turns "#mods" typed into a text option into "<#id>"; the core wants ids.
                args[name] = MENTION.sub(r"\1", str(value)) if ids else str(value)
        return args

    async def _autocomplete(self, interaction: Itx) -> None:
        _path, values, focused = invoked(dict(interaction.data or {}))
        ids = await self.core.commands.complete(
            actor_of(interaction), str(interaction.guild_id or ""), str(values.get(focused) or "")
        )
        await interaction.response.autocomplete(
            [discord.app_commands.Choice(name=i, value=i) for i in ids[:25]]
        )

    async def _edit_policy(self, interaction: Itx, space: str, values: dict[str, Any]) -> None:
        args: dict[str, Value] = {k: str(v) for k, v in values.items()}
        reply = await self.core.run_command(("policy", "edit"), actor_of(interaction), space, args, "discord")
        if not reply.ok or reply.file is None or len(reply.file.text) > 4000:
            await send(interaction, reply)  # refused, or too long for a form: the file instead
            return
        policy = str(values.get("policy", ""))
        modal = discord.ui.Modal(title=f"Edit {policy}"[:45], custom_id=policy_edit_id(policy), timeout=None)
        yaml = discord.ui.TextInput[discord.ui.Modal](
            label="Policy YAML", style=discord.TextStyle.paragraph, default=reply.file.text,
            custom_id="yaml", max_length=4000,
        )  # fmt: skip
        modal.add_item(yaml)
        await interaction.response.send_modal(modal)
        modal.stop()  # the submission is routed by custom id (see _modal), not by this object

    # -- modals ------------------------------------------------------------------------------

    async def _modal(self, interaction: Itx) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        custom_id = str(data.get("custom_id", ""))
        fields = _fields(data.get("components") or [])
        if match := APPEAL_FORM.fullmatch(custom_id):
            result = await self.core.appeal(
                int(match["case"]), actor_of(interaction), str(fields.get("statement", ""))
            )
            await send(interaction, Reply(result.ok, result.message, code="ok" if result.ok else "refused"))
        elif match := POLICY_EDIT_FORM.fullmatch(custom_id):
            await interaction.response.defer(ephemeral=True, thinking=True)
            upload = Upload(f"{match['policy']}.yaml", str(fields.get("yaml", "")))
            space = str(interaction.guild_id or "")
            actor = actor_of(interaction)
            reply = await self.core.run_command(
                ("policy", "upload"), actor, space, {"file": upload}, "discord"
            )
            await send(interaction, reply)

    # -- buttons (called by the DynamicItems in buttons.py) ----------------------------------

    async def case_button(self, interaction: Itx, case_id: int, action: str) -> None:
        try:
            async with asyncio.timeout(INTERACTION_TIMEOUT_S):
                actor = actor_of(interaction)
                if action == "show_reasoning":
                    await send(interaction, await self.core.reasoning(case_id, actor))
                    return
                outcome = await self.core.decide(case_id, actor, action)
                await send(interaction, outcome.reply())  # the card itself is edited by the core's outbox
        except Exception:
            log.exception("button %s on case %s failed", action, case_id)
            await self._failed(interaction)

    async def appeal_decision(self, interaction: Itx, appeal_id: int, outcome: str) -> None:
        try:
            async with asyncio.timeout(INTERACTION_TIMEOUT_S):
                result = await self.core.decide_appeal(appeal_id, actor_of(interaction), outcome)
            await send(interaction, Reply(result.ok, result.message, code="ok" if result.ok else "refused"))
        except Exception:
            log.exception("appeal decision %s on appeal %s failed", outcome, appeal_id)
            await self._failed(interaction)

    async def open_appeal(self, interaction: Itx, case_id: int) -> None:
        try:
            modal = discord.ui.Modal(title=f"Appeal case #{case_id}"[:45], custom_id=appeal_form_id(case_id),
                                     timeout=None)  # fmt: skip
            modal.add_item(discord.ui.TextInput(
                label="Why was the decision wrong?", style=discord.TextStyle.paragraph,
                custom_id="statement", max_length=1500, min_length=1,
            ))  # fmt: skip
            await interaction.response.send_modal(modal)
            modal.stop()
        except Exception:
            log.exception("could not open the appeal form for case %s", case_id)
            await self._failed(interaction)
