"""Settings present and well formed: a platform, URLs that parse, tokens of the right kind, policies."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import ValidationError

from bot.config import Settings
from bot.core.policies import Policy, PolicyProblem
from bot.ops.doctor.result import Check, fail, ok

ENV_HINT = "set it in .env (every setting is explained in .env.example)"


def invalid_settings(exc: ValidationError) -> list[Check]:
    """Settings that did not even parse, one line each (the other checks need them)."""
    checks = []
    for err in exc.errors():
        name = str(err["loc"][0]).upper() if err["loc"] else "?"
        checks.append(fail(f"settings.{name}", f"{err['msg']} (got {err.get('input')!r})", ENV_HINT))
    return checks


def _bad_url(url: str, *, slash: bool = False) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "is not an http(s) URL with a host"
    if slash and not url.endswith("/"):
        return "must end with /"
    return ""


def check_settings(settings: Settings) -> list[Check]:
    checks: list[Check] = []
    discord = bool(settings.discord_token.get_secret_value())
    slack = bool(settings.slack_bot_token.get_secret_value())
    if discord or slack:
        names = [n for n, on in (("discord", discord), ("slack", slack)) if on]
        checks.append(ok("settings.platforms", f"configured: {', '.join(names)}"))
    else:
        checks.append(
            fail(
                "settings.platforms",
                "no platform token is set",
                "set DISCORD_TOKEN or SLACK_BOT_TOKEN in .env; to try policies first, `modbot chat`",
            )
        )
    urls = {
        "OLLAMA_HOST": (settings.ollama_host, False),
        "ESCALATION_URL": (settings.escalation_url, False) if settings.has_tier2 else None,
        "DISCORD_API_BASE_URL": (settings.discord_api_base_url, False),
        "SLACK_API_BASE_URL": (settings.slack_api_base_url, True),
    }
    bad = []
    for key, entry in urls.items():
        if entry is not None and (why := _bad_url(entry[0], slash=entry[1])):
            bad.append(f"{key} {why}")
    if bad:
        checks.append(fail("settings.urls", "; ".join(bad), "write them like http://host:port/ in .env"))
    else:
        checks.append(ok("settings.urls", f"model server {settings.ollama_host}"))
    if slack:
        checks.append(_slack_tokens(settings))
    return checks


def _slack_tokens(settings: Settings) -> Check:
    problems = []
    if not settings.slack_bot_token.get_secret_value().startswith("xoxb-"):
        problems.append("SLACK_BOT_TOKEN should be the Bot User OAuth Token (xoxb-...)")
    app = settings.slack_app_token.get_secret_value()
    if app and not app.startswith("xapp-"):
        problems.append("SLACK_APP_TOKEN should be an app-level token (xapp-...)")
    if not app and not settings.slack_signing_secret.get_secret_value():
        problems.append("set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP events)")
    if problems:
        return fail("settings.slack", "; ".join(problems), "copy them from the app's settings pages")
    mode = "Socket Mode" if app else "HTTP events"
    return ok("settings.slack", f"bot token and {mode} credentials present")


def check_policies(policies: dict[str, Policy], problems: list[PolicyProblem], where: str) -> Check:
    errors = [p for p in problems if not p.warning]
    if errors:
        first = str(errors[0])
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        fix = f"run `modbot policy lint {where}` and fix each line"
        return fail("settings.policies", f"{first}{more}", fix)
    if not policies:
        fix = "set POLICY_DIR to a folder of policy YAML files"
        return fail("settings.policies", f"no policy in {where}", fix)
    return ok("settings.policies", f"{len(policies)} policies load from {where}")
