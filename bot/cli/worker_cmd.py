"""`modbot worker`: lend a GPU to a modbot deployment without exposing its model server.

A donor runs it beside their own Ollama. It connects out to the deployment's Postgres, registers
as a worker (advisory lock and heartbeat, as every `modbot run` process does), claims jobs from
the shared queue and classifies them on the local model, writing verdict, case and outbox rows in
the same fenced transaction as `modbot run`. It serves no platform and delivers nothing: the
`modbot run` processes post the cards. Built by the one factory with ``role="worker"``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

from bot.app import build_runtime
from bot.cli.common import err, postgres_unreachable
from bot.cli.run_cmd import stop_on_signals
from bot.config import Settings
from bot.core.service import ModerationCore
from bot.ops.endpoint import serve_ops
from bot.store.pg import is_postgres_url

log = logging.getLogger(__name__)

DESCRIPTION = """\
Lend this machine's GPU to a modbot deployment. The worker connects OUT to the deployment's
PostgreSQL (DATABASE_URL=postgresql://...), claims messages waiting to be checked, classifies
them with the model on this machine (OLLAMA_HOST, default http://127.0.0.1:11434, or the
servers listed in MODEL_ENDPOINTS) and writes the verdicts back. Your Ollama stays on
localhost: nothing connects in. The deployment's `modbot run` processes post the flag cards.

needs: DATABASE_URL (from the deployment's operator), Ollama with the model pulled
(`ollama pull gpt-oss-safeguard:20b`), OLLAMA_SLOTS = the server's OLLAMA_NUM_PARALLEL.
Stops cleanly on Ctrl-C or SIGTERM: a message being checked is finished or handed back."""

NO_POSTGRES = (
    "`modbot worker` needs the deployment's PostgreSQL: set DATABASE_URL=postgresql://user:password@host/db "
    "(a worker on SQLite would share nothing with the bot)"
)


def register(sub: Any) -> None:
    p = sub.add_parser(
        "worker",
        help="lend a GPU: classify a Postgres deployment's queue with the local model",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    url = settings.database_url.get_secret_value().strip()
    if not is_postgres_url(url):
        err(NO_POSTGRES)
        return 2
    problem = asyncio.run(postgres_unreachable(url))
    if problem:
        err(problem)
        return 2
    return asyncio.run(serve_worker(settings))


async def serve_worker(settings: Settings, stop: asyncio.Event | None = None) -> int:
    """Classify until `stop` is set (or SIGINT/SIGTERM); leases held at that moment go back."""
    stop = stop or stop_on_signals()
    async with build_runtime(settings, {}, role="worker") as runtime:
        _log_serving(runtime.core)
        # /healthz /readyz /metrics when METRICS_PORT is set; ready while an endpoint has the model.
        async with serve_ops(settings, runtime.core):
            await stop.wait()
            log.info("stopping: jobs in flight go back to the queue")
    return 0


def _log_serving(core: ModerationCore) -> None:
    classifier = core.classifier
    pools = classifier.pools()
    for pool in pools:
        for e in pool.endpoints:
            log.info("worker %s serves tier %d on %s (%s, %d slots); probing it for the model",
                     core.worker_id, pool.tier, e.name, e.client.model, e.slots,
                     extra={"endpoint": e.name, "worker_id": core.worker_id})  # fmt: skip
    if classifier.tier2 is None:
        log.info("no tier-2 model here (ESCALATION_URL or a MODEL_ENDPOINTS tier=120b entry): "
                 "appeals, Escalate and what a policy sends to the 120b (unsure or severe answers) "
                 "are left to the `modbot run` processes that have it")  # fmt: skip
