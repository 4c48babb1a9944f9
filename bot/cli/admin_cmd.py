"""`modbot admin <command> --space ID ...`: the command catalogue from a shell, as an admin.

For servers managed by scripts: the same commands, checks and replies as on Discord and
Slack, against the database in DATABASE_PATH, with no platform connected. A refusal or an
error exits 1; bad usage exits 2.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from bot.app import build_runtime
from bot.cli.common import err
from bot.config import Settings
from bot.core.commands.catalogue import CATALOGUE
from bot.core.commands.model import Command, Reply, Upload, Value
from bot.core.ports import Actor

CLI_USER = "cli"


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _add_leaf(parser: argparse.ArgumentParser, command: Command, *, has_children: bool = False) -> None:
    # A command with subcommands (`setup`, `setup show`) checks --space itself: argparse would
    # demand it before it reads the subcommand.
    parser.add_argument("--space", required=not has_children, help="the server (guild or workspace) id")
    parser.add_argument("--platform", help="the space's platform, for a space modbot has not seen yet")
    parser.add_argument("--json", action="store_true", help="print the reply as JSON")
    parser.add_argument("--db", help="SQLite file (default: DATABASE_PATH)")
    for param in command.params:
        extra = " (a path to the file)" if param.kind == "file" else ""
        parser.add_argument(
            _flag(param.name), dest=f"param_{param.name}", required=param.required,
            choices=param.choices or None, help=param.help + extra,
        )  # fmt: skip
    parser.set_defaults(handler=admin_run, admin_command=command)


def register(sub: Any) -> None:
    admin = sub.add_parser(
        "admin",
        help="run a server command (setup, policy ..., stats) from the shell, as an admin",
        description="The command set of the Discord and Slack `/modbot` commands, run against the "
        "database as an admin. Example: modbot admin policy enable --space 123 --policy game-cheating",
    )
    groups = admin.add_subparsers(dest="admin_path", metavar="COMMAND", required=True)
    leaves = {c.path: c for c in CATALOGUE}
    parents: dict[str, argparse._SubParsersAction[argparse.ArgumentParser]] = {}
    for command in CATALOGUE:
        head = command.path[0]
        if len(command.path) == 1:
            parser = groups.add_parser(head, help=command.help, description=command.help)
            _add_leaf(parser, command, has_children=any(p[:1] == (head,) and len(p) > 1 for p in leaves))
            continue
        if head not in parents:
            top = leaves.get((head,))
            group = groups.add_parser(head, help=f"{head} commands") if top is None else None
            if group is None:  # `setup` runs alone and also has `setup show`
                group = groups.choices[head]
            parents[head] = group.add_subparsers(dest=f"admin_{head}", metavar="SUBCOMMAND",
                                                 required=top is None)  # fmt: skip
        leaf = parents[head].add_parser(command.path[1], help=command.help, description=command.help)
        _add_leaf(leaf, command)


def _read(path: str) -> Upload:
    file = Path(path)
    return Upload(file.name, file.read_text(encoding="utf-8"))


async def _args(command: Command, ns: argparse.Namespace) -> dict[str, Value]:
    args: dict[str, Value] = {}
    for param in command.params:
        value = getattr(ns, f"param_{param.name}", None)
        if value is None:
            continue
        args[param.name] = await asyncio.to_thread(_read, value) if param.kind == "file" else value
    return args


def admin_run(args: argparse.Namespace, settings: Settings) -> int:
    command: Command = args.admin_command
    if not args.space:
        err(f"admin {command.name}: --space is required (the server's id)")
        return 2
    try:
        reply = asyncio.run(_run(command, args, settings))
    except OSError as exc:
        err(f"cannot read {exc.filename}: {exc.strerror}")
        return 2
    print(reply.as_json() if args.json else reply.as_text())
    return 0 if reply.ok else 1


async def _run(command: Command, ns: argparse.Namespace, settings: Settings) -> Reply:
    values = await _args(command, ns)
    actor = Actor(CLI_USER, "command line", is_admin=True, space_id=ns.space)
    database = ns.db or settings.database
    async with build_runtime(settings, {}, database, background=False) as runtime:
        reply = await runtime.core.run_command(command.path, actor, ns.space, values, ns.platform or "")
    if not reply.ok and reply.code == "invalid" and "which platform" in reply.title:
        print("modbot: pass --platform discord|slack for a space modbot has not seen yet", file=sys.stderr)
    return reply
