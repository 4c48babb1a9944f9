"""What `modbot run` adds around the core: the doctor's summary at startup, health and metrics.

`operations()` is the one call `modbot run` makes once the runtime exists; `first_run()` is
what `scripts/run` asks before starting the bot on a machine with an empty .env.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

from pydantic import ValidationError

from bot.config import Settings
from bot.core.service import ModerationCore
from bot.ops.doctor import Check, run_checks
from bot.ops.endpoint import OpsEndpoint, serve_ops

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


@asynccontextmanager
async def operations(
    settings: Settings,
    core: ModerationCore,
    connected: Mapping[str, Callable[[], bool]] | None = None,
) -> AsyncIterator[OpsEndpoint | None]:
    """Log the doctor's summary, then serve /healthz, /readyz, /metrics (if METRICS_PORT is set).

    `connected`: platform name -> "is its gateway / socket connected now?", for /readyz.
    """
    async with serve_ops(settings, core, connected) as endpoint:
        # The checks time a real classification: run them beside intake, never in its way.
        checks = asyncio.create_task(_checked(settings), name="startup-checks")
        try:
            yield endpoint
        finally:
            checks.cancel()
            await asyncio.gather(checks, return_exceptions=True)


async def _checked(settings: Settings) -> None:
    try:
        await log_startup_checks(settings)
    except Exception:  # a bug in a check must not take the bot down; say so
        log.exception("the startup checks failed; run `modbot doctor`")


def first_run() -> int:
    """Exit status 0 when a platform is configured; else print what to fill in, and 2."""
    try:
        settings = Settings()
    except ValidationError:
        return 0  # `modbot run` reports malformed settings itself, one line each
    if settings.discord_token.get_secret_value() or settings.slack_bot_token.get_secret_value():
        return 0
    print(f"modbot: {first_run_help(settings)}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(first_run())
