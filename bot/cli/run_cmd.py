"""`modbot run`: start the bot on the platforms whose credentials are configured."""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from bot.app import build_engine
from bot.cli.common import err
from bot.config import Settings

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="start the bot",
        description="Load and check the policies, check the model server, then serve every "
        "platform whose credentials are set (DISCORD_TOKEN, SLACK_BOT_TOKEN).",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    return asyncio.run(_run(settings))


async def _run(settings: Settings) -> int:
    async with build_engine(settings) as engine:
        policies, problems = engine.toolkit.load_policies()
        for problem in problems:
            # Lint warnings (e.g. long prompts) are advice, not faults: keep them out of the way.
            log.log(logging.INFO if problem.warning else logging.WARNING, "%s", problem)
        log.info("loaded %d policies from %s", len(policies), settings.policy_dir)
        platforms = [
            name
            for name, secret in (
                ("discord", settings.discord_token),
                ("slack", settings.slack_bot_token),
            )
            if secret.get_secret_value()
        ]
        if not platforms:
            err(
                "no platform is configured: set DISCORD_TOKEN or SLACK_BOT_TOKEN in .env "
                "(see .env.example); to try policies locally use `modbot check`"
            )
            return 2
        err(
            f"the {' and '.join(platforms)} adapter is not in this release yet; "
            "policies and models are ready (`modbot check`, `modbot policy test`)"
        )
        return 2
