"""The command set: find a command, check who may run it, convert its arguments, run it.

Every adapter (Discord, Slack, the console room, `modbot admin`) goes through `run`, so the
permission check and the audit of a refusal happen here and nowhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

from bot.core.commands import case_cmds, policy_read, policy_write, setup_cmds
from bot.core.commands.context import CommandContext, Services
from bot.core.commands.model import Command, Param, Reply, Table, Value
from bot.core.commands.values import ArgError, convert
from bot.core.ports import Actor
from bot.core.vocab import ROLE_RANK, Role

log = logging.getLogger(__name__)


async def _help(ctx: CommandContext, _args: Mapping[str, object]) -> Reply:
    raise AssertionError("help is answered by the command set itself")  # pragma: no cover


HELP = Command(("help",), "member", "what you can run here", _help)
CATALOGUE: tuple[Command, ...] = (
    HELP,
    *setup_cmds.COMMANDS,
    *policy_read.COMMANDS,
    *policy_write.COMMANDS,
    *case_cmds.COMMANDS,
)


class CommandSet:
    def __init__(self, services: Services) -> None:
        self.services = services
        self.commands: dict[tuple[str, ...], Command] = {c.path: c for c in CATALOGUE}

    def find(self, path: Sequence[str]) -> Command | None:
        return self.commands.get(tuple(p.lower() for p in path))

    def visible_to(self, role: Role) -> list[Command]:
        return [c for c in self.commands.values() if ROLE_RANK[c.role] <= ROLE_RANK[role]]

    async def role(self, actor: Actor, space_id: str) -> Role:
        return await self.services.gate.role(actor, space_id)

    async def run(
        self,
        path: Sequence[str],
        actor: Actor,
        space_id: str,
        args: Mapping[str, Value],
        platform: str = "",
    ) -> Reply:
        """Run one command for `actor` in `space_id`. Never raises for anything a user can type."""
        command = self.find(path)
        if command is None:
            return Reply.fail(
                "invalid", f"unknown command {' '.join(path)!r}", "`help` lists what you can run"
            )
        decision = await self.services.gate.check(
            actor, space_id, command.role, f"command.{'.'.join(command.path)}", _target(args)
        )
        if not decision.allowed:
            return Reply.fail("refused", f"{command.name}: {decision.reason}")
        if command is HELP:
            return self._help(decision.role)
        try:
            parsed = _convert(command, args)
        except ArgError as exc:
            return Reply.fail("invalid", f"{command.name}: {exc}", f"usage: {command.usage()}")
        ctx = CommandContext(self.services, actor, decision.role, space_id, platform)
        try:
            return await command.handler(ctx, parsed)
        except Exception:
            log.exception("command %s failed in space %s", command.name, space_id)
            return Reply.fail(
                "error", f"{command.name} failed", "the error was logged for the bot's operator"
            )

    def _help(self, role: Role) -> Reply:
        rows = tuple((c.usage(), c.role, c.help) for c in self.visible_to(role))
        article = "an" if role == "admin" else "a"
        return Reply(
            True, f"modbot commands for {article} {role}", table=Table(("command", "who", "what"), rows)
        )

    async def complete(self, actor: Actor, space_id: str, prefix: str = "", limit: int = 25) -> list[str]:
        """Policy ids for autocompletion: the space's policies, then the library's. Only for those
        who may run a policy command: a member learns nothing of the server's own policies."""
        if ROLE_RANK[await self.role(actor, space_id)] < ROLE_RANK["moderator"]:
            return []
        ids = [p.policy_id for p in await self.services.store.policies.all_for(space_id)]
        ids += [i for i in await _library_ids(self.services) if i not in ids]
        wanted = prefix.strip().lower()
        return [i for i in ids if wanted in i][:limit]


async def _library_ids(services: Services) -> list[str]:
    return list(await services.library.all())


def _target(args: Mapping[str, Value]) -> str:
    for key in ("policy", "id", "case"):
        value = args.get(key)
        if isinstance(value, str):
            return value[:80]
    return ""


def _convert(command: Command, args: Mapping[str, Value]) -> dict[str, object]:
    known = {p.name: p for p in command.params}
    unknown = sorted(set(args) - set(known))
    if unknown:
        raise ArgError(f"unknown parameter(s) {', '.join(unknown)}")
    parsed: dict[str, object] = {}
    for param in command.params:
        raw = args.get(param.name)
        if raw is None or (isinstance(raw, str) and not raw.strip() and param.kind != "text"):
            if param.required:
                raise ArgError(f"{param.name} is required ({param.help})")
            continue
        parsed[param.name] = convert(param, raw)
    return parsed


def param_names(command: Command) -> tuple[str, ...]:
    return tuple(p.name for p in command.params)


__all__ = ["Command", "CommandSet", "Param", "Reply"]
