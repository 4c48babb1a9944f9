"""slack-manifest.yaml asks for what the adapter uses: scopes, events, the command, Socket Mode."""

from __future__ import annotations

import yaml

from bot.platforms.slack.connection import DIRECTORY_EVENTS
from bot.platforms.slack.port import BOT_SCOPES
from tests.conftest import ROOT


def test_the_manifest_matches_the_adapter() -> None:
    manifest = yaml.safe_load((ROOT / "slack-manifest.yaml").read_text())
    assert sorted(manifest["oauth_config"]["scopes"]["bot"]) == sorted(BOT_SCOPES)
    settings = manifest["settings"]
    events = set(settings["event_subscriptions"]["bot_events"])
    assert {"message.channels", "message.groups", "app_home_opened", *DIRECTORY_EVENTS} <= events
    assert settings["interactivity"]["is_enabled"] and settings["socket_mode_enabled"]
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == "/modbot" and command["should_escape"] is True
    assert manifest["features"]["app_home"]["home_tab_enabled"]
