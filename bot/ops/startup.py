"""What `modbot run` says when it starts: the doctor's summary, or what to fill in on a first run."""

from __future__ import annotations

import logging

from bot.config import Settings
from bot.ops.doctor import Check, run_checks

log = logging.getLogger("bot.doctor")


def first_run_help(settings: Settings) -> str:
    """A few lines for a fresh machine: which settings to fill in, and what to try next."""
    return "\n".join(
        [
            "no platform is configured yet. In .env (every setting is explained in .env.example), set",
            "  DISCORD_TOKEN=...                      Discord: Developer Portal -> your app -> Bot",
            "  or SLACK_BOT_TOKEN=xoxb-... and SLACK_APP_TOKEN=xapp-...   Slack: your app's settings",
            f"  OLLAMA_HOST={settings.ollama_host}   where Ollama serves {settings.ollama_model}",
            "next steps:",
            "  .venv/bin/modbot chat      try the policies in a local room (needs only Ollama)",
            "  .venv/bin/modbot doctor    check every setting and service, with the fix for each problem",
        ]
    )


async def log_startup_checks(settings: Settings) -> list[Check]:
    """Run the doctor and log one line per check; the bot goes on with whatever works."""
    checks = await run_checks(settings)
    for check in checks:
        level = logging.INFO if check.ok else logging.WARNING
        log.log(level, "%s", check.line(), extra={"check": check.name, "ok": check.ok})
    failed = [c.name for c in checks if not c.ok]
    if failed:
        log.warning(
            "starting with %d failed checks (%s); `modbot doctor` shows them", len(failed), ", ".join(failed)
        )
    return checks
