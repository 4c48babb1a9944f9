"""`modbot chat`: type as different users, see flags as a moderator, act, appeal."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable

from bot.core.messages import ContextLine, IncomingMessage
from bot.core.ports import Actor
from bot.core.service import ModerationCore
from bot.platforms.console.platform import ConsolePlatform

HELP = """Type a message to post it as the current user. Commands:
  /as NAME              speak as NAME (mod and admin are moderator and admin; others members)
  /channel NAME         move to #NAME
  /cases                list open cases
  /remove N  /dismiss N  /timeout N  /escalate N  /example N     act on case N (moderators)
  /appeal N WHY         appeal case N (only its author)
  /uphold N  /overturn N                                          decide appeal N (moderators)
  /policies             the server's policies and modes
  /mode POLICY live|shadow|off                                    change a policy's mode (admins)
  /audit                the last audit entries
  /stats                per policy: model calls, violations, moderator-confirmed precision
  /help  /quit"""

ROLES = {"mod": Actor("mod", "mod", is_moderator=True), "admin": Actor("admin", "admin", is_admin=True)}
CASE_ACTIONS = {
    "/remove": "remove",
    "/dismiss": "dismiss",
    "/timeout": "timeout",
    "/escalate": "escalate",
    "/example": "add_example",
}


class Room:
    def __init__(
        self, core: ModerationCore, platform: ConsolePlatform, write: Callable[[str], None],
        space_id: str = "console", mod_channel: str = "mod-queue",
    ) -> None:  # fmt: skip
        self.core = core
        self.platform = platform
        self.write = write
        self.space_id = space_id
        self.mod_channel = mod_channel
        self.user = "alice"
        self.channel = "general"
        self._seq = 0

    @property
    def actor(self) -> Actor:
        return ROLES.get(self.user, Actor(self.user, self.user))

    async def run(self, lines: AsyncIterator[str]) -> None:
        await self.core.ensure_space(
            self.space_id, "console", "console room", mod_channel_id=self.mod_channel
        )
        self.write(f"modbot console room. You are {self.user} in #{self.channel}. /help for commands.")
        async for raw in lines:
            line = raw.strip()
            if not line:
                continue
            if line in ("/quit", "/exit"):
                break
            await self.handle(line)
            await self.core.settle()

    async def handle(self, line: str) -> None:
        if not line.startswith("/"):
            await self.say(line)
            return
        cmd, _, rest = line.partition(" ")
        arg, _, tail = rest.strip().partition(" ")
        if cmd == "/help":
            self.write(HELP)
        elif cmd == "/as" and arg:
            self.user = arg
            self.write(f"you are now {arg} ({self.actor.role})")
        elif cmd == "/channel" and arg:
            self.channel = arg.lstrip("#")
            self.write(f"you are now in #{self.channel}")
        elif cmd == "/cases":
            await self.list_cases()
        elif cmd in CASE_ACTIONS and arg.isdigit():
            outcome = await self.core.decide(int(arg), self.actor, CASE_ACTIONS[cmd])
            self.write(("ok: " if outcome.ok else "refused: ") + outcome.message)
        elif cmd == "/appeal" and arg.isdigit():
            result = await self.core.appeal(int(arg), self.actor, tail)
            self.write(("ok: " if result.ok else "refused: ") + result.message)
            if result.ok and result.appeal:
                self.write(f"appeal #{result.appeal.id} is pending")
        elif cmd in ("/uphold", "/overturn") and arg.isdigit():
            verdict = "upheld" if cmd == "/uphold" else "overturned"
            decided = await self.core.decide_appeal(int(arg), self.actor, verdict)
            self.write(("ok: " if decided.ok else "refused: ") + decided.message)
        elif cmd == "/policies":
            for sp in await self.core.store.policies.all_current():
                if sp.space_id == self.space_id:
                    self.write(f"  {sp.policy_id} v{sp.version} {sp.mode}")
        elif cmd == "/mode" and arg and tail:
            changed = await self.core.admin.set_mode(self.space_id, self.actor, arg, tail.strip())
            self.write(("ok: " if changed.ok else "refused: ") + changed.message)
        elif cmd == "/stats":
            await self.stats()
        elif cmd == "/audit":
            for entry in reversed(await self.core.store.audit.list(self.space_id, limit=10)):
                mark = "allowed" if entry.allowed else "REFUSED"
                self.write(f"  {entry.actor_id} ({entry.actor_role}) {entry.action} {entry.target} {mark}")
        else:
            self.write(f"unknown command {line!r}; /help lists them")

    async def say(self, text: str) -> None:
        self._seq += 1
        message_id = f"m{self._seq}"
        history = self.platform.history.setdefault(self.channel, [])
        msg = IncomingMessage(
            platform="console", space_id=self.space_id, channel_id=self.channel,
            message_id=message_id, author_id=self.user, author_name=self.user, text=text,
            channel_name=self.channel, context=tuple(history[-3:]), sent_at=time.time(),
        )  # fmt: skip
        history.append(ContextLine(self.user, text))
        self.write(f"[#{self.channel}] {self.user}: {text}")
        await self.core.submit(msg)

    async def list_cases(self) -> None:
        cases = await self.core.store.cases.list(self.space_id)
        if not cases:
            self.write("no cases")
        for case in cases:
            self.write(
                f"  #{case.id} {case.status:<10} {case.policy_id:<20} {case.author_name}: "
                f"{case.excerpt[:60]!r}"
            )

    async def stats(self) -> None:
        store = self.core.store
        for sp in await store.policies.all_current():
            if sp.space_id != self.space_id:
                continue
            calls = await store.verdicts.stats(self.space_id, sp.policy_id)
            prec = await store.cases.precision(self.space_id, sp.policy_id)
            shown = "n/a" if prec["precision"] is None else f"{prec['precision']:.0%}"
            self.write(
                f"  {sp.policy_id:<20} {sp.mode:<6} verdicts {calls['calls']:>3}  violations "
                f"{calls['violations']:>3}  confirmed {prec['confirmed']}  dismissed "
                f"{prec['dismissed']}  precision {shown}"
            )
            if self.core.screens is not None:
                self.write(f"    {(await self.core.screens.report(sp.policy_id)).line()}")
