"""App Home: the workspace's policies, their modes and the last 7 days, for whoever opens it.

What a person sees is what the core lets them run: moderators get the policy list and the
figures, anyone else the core's refusal, in plain words.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.core.commands.model import Reply
from bot.platforms.slack.cards import home_view
from bot.platforms.slack.listener import Listener
from bot.platforms.slack.webapi import call

log = logging.getLogger(__name__)


class AppHome(Listener):
    def register(self, app: AsyncApp) -> None:
        app.event("app_home_opened")(self.on_opened)

    async def on_opened(self, body: dict[str, Any], event: dict[str, Any]) -> None:
        if event.get("tab", "home") != "home":
            return
        user, team = str(event.get("user") or ""), str(body.get("team_id") or "")
        self._background.spawn("app home", self.publish(user, team))

    async def publish(self, user: str, team: str) -> None:
        actor = await self._directory.actor(user, team)
        replies: list[Reply] = [await self._core.run_command(("policy", "list"), actor, team, {}, "slack")]
        if replies[0].ok:
            replies.append(await self._core.run_command(("stats",), actor, team, {"days": "7"}, "slack"))
        got = await call(self._client, "views.publish", user_id=user, view=home_view(replies))
        if not got.ok:
            log.warning("slack: could not publish App Home for %s: %s", user, got.error)
