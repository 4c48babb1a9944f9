"""`modbot check`: classify text against one policy, one JSON verdict per line."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any

from bot.app import build_engine
from bot.cli.common import CliError, err, find_policy
from bot.config import Settings
from bot.core.classifier.base import ClassifyRequest
from bot.core.messages import Verdict
from bot.core.prefilter import PreparedText
from bot.core.text import valid_text


def register(sub: Any) -> None:
    p = sub.add_parser(
        "check",
        help="classify text against a policy (one JSON verdict per input line)",
        description="Classify TEXT, or each line of standard input with '-', against one "
        "policy. Prints one JSON object per input. Exit 0 when every input got a verdict, "
        "3 when the model gave no usable answer for some.",
    )
    p.add_argument("--policy", required=True, metavar="ID|FILE", help="policy id or YAML file")
    p.add_argument("text", nargs="?", default="-", metavar="TEXT|-", help="text, or - for stdin")
    p.add_argument("--author", default="member", help="author name shown to the model")
    p.add_argument("--escalate", action="store_true", help="also ask tier 2 (if configured)")
    p.add_argument(
        "--as-live",
        action="store_true",
        help="behave like the live bot: texts the prefilter does not select are not sent",
    )
    p.add_argument("--no-reasoning", action="store_true", help="leave the reasoning out")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace, settings: Settings) -> int:
    lines = sys.stdin.read().splitlines() if args.text == "-" else [args.text]
    # argv and stdin may carry undecodable bytes (as lone surrogates): valid text from here on.
    lines = [valid_text(line) for line in lines if line.strip()]
    if not lines:
        err("nothing to check: pass TEXT or pipe lines into `modbot check --policy ID -`")
        return 2
    try:
        return asyncio.run(_check(args, settings, lines))
    except CliError as exc:
        err(str(exc))
        return 2


async def _check(args: argparse.Namespace, settings: Settings, lines: list[str]) -> int:
    missing = 0
    async with build_engine(settings) as engine:
        policy = find_policy(engine.toolkit, args.policy)
        for i, text in enumerate(lines):
            match = policy.prefilter.match(PreparedText.of(text), sample_key=str(i))
            out: dict[str, Any] = {
                "text": text,
                "policy": policy.id,
                "prefilter": match.reason if match else None,
            }
            if match is None and args.as_live:
                out.update(kind="not_selected", violation=False)
            else:
                result = await engine.classifier.classify(
                    policy, ClassifyRequest(text, author=args.author), escalate=args.escalate
                )
                if isinstance(result, Verdict):
                    out.update(result.to_dict(with_reasoning=not args.no_reasoning))
                else:
                    missing += 1
                    out.update(result.to_dict())
            print(json.dumps(out, ensure_ascii=False), flush=True)
    if missing:
        err(f"{missing} of {len(lines)} got no usable answer from the model; see 'detail'")
        return 3
    return 0
