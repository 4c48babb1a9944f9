"""Run every check in order; a check that crashes becomes a failed line, never a traceback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from typing import TypeVar

import httpx

from bot.app import Engine, Toolkit, build_engine
from bot.config import Settings
from bot.core.policies import Policy, PolicyError, parse_policy
from bot.core.tokens import EncodingUnavailableError
from bot.ops.doctor.database_check import StoredSetup, check_database
from bot.ops.doctor.discord_check import check_discord
from bot.ops.doctor.endpoint_checks import check_endpoints, pool_facts
from bot.ops.doctor.model_checks import check_classification, check_escalation
from bot.ops.doctor.ollama_check import check_context, probe
from bot.ops.doctor.result import Check, fail, skip
from bot.ops.doctor.settings_check import check_policies, check_settings
from bot.ops.doctor.slack_check import check_slack
from bot.store import SpacePolicy

log = logging.getLogger(__name__)
T = TypeVar("T")
BUG_FIX = "unexpected: run `modbot -v doctor` and report the output"


async def _guard(name: str, work: Awaitable[T]) -> T | Check:
    try:
        return await work
    except (httpx.HTTPError, ValueError, KeyError, OSError) as exc:
        log.debug("doctor check %s failed", name, exc_info=True)
        return fail(name, f"{exc.__class__.__name__}: {exc}", BUG_FIX)


async def run_checks(settings: Settings, *, classify: bool = True) -> list[Check]:
    """Every check, in the order a volunteer would fix things."""
    checks = check_settings(settings)
    try:
        async with build_engine(settings) as engine:
            return checks + await _with_engine(settings, engine, classify)
    except EncodingUnavailableError as exc:  # only loading the tokenizer raises this
        return [*checks, fail("settings.tokenizer", str(exc), "reinstall modbot (`bash scripts/setup`)")]


async def _with_engine(settings: Settings, engine: Engine, classify: bool) -> list[Check]:
    policies, problems = await asyncio.to_thread(engine.toolkit.load_policies)
    checks = [check_policies(policies, problems, str(settings.policy_dir))]

    db = await _guard("database", check_database(settings))
    setup = StoredSetup()
    if isinstance(db, Check):
        checks.append(db)
    else:
        checks.append(db[0])
        setup = db[1]
    # The context must hold the longest policy in use: the library's and the spaces' own.
    in_use = {**policies, **_compile_enabled(engine.toolkit, setup.enabled)}

    pools = engine.classifier.pools()
    for pool in pools:
        checks += await check_endpoints(pool)
    tier1_pool = next((p for p in pools if p.tier == 1), None)
    probed = await _guard("ollama", probe(settings)) if tier1_pool is None else pool_facts(tier1_pool)
    if isinstance(probed, Check):
        checks.append(probed)
    else:
        facts, found = probed
        checks += found
        checks.append(check_context(settings, in_use, facts))
        if not classify:
            checks.append(skip("model.classify", "not asked for"))
        elif facts.model_found:
            checks.append(await _single("model.classify", check_classification(engine.classifier, policies)))
        else:
            checks.append(skip("model.classify", "Ollama or the model is not ready"))

    checks.append(await _single("escalation", check_escalation(settings)))
    for result in (
        await _guard("discord", check_discord(settings, setup.spaces)),
        await _guard("slack", check_slack(settings)),
    ):
        checks += [result] if isinstance(result, Check) else result
    return checks


def _compile_enabled(toolkit: Toolkit, rows: list[SpacePolicy]) -> dict[str, Policy]:
    compiled: dict[str, Policy] = {}
    for row in rows:
        try:
            policy = parse_policy(
                row.yaml_text, f"{row.space_id}:{row.policy_id}", toolkit.tokens.count, toolkit.limits
            )
        except PolicyError:
            continue  # the bot skips and logs it too; the policy checks are about POLICY_DIR
        compiled[f"{row.space_id}:{row.policy_id}"] = policy
    return compiled


async def _single(name: str, work: Awaitable[Check]) -> Check:
    return await _guard(name, work)
