"""Guild messages -> `IncomingMessage` with recent context -> `core.submit`.

Context comes from discord.py's message cache (no REST call per message). Edits with new
text are checked again, also for messages older than the cache (the raw edit event); a
message deleted before its check is withdrawn from the core's queue. Bots,
webhooks and modbot itself are ignored. A listener never raises to discord.py: a failed
submit is logged, and the event counts as handled only once `submit` returned.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

import discord

from bot.core.messages import ContextLine, IncomingMessage
from bot.core.service import ModerationCore

log = logging.getLogger(__name__)
SUBMIT_RETRIES_S = (0.5, 2.0, 8.0, 30.0)

CONTEXT_MESSAGES = 20
DELETED_REMEMBERED = 1000
USER_MESSAGE_TYPES = (discord.MessageType.default, discord.MessageType.reply)


class Intake:
    def __init__(self, core: ModerationCore, client: discord.Client) -> None:
        self.core = core
        self.client = client
        # discord.py runs each event in its own task, so a delete can overtake its message's
        # submit: remember recent deletions and withdraw again once the submit is done.
        self._deleted: OrderedDict[tuple[str, str], None] = OrderedDict()

    def _watched(self, message: discord.Message) -> bool:
        author = message.author
        return (
            message.guild is not None
            and message.type in USER_MESSAGE_TYPES
            and message.webhook_id is None
            and not author.bot
            and author != self.client.user
            and bool(message.content.strip())
        )

    async def on_message(self, message: discord.Message) -> None:
        if self._watched(message):
            await self._submit(self._incoming(message, edited=False))

    async def on_raw_message_edit(self, event: discord.RawMessageUpdateEvent) -> None:
        if "content" not in event.data:
            return  # an embed unfurl or a pin, not new text
        before = event.cached_message
        if before is not None and before.content == event.message.content:
            return
        message = event.message
        if self._watched(message):
            await self._submit(self._incoming(message, edited=True))

    async def on_raw_message_delete(self, event: discord.RawMessageDeleteEvent) -> None:
        if event.guild_id is None:
            return
        key = (str(event.guild_id), str(event.message_id))
        self._deleted[key] = None
        while len(self._deleted) > DELETED_REMEMBERED:
            self._deleted.popitem(last=False)
        await self._withdraw(*key)

    async def _withdraw(self, space_id: str, message_id: str) -> None:
        try:
            await self.core.withdraw(space_id, message_id)
        except Exception:
            log.exception("could not withdraw deleted message %s", message_id)

    def _incoming(self, message: discord.Message, *, edited: bool) -> IncomingMessage:
        channel = message.channel
        return IncomingMessage(
            platform="discord",
            space_id=str(message.guild.id if message.guild else ""),
            channel_id=str(channel.id),
            message_id=str(message.id),
            author_id=str(message.author.id),
            author_name=message.author.display_name,
            text=message.content,
            channel_name=getattr(channel, "name", "") or "",
            edited=edited,
            context=self._context(message),
            sent_at=message.created_at.timestamp(),
        )

    def _context(self, message: discord.Message) -> tuple[ContextLine, ...]:
        """Up to 20 earlier messages of the channel, oldest first, from the client's cache."""
        lines: list[ContextLine] = []
        for cached in reversed(self.client.cached_messages):
            if cached.channel.id != message.channel.id or cached.id >= message.id:
                continue
            if cached.content:
                lines.append(ContextLine(cached.author.display_name, cached.content))
            if len(lines) >= CONTEXT_MESSAGES:
                break
        return tuple(reversed(lines))

    async def _submit(self, msg: IncomingMessage) -> None:
        key = (msg.space_id, msg.message_id)
        if key in self._deleted:
            return
        # The gateway never delivers a message again: a storage hiccup is retried here (each event
        # runs in its own task, so this waits for nothing else), never raised into discord.py.
        for delay in (*SUBMIT_RETRIES_S, None):
            try:
                await self.core.submit(msg)
                break
            except Exception:
                if delay is None:
                    log.exception("could not store message %s in %s; it will not be checked",
                                  msg.message_id, msg.space_id)  # fmt: skip
                    return
                log.warning("could not store message %s yet; retrying in %.1f s", msg.message_id, delay,
                            exc_info=True)  # fmt: skip
                await asyncio.sleep(delay)
        if key in self._deleted:  # deleted while it was being submitted
            await self._withdraw(*key)
