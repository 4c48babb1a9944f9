"""`modbot run`: start the bot on the platforms whose credentials are configured."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
from typing import Any

from bot.app import build_runtime
from bot.cli.common import err, postgres_unreachable
from bot.config import Settings
from bot.ops.startup import operations
from bot.platforms.adapter import Adapter
from bot.store.pg import is_postgres_url

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "run",
        help="start the bot",
        description="Load and check the policies, then serve every platform whose credentials are "
        "set (DISCORD_TOKEN, SLACK_BOT_TOKEN). Stops cleanly on Ctrl-C or SIGTERM.",
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.database_url.get_secret_value().strip()
    if is_postgres_url(url) and (problem := asyncio.run(postgres_unreachable(url))):
        err(problem)
        return 2
    return asyncio.run(serve(settings))


def build_adapters(settings: Settings) -> list[Adapter]:
    """One adapter per platform with credentials; imported only when used."""
    adapters: list[Adapter] = []
    if settings.discord_token.get_secret_value():
        from bot.platforms.discord import build_adapter as discord_adapter

        adapters.append(discord_adapter(settings))
    if settings.slack_bot_token.get_secret_value():
        from bot.platforms.slack import build_adapter as slack_adapter

        adapters.append(slack_adapter(settings))
    return adapters


async def serve(settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Run until `stop` is set (or SIGINT/SIGTERM). Tests call this with their own event."""
    adapters = build_adapters(settings)
    if not adapters:
        err(
            "no platform is configured: set DISCORD_TOKEN or SLACK_BOT_TOKEN in .env "
            "(see .env.example); to try the bot locally use `modbot chat`"
        )
        return 2
    stop = stop or stop_on_signals()
    async with build_runtime(settings, {a.name: a.port for a in adapters}) as runtime:
        _log_policies(runtime.engine.toolkit.load_policies()[1])
        async with contextlib.AsyncExitStack() as stack:
            for adapter in adapters:
                await stack.enter_async_context(adapter.serving(runtime.core))
                log.info("%s adapter is serving", adapter.name)
            # The doctor's summary in the log, and /healthz /readyz /metrics when METRICS_PORT is set.
            connected = {a.name: a.connected for a in adapters}
            await stack.enter_async_context(operations(settings, runtime.core, connected))
            await stop.wait()
            log.info("stopping")
    return 0


def _log_policies(problems: list[Any]) -> None:
    for problem in problems:
        # Lint warnings (e.g. long prompts) are advice, not faults: keep them out of the way.
        log.log(logging.INFO if problem.warning else logging.WARNING, "%s", problem)


def stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on every platform
            loop.add_signal_handler(sig, stop.set)
    return stop
