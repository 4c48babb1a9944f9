"""What every group of Slack listeners holds: the core, who is who, the Web API, and the work
that runs after Slack has had its answer."""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bot.core.service import ModerationCore
from bot.platforms.slack.actors import Directory
from bot.platforms.slack.background import Background


class Listener:
    def __init__(
        self, core: ModerationCore, directory: Directory, client: AsyncWebClient, background: Background
    ) -> None:
        self._core = core
        self._directory = directory
        self._client = client
        self._background = background
