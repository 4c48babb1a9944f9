"""`modbot` command line: run the bot, and work on policies without Discord or Slack."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from pydantic import ValidationError

from bot.cli import admin_cmd, check_cmd, eval_cmd, policy_cmds, room_cmds, run_cmd, worker_cmd
from bot.config import Settings
from bot.core.redact import RedactFilter, redact
from bot.ops import doctor_cmd
from bot.ops.logs import setup_logging
from bot.store.faults import StorageFault, explain

EPILOG = """examples:
  modbot doctor                  # is everything set up? one line per check, with its fix
  modbot policy lint community_policies/*.yaml
  modbot check --policy game-cheating "selling aimbot, dm me"
  modbot policy test scams-phishing
  modbot eval --policy spam-self-promotion --data sms.tsv --text-field 1 --label-field 0
  modbot admin setup --space 123 --mod-channel 456 --platform discord
  modbot admin policy enable --space 123 --policy game-cheating
  modbot worker                  # lend a GPU to a deployment on Postgres (DATABASE_URL)

settings come from the environment or .env (see .env.example)."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modbot",
        description="Policy-driven moderation with gpt-oss-safeguard.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    run_cmd.register(sub)
    worker_cmd.register(sub)
    doctor_cmd.register(sub)
    check_cmd.register(sub)
    policy_cmds.register(sub)
    eval_cmd.register(sub)
    room_cmds.register(sub)
    admin_cmd.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as exc:
        if args.command == "doctor":  # the doctor reports them as failed checks
            return doctor_cmd.settings_failed(exc)
        for err in exc.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "?"
            print(f"modbot: setting {name}: {err['msg']} (see .env.example)", file=sys.stderr)
        return 2
    _configure_logging(settings, verbose=args.verbose)
    try:
        setup_logging(settings, verbose=args.verbose)  # LOG_FORMAT=json, quiet library loggers
        code: int = args.handler(args, settings)
    except KeyboardInterrupt:
        print("modbot: interrupted", file=sys.stderr)
        return 130
    except StorageFault as exc:
        database = getattr(args, "db", None) or settings.database
        print(f"modbot: {redact(explain(exc, str(database)), settings.secret_values())}", file=sys.stderr)
        return 2
    return code


def _configure_logging(settings: Settings, *, verbose: bool) -> None:
    """The stderr handler; `setup_logging` then gives it modbot's formatter, which redacts every
    line, and sets the library loggers' levels (aiosqlite never below INFO)."""
    level = logging.DEBUG if verbose else getattr(logging, settings.log_level)
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=[logging.StreamHandler(sys.stderr)],
    )
    # httpx logs every request URL (a key in ESCALATION_URL would be in it): redact it at the
    # source as well, so a handler someone else attaches sees the masked text too.
    httpx_log = logging.getLogger("httpx")
    for old in [f for f in httpx_log.filters if isinstance(f, RedactFilter)]:
        httpx_log.removeFilter(old)
    httpx_log.addFilter(RedactFilter(settings.secret_values()))
