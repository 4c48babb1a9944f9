"""Slack over the Web API: the tokens work, and the bot token has the scopes the features use."""

from __future__ import annotations

import httpx

from bot.config import Settings
from bot.ops.doctor.result import Check, fail, ok, skip

# Scope -> what needs it. Missing ones are named with their reason.
NEEDED_SCOPES: dict[str, str] = {
    "channels:history": "read messages in public channels",
    "groups:history": "read messages in private channels",
    "chat:write": "post flag cards",
    "im:write": "DM members about decisions",
    "users:read": "tell moderators and admins apart",
    "commands": "the /modbot command",
}


async def check_slack(settings: Settings) -> list[Check]:
    bot_token = settings.slack_bot_token.get_secret_value()
    if not bot_token:
        return [skip("slack", "SLACK_BOT_TOKEN not set")]
    base = settings.slack_api_base_url
    base = base if base.endswith("/") else base + "/"
    timeout = httpx.Timeout(10.0, connect=5.0)
    async with httpx.AsyncClient(base_url=base, timeout=timeout, trust_env=False) as http:
        try:
            resp = await http.post("auth.test", headers={"Authorization": f"Bearer {bot_token}"})
        except httpx.HTTPError as exc:
            return [
                fail("slack.token", f"cannot reach {base}: {exc}", "check the network or SLACK_API_BASE_URL")
            ]
        body = resp.json() if resp.status_code == 200 else {"ok": False, "error": f"HTTP {resp.status_code}"}
        if not body.get("ok"):
            return [
                fail(
                    "slack.token",
                    f"Slack refused SLACK_BOT_TOKEN: {body.get('error')}",
                    "reinstall the app (OAuth & Permissions) and copy the Bot User OAuth Token",
                )
            ]
        checks = [ok("slack.token", f"valid: {body.get('user')} in {body.get('team')}")]
        granted = {s.strip() for s in resp.headers.get("x-oauth-scopes", "").split(",") if s.strip()}
        missing = [s for s in NEEDED_SCOPES if s not in granted]
        if missing:
            why = "; ".join(f"{s} ({NEEDED_SCOPES[s]})" for s in missing)
            checks.append(
                fail(
                    "slack.scopes",
                    f"missing {why}",
                    f"add {', '.join(missing)} under OAuth & Permissions -> Bot Token Scopes, then reinstall",
                )
            )
        else:
            checks.append(ok("slack.scopes", f"all {len(NEEDED_SCOPES)} scopes granted"))
        if app_token := settings.slack_app_token.get_secret_value():
            checks.append(await _app_token(http, app_token))
    return checks


async def _app_token(http: httpx.AsyncClient, token: str) -> Check:
    # Asking for a Socket Mode URL proves the app-level token and its connections:write scope.
    resp = await http.post("apps.connections.open", headers={"Authorization": f"Bearer {token}"})
    body = resp.json() if resp.status_code == 200 else {"ok": False, "error": f"HTTP {resp.status_code}"}
    if body.get("ok"):
        return ok("slack.app_token", "valid for Socket Mode")
    return fail(
        "slack.app_token",
        f"Slack refused SLACK_APP_TOKEN: {body.get('error')}",
        "Basic Information -> App-Level Tokens: create one with connections:write, enable Socket Mode",
    )
