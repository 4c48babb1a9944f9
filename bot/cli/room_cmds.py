"""`modbot chat` (a console room) and `modbot replay FILE` (a chat log through the pipeline)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bot.app import build_runtime, install_library
from bot.cli.common import err
from bot.cli.stall import settle_or_stall
from bot.config import Settings
from bot.core.messages import IncomingMessage
from bot.platforms.console.platform import ConsolePlatform
from bot.platforms.console.room import Room
from bot.store.records import Job

DB_HELP = "SQLite file (default: DATABASE_PATH; ':memory:' keeps nothing)"


def register(sub: Any) -> None:
    chat = sub.add_parser(
        "chat",
        help="a local chat room in the terminal: post, see flags, act, appeal",
        description="Open a console room with every policy of POLICY_DIR enabled (live) and "
        "the configured model. Type /help inside for commands.",
    )
    chat.add_argument("--db", default=None, help=DB_HELP)
    chat.set_defaults(handler=chat_run)

    replay = sub.add_parser(
        "replay",
        help="push a JSONL chat log through the pipeline and print a summary",
        description='Each line: {"text": ..., "author": ..., "channel": ..., "space": ...,'
        ' "id": ...} (only text is required). Every policy of POLICY_DIR is enabled in every '
        "space, in --mode.",
    )
    replay.add_argument("file", type=Path)
    replay.add_argument("--db", default=None, help=DB_HELP)
    replay.add_argument("--mode", choices=["live", "shadow"], default="live")
    replay.add_argument("--json", action="store_true", help="print the summary as JSON")
    replay.set_defaults(handler=replay_run)


async def _stdin_lines() -> AsyncIterator[str]:
    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:
            return
        yield line


def chat_run(args: argparse.Namespace, settings: Settings) -> int:
    reconfigure = getattr(sys.stdin, "reconfigure", None)
    if reconfigure is not None:
        # A terminal can send bytes that are not UTF-8: one bad line must not end the room.
        reconfigure(errors="replace")

    def write(text: str) -> None:
        print(text, flush=True)

    async def main() -> None:
        platform = ConsolePlatform(write)
        async with build_runtime(settings, {"console": platform}, _db(args, settings)) as runtime:
            installed = await install_library(runtime, "console")
            write(f"policies enabled: {', '.join(installed) or 'none (check POLICY_DIR)'}")
            await Room(runtime.core, platform, write).run(_stdin_lines())

    asyncio.run(main())
    return 0


def _db(args: argparse.Namespace, settings: Settings) -> str:
    return str(args.db if args.db is not None else settings.database)


def _read_log(path: Path) -> list[IncomingMessage]:
    messages = []
    with path.open("rb") as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise ValueError(f"{path}:{n}: not UTF-8 text (byte {raw[exc.start]:#04x} at column "
                                 f"{exc.start + 1}); save the log as UTF-8") from None  # fmt: skip
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                text = row["text"]
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f'{path}:{n}: each line needs a JSON object with "text" ({exc})') from None
            if not isinstance(text, str):
                raise ValueError(f'{path}:{n}: "text" must be a string, not {json.dumps(text)}')
            messages.append(IncomingMessage(
                platform="console", space_id=str(row.get("space", "replay")),
                channel_id=str(row.get("channel", "general")), message_id=str(row.get("id", n)),
                author_id=str(row.get("author", "member")), author_name=str(row.get("author", "member")),
                text=text, channel_name=str(row.get("channel", "general")),
            ))  # fmt: skip
    return messages


def replay_run(args: argparse.Namespace, settings: Settings) -> int:
    try:
        messages = _read_log(args.file)
    except (OSError, ValueError) as exc:
        err(str(exc))
        return 2
    summary = asyncio.run(_replay(settings, messages, args))
    if summary["unreachable"]:
        _say_unreachable(settings, args, summary)
    if args.json:
        print(json.dumps(summary, indent=2))
    else:
        print(
            f"messages {summary['messages']}  candidates {summary['candidates']}  "
            f"model calls {summary['model_calls']}  cache hits {summary['cache_hits']}  "
            f"duplicates ignored {summary['duplicates']}"
        )
        print(f"flags {summary['flags']}  no answer {summary['no_answer']}")
        for policy_id, n in sorted(summary["flags_per_policy"].items()):
            print(f"  {policy_id:<24} {n}")
    return 3 if summary["unreachable"] else 0


def _say_unreachable(settings: Settings, args: argparse.Namespace, summary: dict[str, Any]) -> None:
    err(
        f"the model stopped answering ({summary['unreachable']}); is it running? "
        f"(OLLAMA_HOST={settings.ollama_host})"
    )
    if _db(args, settings) == ":memory:":
        err(f"{summary['queued']} classification(s) were queued in memory and are lost: "
            "use --db FILE (or DATABASE_PATH) to keep them")  # fmt: skip
    else:
        err(f"{summary['queued']} classification(s) are kept in {_db(args, settings)}: run the same "
            "command again when the model is up; queued work resumes and nothing is sent twice")  # fmt: skip


def _patience_s(settings: Settings) -> float:
    # Long enough for one call to time out and be retried; a refused connection is seen sooner.
    slowest = max(settings.ollama_timeout_s, settings.escalation_timeout_s if settings.has_tier2 else 0.0)
    return slowest + 2.0


async def _replay(
    settings: Settings, messages: list[IncomingMessage], args: argparse.Namespace
) -> dict[str, Any]:
    lines: list[str] = []
    platform = ConsolePlatform(lines.append)
    async with build_runtime(settings, {"console": platform}, _db(args, settings)) as runtime:
        core = runtime.core
        for space in sorted({m.space_id for m in messages}):
            await core.ensure_space(space, "console", space, mod_channel_id="mod-queue")
            await install_library(runtime, space, mode=args.mode)
        for msg in tqdm(messages, desc="replay", unit="msg", leave=False):
            await core.submit(msg)
        finished = await settle_or_stall(core, _patience_s(settings))
        pending = [] if finished else await runtime.store.inbox.pending()
        flags: Counter[str] = Counter()
        for space in {m.space_id for m in messages}:
            for case in await runtime.store.cases.list(space, limit=100_000):
                flags[case.policy_id] += 1
        stats = core.pipeline.stats
        counts = await runtime.store.inbox.counts()
    return {
        "messages": len(messages), "candidates": stats.candidates, "duplicates": stats.duplicates,
        "model_calls": stats.model_calls, "cache_hits": stats.cache_hits,
        "flags": sum(flags.values()), "flags_per_policy": dict(flags),
        "no_answer": counts.get("failed", 0) + counts.get("pending", 0),
        "queued": counts.get("pending", 0) + counts.get("leased", 0),
        "unreachable": None if finished else _last_error(pending),
    }  # fmt: skip


def _last_error(pending: list[Job]) -> str:
    errors = [job.last_error for job in pending if job.last_error]
    return errors[-1][:200] if errors else "no answer"
