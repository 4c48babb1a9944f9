"""`modbot chat`: a local room in the terminal, the whole core with no Discord or Slack.

Plain lines are messages from the current user. `/as` and `/channel` belong to the room;
case buttons and appeals call the core's entry points; every other `/command` is the core's
command catalogue (`/policy list`, `/setup show`, `/check ...`), so the room decides nothing.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from bot.core.commands.model import Reply, Upload, Value
from bot.core.commands.text import ParseError, parse_line
from bot.core.messages import ContextLine, IncomingMessage
from bot.core.ports import Actor
from bot.core.service import ModerationCore
from bot.platforms.console.platform import ConsolePlatform

ROOM_HELP = """Type a message to post it as the current user. Room commands:
  /as NAME              speak as NAME (mod and admin are moderator and admin; others members)
  /channel NAME         move to #NAME
  /remove N  /dismiss N  /timeout N  /escalate N  /example N  /reasoning N   case buttons
  /appeal N WHY         appeal case N (only its author)
  /uphold N  /overturn N                                          decide appeal N
  /quit
Everything else is the command set (try /help): /setup show, /policy list, /check TEXT, ..."""

BUTTONS = {"/remove": "remove", "/dismiss": "dismiss", "/timeout": "timeout", "/escalate": "escalate",
           "/example": "add_example"}  # fmt: skip
MENTION = re.compile(r"<([@#])([^>|]+)(?:\|[^>]*)?>")
CONTEXT_LINES = 20  # the most any policy asks for; the core takes what each policy wants


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
        # The console's "platform facts": mod manages messages, admin manages the server.
        return Actor(self.user, self.user, is_moderator=self.user == "mod", is_admin=self.user == "admin",
                     space_id=self.space_id)  # fmt: skip

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
        if cmd == "/as" and arg:
            self.user = arg
            self.write(f"you are now {arg} ({await self.core.commands.role(self.actor, self.space_id)})")
        elif cmd == "/channel" and arg:
            self.channel = arg.lstrip("#")
            self.write(f"you are now in #{self.channel}")
        elif cmd in BUTTONS or cmd in ("/appeal", "/uphold", "/overturn", "/reasoning"):
            await self.button(cmd, arg, tail)
        elif cmd == "/help" and not arg:
            self.write(ROOM_HELP)
            await self.command("help")
        else:
            await self.command(line[1:])

    async def button(self, cmd: str, arg: str, tail: str) -> None:
        number = arg.lstrip("#")
        if not (number.isascii() and number.isdigit()) or len(number) > 15:
            self.write(f"refused: {cmd} takes a case or appeal number, like {cmd} 3")
            return
        n = int(number)
        if cmd in BUTTONS:
            outcome = await self.core.decide(n, self.actor, BUTTONS[cmd])
            self.write(("ok: " if outcome.ok else "refused: ") + outcome.message)
        elif cmd == "/reasoning":
            self.show(await self.core.reasoning(n, self.actor))
        elif cmd == "/appeal":
            result = await self.core.appeal(n, self.actor, tail)
            self.write(("ok: " if result.ok else "refused: ") + result.message)
            if result.ok and result.appeal:
                self.write(f"appeal #{result.appeal.id} is pending")
        else:
            verdict = "upheld" if cmd == "/uphold" else "overturned"
            decided = await self.core.decide_appeal(n, self.actor, verdict)
            self.write(("ok: " if decided.ok else "refused: ") + decided.message)

    async def command(self, text: str) -> None:
        parsed = parse_line(self.core.commands.commands, text)
        if isinstance(parsed, ParseError):
            self.write(f"refused: {parsed.message}")
            return
        args: dict[str, Value] = dict(parsed.args)
        for param in parsed.command.params:
            value = args.get(param.name)
            if param.kind == "file" and isinstance(value, str):
                path = Path(value)  # the console is local: a file parameter is a path
                try:
                    text = await asyncio.to_thread(path.read_text, encoding="utf-8", errors="replace")
                except OSError as exc:
                    self.write(f"refused: cannot read {value!r}: {exc.strerror or exc}")
                    return
                args[param.name] = Upload(path.name, text)
        self.show(
            await self.core.run_command(parsed.command.path, self.actor, self.space_id, args, "console")
        )

    def show(self, reply: Reply) -> None:
        # Replies mention people and channels as Discord and Slack do (<@id>, <#id>).
        text = MENTION.sub(lambda m: ("@" if m[1] == "@" else "#") + m[2], reply.as_text())
        self.write(("" if reply.ok else "refused: ") + text)

    async def say(self, text: str) -> None:
        self._seq += 1
        message_id = f"m{self._seq}"
        history = self.platform.history.setdefault(self.channel, [])
        msg = IncomingMessage(
            platform="console", space_id=self.space_id, channel_id=self.channel,
            message_id=message_id, author_id=self.user, author_name=self.user, text=text,
            channel_name=self.channel, context=tuple(history[-CONTEXT_LINES:]), sent_at=time.time(),
        )  # fmt: skip
        history.append(ContextLine(self.user, text))
        self.write(f"[#{self.channel}] {self.user}: {text}")
        await self.core.submit(msg)
