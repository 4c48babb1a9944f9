"""The Slack adapter: a slack-bolt `AsyncApp` over Socket Mode or signed HTTP, wired to the core.

Socket Mode when SLACK_APP_TOKEN is set (no public URL, no signing secret); otherwise
Bolt's aiohttp server on SLACK_HOST:SLACK_PORT at /slack/events, where Bolt checks every
request's signature against SLACK_SIGNING_SECRET and answers a bad or stale one 401 before
any listener runs. `process_before_response=True` makes an event's acknowledgement wait
for `submit` (persisted first); everything slow is handed to `Background` after the ack.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiohttp import web
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse

from bot.config import Settings
from bot.core.ports import Platform
from bot.core.service import ModerationCore
from bot.platforms.slack.actors import Directory
from bot.platforms.slack.background import Background
from bot.platforms.slack.commands import SlashCommands
from bot.platforms.slack.home import AppHome
from bot.platforms.slack.intake import Intake
from bot.platforms.slack.interactions import Interactions
from bot.platforms.slack.port import SlackPort
from bot.platforms.slack.webapi import call, make_client

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# Events that change who moderates (user groups, the mod channel's members, admins).
DIRECTORY_EVENTS = ("subteam_created", "subteam_updated", "subteam_members_changed",
                    "member_joined_channel", "member_left_channel", "user_change")  # fmt: skip


class SlackAdapter:
    name = "slack"

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        base = settings.slack_api_base_url
        self._bot = make_client(settings.slack_bot_token.get_secret_value(), base)
        admin = settings.slack_admin_user_token.get_secret_value()
        self._port = SlackPort(self._bot, make_client(admin, base) if admin else None)
        self._app_token = settings.slack_app_token.get_secret_value()
        self._secret = settings.slack_signing_secret.get_secret_value()
        self._socket: AsyncSocketModeHandler | None = None
        self._listening = False
        if not self._app_token and not self._secret:
            raise SystemExit(
                "modbot: Slack needs SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP mode); "
                "see the README's Slack section"
            )

    @property
    def port(self) -> Platform:
        return self._port

    def _app(self, core: ModerationCore, background: Background) -> AsyncApp:
        app = AsyncApp(
            client=self._bot, signing_secret=self._secret, process_before_response=True, name="modbot",
            logger=logging.getLogger("bot.platforms.slack.bolt"),
        )  # fmt: skip
        directory = Directory(self._bot, core.mod_channel)
        intake = Intake(core.submit, directory.cached_name)

        async def on_message(body: dict[str, Any], event: dict[str, Any]) -> BoltResponse | None:
            if await intake.on_event(body, event):
                author = str(event.get("user") or (event.get("message") or {}).get("user") or "")
                if author and directory.needs_name(author):
                    background.spawn("learn a name", directory.learn_name(author))
                return None  # acknowledged now: the message is on disk
            return BoltResponse(status=503, body="not stored yet; deliver it again")

        async def on_error(error: Exception, body: dict[str, Any]) -> None:
            log.error("slack: a listener failed (%s)", type(error).__name__, exc_info=error)

        async def on_change(event: dict[str, Any]) -> None:
            directory.forget(event)

        app.event("message")(on_message)
        for kind in DIRECTORY_EVENTS:
            app.event(kind)(on_change)
        app.error(on_error)
        Interactions(core, directory, self._bot, background).register(app)
        SlashCommands(core, directory, self._bot, background).register(app)
        AppHome(core, directory, self._bot, background).register(app)
        return app

    async def _introduce(self, core: ModerationCore) -> None:
        """Name the workspace in the store, and say in the log which one this token serves."""
        auth = await call(self._bot, "auth.test")
        if not auth.ok:
            log.error("slack: %s", auth.error)
            return
        team, name = str(auth.data.get("team_id", "")), str(auth.data.get("team", ""))
        if team:
            await core.ensure_space(team, "slack", name)
        log.info("slack: serving workspace %s (%s) as %s", name, team, auth.data.get("user", "?"))

    @asynccontextmanager
    async def serving(self, core: ModerationCore) -> AsyncIterator[None]:
        background = Background()
        app = self._app(core, background)
        background.spawn("introduce", self._introduce(core))
        try:
            if self._app_token:
                async with self._socket_mode(app, background):
                    yield
            else:
                async with self._http(app):
                    yield
        finally:
            await background.close()

    @asynccontextmanager
    async def _socket_mode(self, app: AsyncApp, background: Background) -> AsyncIterator[None]:
        client = make_client(self._app_token, self._settings.slack_api_base_url)
        probe = await call(client, "apps.connections.open")
        if not probe.ok and not probe.retryable:  # a wrong token: say so, do not retry forever
            raise SystemExit(f"modbot: SLACK_APP_TOKEN was refused: {probe.error}")
        handler = AsyncSocketModeHandler(app, self._app_token, web_client=client,
                                         logger=logging.getLogger("bot.platforms.slack.socket"))  # fmt: skip
        self._socket = handler
        # Connecting retries until Slack answers; do it beside the other adapters, not before them.
        background.spawn("socket mode connect", handler.connect_async())  # type: ignore[no-untyped-call]
        log.info("slack: connecting over Socket Mode")
        try:
            yield
        finally:
            await handler.close_async()  # type: ignore[no-untyped-call]

    @asynccontextmanager
    async def _http(self, app: AsyncApp) -> AsyncIterator[None]:
        host, port = self._settings.slack_host, self._settings.slack_port
        runner = web.AppRunner(app.server(port=port, path=EVENTS_PATH, host=host).web_app, access_log=None)
        await runner.setup()
        try:
            try:
                await web.TCPSite(runner, host, port).start()
            except OSError as exc:
                raise SystemExit(
                    f"modbot: cannot listen for Slack on {host}:{port} ({exc.strerror})"
                ) from exc
            log.info("slack: listening for Slack on http://%s:%d%s", host, port, EVENTS_PATH)
            self._listening = True
            yield
        finally:
            self._listening = False
            await runner.cleanup()

    def connected(self) -> bool:
        """Socket Mode: the websocket is up; HTTP mode: the server listens (for /readyz)."""
        if self._socket is not None:
            client = self._socket.client
            return bool(client.current_session is not None and not client.closed)
        return self._listening
