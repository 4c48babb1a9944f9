"""`modbot doctor` (registered in bot/cli): check settings, servers, database and platforms, with fixes."""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from pydantic import ValidationError

from bot.config import Settings
from bot.ops.doctor import Check, exit_code, invalid_settings, run_checks


def register(sub: Any) -> None:
    p = sub.add_parser(
        "doctor",
        help="check that everything the bot needs works, and how to fix what does not",
        description="One line per check (settings, Ollama and the model, one real classification, "
        "the escalation server, the database, Discord, Slack), with the fix for each failure. "
        "Exit status 0 only when every check passes.",
    )
    p.add_argument("--no-classify", action="store_true", help="skip the test classification")
    p.set_defaults(handler=run)


def print_checks(checks: list[Check]) -> int:
    for check in checks:
        print(check.line())
    counts = {status: sum(c.status == status for c in checks) for status in ("ok", "skip", "fail")}
    print(f"doctor: {counts['ok']} ok, {counts['skip']} skipped, {counts['fail']} failed")
    return exit_code(checks)


def settings_failed(exc: ValidationError) -> int:
    """Settings that do not parse, in the doctor's format (main() calls this for `doctor`)."""
    return print_checks(invalid_settings(exc))


def run(args: argparse.Namespace, settings: Settings) -> int:
    return print_checks(asyncio.run(run_checks(settings, classify=not args.no_classify)))
