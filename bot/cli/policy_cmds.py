"""`modbot policy lint` and `modbot policy test`."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.app import build_engine, build_toolkit
from bot.cli.common import CliError, err, find_policy
from bot.config import Settings
from bot.core.classifier.base import ClassifyRequest
from bot.core.evaluate import Confusion
from bot.core.messages import Verdict
from bot.core.policies import authored_text, expand_paths


def register(sub: Any) -> None:
    policy = sub.add_parser("policy", help="lint and test policy files")
    psub = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)

    lint = psub.add_parser(
        "lint",
        help="validate policy files (one line per problem: file:line: field: message)",
        description="Validate policy YAML files. Exit 0 when all are valid, 1 otherwise.",
    )
    lint.add_argument("paths", nargs="*", type=Path, help="files or folders (default POLICY_DIR)")
    lint.add_argument("-q", "--quiet", action="store_true", help="print problems only")
    lint.set_defaults(handler=lint_run)

    test = psub.add_parser(
        "test",
        help="run a policy's examples against the live model and print a confusion table",
        description="Classify every example of the policy with the configured model. "
        "Exit 1 when accuracy is below --threshold, 3 when the model gave no answer.",
    )
    test.add_argument("policy", metavar="ID|FILE")
    test.add_argument("--threshold", type=float, default=0.8, help="minimum accuracy (0.8)")
    test.add_argument("--escalate", action="store_true", help="also ask tier 2 (if configured)")
    test.set_defaults(handler=test_run)


def lint_run(args: argparse.Namespace, settings: Settings) -> int:
    toolkit = build_toolkit(settings)
    paths = args.paths or [settings.policy_dir]
    missing = [p for p in paths if not p.exists()]
    for p in missing:
        print(f"{p}:1: (file): no such file or folder", file=sys.stderr)
    files = expand_paths([p for p in paths if p.exists()])
    if not files and not missing:
        err(f"no .yaml files in {', '.join(map(str, paths))}")
        return 1
    policies, problems = toolkit.load_policies(files)
    for problem in problems:
        print(problem, file=sys.stderr if not problem.warning else sys.stdout)
    errors = [p for p in problems if not p.warning]
    if not args.quiet:
        for policy in policies.values():
            authored = toolkit.tokens.count(authored_text(policy.spec))
            print(
                f"ok {policy.source}: {policy.id} v{policy.version}, {authored} tokens of policy text "
                f"({policy.prompt_tokens} with modbot's framing), {len(policy.spec.examples)} examples"
            )
        bad_files = len({p.file for p in errors})
        print(f"{len(policies)} valid, {bad_files + len(missing)} broken")
    return 1 if errors or missing else 0


def test_run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        return asyncio.run(_test(args, settings))
    except CliError as exc:
        err(str(exc))
        return 2


async def _test(args: argparse.Namespace, settings: Settings) -> int:
    async with build_engine(settings) as engine:
        policy = find_policy(engine.toolkit, args.policy)
        if not policy.spec.examples:
            raise CliError(f"policy {policy.id} has no examples to test")
        confusion = Confusion()
        for ex in policy.spec.examples:
            expected = ex.label == "violation"
            result = await engine.classifier.classify(
                policy, ClassifyRequest(ex.text), escalate=args.escalate
            )
            predicted = result.violation if isinstance(result, Verdict) else None
            confusion.add(expected, predicted)
            mark = "ok  " if predicted == expected else ("n/a " if predicted is None else "MISS")
            got = {True: "violation", False: "allowed", None: "no answer"}[predicted]
            line = f"{mark} expected {ex.label:<9} got {got:<9} {ex.text[:70]!r}"
            if isinstance(result, Verdict) and predicted != expected:
                line += f"\n       model: {result.rationale}"
            elif not isinstance(result, Verdict):
                line += f"\n       {result.reason}: {result.detail}"
            print(line)
    print(f"\n{policy.id} v{policy.version} against {engine.classifier.tier1.model}")
    print(confusion.table())
    print(
        f"accuracy {confusion.accuracy:.2f}  precision {confusion.precision:.2f}  "
        f"recall {confusion.recall:.2f}  (threshold {args.threshold:.2f})"
    )
    if confusion.unavailable:
        err(
            f"{confusion.unavailable} example(s) got no answer: is the model running? "
            f"(OLLAMA_HOST={settings.ollama_host})"
        )
        return 3
    return 0 if confusion.accuracy >= args.threshold else 1
