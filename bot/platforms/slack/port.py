"""Slack's side of the platform port: cards in the mod channel, deletions, DMs, setup checks.

A card's reference is `channel:ts`, so an update after a restart finds it. Slack has no nonce:
if chat.postMessage timed out after Slack posted, or modbot stopped before the core saved the
reference, the outbox posts again. So each card carries its case id as message metadata, and
a post first looks for the bot's card of that case among the mod channel's recent messages
and returns it instead of posting a second one. A bot token can
delete only the bot's own messages: removal needs a workspace admin's user token
(`SLACK_ADMIN_USER_TOKEN`); without one the port says so and the card asks the moderators
to delete the message by hand. Slack has no timeouts.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.ports import Capabilities, PlatformResult
from bot.core.views import FlagView, MemberNotice
from bot.platforms.slack.cards import flag_blocks, flag_text, notice_blocks
from bot.platforms.slack.webapi import Called, call

# What modbot needs of a workspace (slack-manifest.yaml asks for the same).
BOT_SCOPES = ("chat:write", "commands", "channels:history", "groups:history", "channels:read",
              "groups:read", "users:read", "im:write", "usergroups:read")  # fmt: skip
CARD_EVENT = "modbot_case"  # the metadata event type of a flag card (own messages: no scope)
RECENT_CARDS = 200  # how far back a retried post looks for its card (retries come within hours)


def _result(got: Called, ref: str = "") -> PlatformResult:
    if got.ok:
        return PlatformResult(True, ref=ref)
    return PlatformResult(False, error=got.error, retryable=got.retryable)


def _card_metadata(case_id: int) -> dict[str, Any]:
    return {"event_type": CARD_EVENT, "event_payload": {"case_id": case_id}}


class SlackPort:
    name = "slack"

    def __init__(self, bot: AsyncWebClient, admin: AsyncWebClient | None = None) -> None:
        self._bot = bot
        self._admin = admin
        self.capabilities = Capabilities(can_timeout=False, can_delete=admin is not None,
                                         moderator_fact_always=False)  # fmt: skip
        self._me: frozenset[str] = frozenset()  # the bot's user id and bot id (auth.test)

    async def _permalink(self, channel: str, ts: str) -> str:
        got = await call(self._bot, "chat.getPermalink", form=True, channel=channel, message_ts=ts)
        return str(got.data.get("permalink", "")) if got.ok else ""

    async def post_flag(self, view: FlagView, mod_channel_id: str) -> PlatformResult:
        if not mod_channel_id:
            return PlatformResult(False, error="no mod channel is set: run `/modbot setup #channel`")
        found = await self._posted_card(mod_channel_id, view.case_id)
        if isinstance(found, PlatformResult):
            return found
        if found:
            return PlatformResult(True, ref=f"{mod_channel_id}:{found}")  # posted before: that card
        blocks = flag_blocks(view, await self._permalink(view.channel_id, view.message_id))
        got = await call(self._bot, "chat.postMessage", channel=mod_channel_id, text=flag_text(view),
                         blocks=blocks, metadata=_card_metadata(view.case_id), unfurl_links=False,
                         unfurl_media=False)  # fmt: skip
        return _result(got, f"{got.data.get('channel', mod_channel_id)}:{got.data.get('ts', '')}")

    async def _posted_card(self, channel: str, case_id: int) -> str | PlatformResult:
        """The ts of the bot's card for `case_id` among the channel's recent messages, or "".

        A failure that may pass is returned (the outbox tries again later). A lasting one (no
        history scope, not in the channel) is not: the post goes ahead and reports its own.
        """
        if not self._me:
            auth = await call(self._bot, "auth.test")
            if not auth.ok:
                return _result(auth)
            self._me = frozenset(str(auth.data[k]) for k in ("user_id", "bot_id") if auth.data.get(k))
        got = await call(self._bot, "conversations.history", form=True, channel=channel,
                         limit=RECENT_CARDS, include_all_metadata=True)  # fmt: skip
        if not got.ok:
            return _result(got) if got.retryable else ""
        for message in got.data.get("messages") or ():
            mine = str(message.get("bot_id") or "") in self._me or str(message.get("user") or "") in self._me
            metadata = message.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if (
                mine
                and metadata.get("event_type") == CARD_EVENT
                and str(payload.get("case_id")) == str(case_id)
            ):
                return str(message.get("ts") or "")
        return ""

    async def update_flag(self, ref: str, view: FlagView, mod_channel_id: str) -> PlatformResult:
        channel, _, ts = ref.partition(":")
        if not ts:
            return PlatformResult(False, error=f"not a Slack card reference: {ref!r}", retryable=False)
        blocks = flag_blocks(view, await self._permalink(view.channel_id, view.message_id))
        got = await call(self._bot, "chat.update", channel=channel, ts=ts, text=flag_text(view),
                         blocks=blocks, metadata=_card_metadata(view.case_id))  # fmt: skip
        return _result(got, ref)

    async def delete_message(self, space_id: str, channel_id: str, message_id: str) -> PlatformResult:
        if self._admin is None:
            return PlatformResult(
                False, retryable=False,
                error="modbot cannot delete members' messages without SLACK_ADMIN_USER_TOKEN: "
                "delete it by hand (the card links to it)",
            )  # fmt: skip
        got = await call(self._admin, "chat.delete", channel=channel_id, ts=message_id)
        if not got.ok and got.code == "message_not_found":
            return PlatformResult(True)  # already gone: what removal wanted
        return _result(got)

    async def timeout_member(self, space_id: str, user_id: str, minutes: int, reason: str) -> PlatformResult:
        return PlatformResult(False, error="Slack has no timeouts", retryable=False)

    async def dm(self, notice: MemberNotice) -> PlatformResult:
        opened = await call(self._bot, "conversations.open", users=notice.user_id)
        if not opened.ok:
            return _result(opened)
        channel = str((opened.data.get("channel") or {}).get("id", ""))
        got = await call(self._bot, "chat.postMessage", channel=channel, text=notice.text,
                         blocks=notice_blocks(notice))  # fmt: skip
        return _result(got, f"{channel}:{got.data.get('ts', '')}")

    async def check_setup(self, space_id: str, mod_channel_id: str) -> list[str]:
        problems: list[str] = []
        auth = await call(self._bot, "auth.test")
        if not auth.ok:
            return [auth.error]
        granted = {s.strip() for s in auth.headers.get("x-oauth-scopes", "").split(",") if s.strip()}
        if granted:
            missing = [s for s in BOT_SCOPES if s not in granted]
            if missing:
                problems.append(
                    f"the Slack app lacks the scope(s) {', '.join(missing)}: add them under OAuth & "
                    "Permissions (or from slack-manifest.yaml) and reinstall the app"
                )
        if mod_channel_id:
            info = await call(self._bot, "conversations.info", form=True, channel=mod_channel_id)
            channel = info.data.get("channel") or {}
            if not info.ok:
                problems.append(info.error)
            elif not channel.get("is_member", False):
                problems.append(
                    f"modbot is not in <#{mod_channel_id}>: invite it there with `/invite @modbot`"
                )
            if info.ok and not channel.get("is_private", False):
                # Its members are the moderators until a group is set (see actors.py), and anyone
                # can join a public channel; so membership of it is not counted at all.
                name = f"#{channel['name']}" if channel.get("name") else f"<#{mod_channel_id}>"
                problems.append(
                    f"{name} is public: anyone can join it, so its members are not counted as "
                    "moderators; make it private or set a moderator group with "
                    "`/modbot setup mod_role=@group`"
                )
        if self._admin is None:
            problems.append(
                "no SLACK_ADMIN_USER_TOKEN: Remove marks the case; a moderator deletes the message by hand"
            )
        return problems
