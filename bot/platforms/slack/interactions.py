"""Buttons and modals to the core's entry points: decide, reasoning, appeal, decide an appeal.

Every click is acknowledged at once and handled after (Slack's 3 s); the core checks who
clicked, and a refusal comes back as an ephemeral message saying why. The card itself is
updated by the core's outbox, so every moderator sees who did what. Modal submissions are
answered in their acknowledgement: errors beside the field, or a closing confirmation.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot.core.commands.model import Reply, Upload
from bot.platforms.slack.cards import (
    ACTION_PREFIX,
    appeal_modal,
    clip,
    done_modal,
    reply_message,
    yaml_from_state,
)
from bot.platforms.slack.listener import Listener
from bot.platforms.slack.webapi import call

log = logging.getLogger(__name__)

BUTTON = re.compile(r"^modbot\.(remove|dismiss|escalate|add_example|show_reasoning|uphold|overturn|appeal)$")
DECISIONS = {"uphold": "upheld", "overturn": "overturned"}
ANSWER_WITHIN_S = 2.5  # a form's answer goes in the ack when ready by then (Slack allows 3 s)
SENDING = "Still working on it: modbot will send you a message with the outcome."


def _team(body: dict[str, Any]) -> str:
    return str((body.get("team") or {}).get("id") or (body.get("user") or {}).get("team_id") or "")


class Interactions(Listener):
    def register(self, app: AsyncApp) -> None:
        app.action(BUTTON)(self.on_button)
        app.view(f"{ACTION_PREFIX}appeal")(self.on_appeal)
        app.view(f"{ACTION_PREFIX}policy_upload")(self.on_policy_upload)

    # -- buttons -----------------------------------------------------------------------------

    async def on_button(self, ack: AsyncAck, body: dict[str, Any], action: dict[str, Any]) -> None:
        await ack()
        name = str(action.get("action_id", "")).removeprefix(ACTION_PREFIX)
        self._background.spawn(f"button {name}", self._button(name, body, action))

    async def _button(self, name: str, body: dict[str, Any], action: dict[str, Any]) -> None:
        user = str((body.get("user") or {}).get("id", ""))
        team = _team(body)
        channel = str((body.get("channel") or {}).get("id", ""))
        try:
            target = int(str(action.get("value", "")))
        except ValueError:
            log.warning("slack: a %s button without a number (%r)", name, action.get("value"))
            return
        if name == "appeal":  # the trigger lasts 3 s: open the modal before anything else
            opened = await call(self._client, "views.open", trigger_id=body.get("trigger_id", ""),
                                view=appeal_modal(target, team))  # fmt: skip
            if not opened.ok:
                await self._tell(
                    channel, user, Reply.fail("error", "could not open the appeal form", opened.error)
                )
            return
        actor = await self._directory.actor(user, team)
        if name in DECISIONS:
            result = await self._core.decide_appeal(target, actor, DECISIONS[name])
            reply = Reply(result.ok, result.message, code="ok" if result.ok else "refused")
        elif name == "show_reasoning":
            reply = await self._core.reasoning(target, actor)
        else:
            reply = (await self._core.decide(target, actor, name)).reply()
        await self._tell(channel, user, reply)

    async def _tell(self, channel: str, user: str, reply: Reply) -> None:
        """Only the person who clicked sees this (never a public post)."""
        message = reply_message(reply)
        got = await call(self._client, "chat.postEphemeral", channel=channel, user=user, **message)
        if not got.ok:
            log.warning("slack: could not answer %s privately: %s", user, got.error)

    # -- modals ------------------------------------------------------------------------------

    async def on_appeal(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = _metadata(view)
        values = (view.get("state") or {}).get("values") or {}
        statement = str(values.get("statement", {}).get("statement", {}).get("value") or "")
        user, space = str((body.get("user") or {}).get("id", "")), str(meta.get("space") or _team(body))

        async def appeal() -> tuple[bool, str]:
            try:
                actor = await self._directory.actor(user, space)
                result = await self._core.appeal(int(str(meta.get("case", 0))), actor, statement)
                return result.ok, result.message
            except Exception:
                log.exception("slack: an appeal could not be taken")
                return False, "modbot could not take the appeal; try again"

        async def by_dm(outcome: tuple[bool, str]) -> None:
            await self._dm(user, Reply(outcome[0], outcome[1], code="ok" if outcome[0] else "refused"))

        outcome = await self._background.within("appeal", appeal(), ANSWER_WITHIN_S, by_dm)
        if outcome is None:
            await ack(response_action="update", view=done_modal("Appeal", SENDING))
        elif outcome[0]:
            await ack(response_action="update", view=done_modal("Appeal sent", outcome[1]))
        else:
            await ack(response_action="errors", errors={"statement": clip(outcome[1], 150)})

    async def on_policy_upload(self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any]) -> None:
        meta = _metadata(view)
        text = yaml_from_state((view.get("state") or {}).get("values") or {})
        user, space = str((body.get("user") or {}).get("id", "")), str(meta.get("space") or _team(body))
        upload = Upload(str(meta.get("name") or "policy.yaml"), text)

        async def save() -> Reply:
            try:
                actor = await self._directory.actor(user, space)
                return await self._core.run_command(
                    ("policy", "upload"), actor, space, {"file": upload}, "slack"
                )
            except Exception:
                log.exception("slack: a policy upload could not be taken")
                return Reply.fail("error", "modbot could not take the upload; try again")

        reply = await self._background.within("policy upload", save(), ANSWER_WITHIN_S, self._dm_to(user))
        if reply is None:
            await ack(response_action="update", view=done_modal("Policy", SENDING))
        elif reply.ok:
            await ack(response_action="update", view=done_modal("Policy saved", reply.as_text()))
        else:
            await ack(response_action="errors", errors={"yaml-1": clip(reply.as_text(), 1900)})

    def _dm_to(self, user: str) -> Callable[[Reply], Awaitable[None]]:
        async def send(reply: Reply) -> None:
            await self._dm(user, reply)

        return send

    async def _dm(self, user: str, reply: Reply) -> None:
        """An answer that came too late for its form: a message from the bot, to that person only."""
        got = await call(self._client, "chat.postMessage", channel=user, **reply_message(reply))
        if not got.ok:
            log.warning("slack: could not tell %s the outcome: %s", user, got.error)


def _metadata(view: dict[str, Any]) -> dict[str, Any]:
    try:
        meta = json.loads(view.get("private_metadata") or "{}")
    except ValueError:
        return {}
    return meta if isinstance(meta, dict) else {}
