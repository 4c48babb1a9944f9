"""The shapes of the command set: parameters, commands, and the one reply every command returns.

Adapters read these to build their own input (Discord options, Slack text, a terminal line)
and to render the reply; the handlers never see a platform.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from bot.core.vocab import Role

if TYPE_CHECKING:
    from bot.core.commands.context import CommandContext

ParamKind = Literal[
    "policy",  # a policy id; completed from the library and the space's policies
    "text",  # free text
    "file",  # a YAML file's text (an upload, an attachment, a path on the CLI)
    "mode",  # live | shadow | off
    "channel",  # one channel id
    "channels",  # channel ids, separated by spaces or commas
    "role",  # a role (Discord) or user group (Slack) id
    "version",  # a policy version number
    "days",  # a number of days
    "limit",  # how many rows
    "case",  # a case id
    "status",  # a case status
]

ReplyCode = Literal["ok", "refused", "invalid", "not_found", "unavailable", "error"]


@dataclass(frozen=True, slots=True)
class Upload:
    """A file parameter's value: its name (for error lines) and its text."""

    name: str
    text: str


Value = str | Upload
Args = Mapping[str, Any]  # parsed values: str, int, tuple[str, ...] or Upload


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: ParamKind
    help: str
    required: bool = False
    choices: tuple[str, ...] = ()  # fixed choices (modes, statuses), for menus and checking


@dataclass(frozen=True, slots=True)
class Table:
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    def as_text(self) -> str:
        cells = [self.headers, *self.rows]
        widths = [max(len(row[i]) for row in cells) for i in range(len(self.headers))]
        lines = ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells]
        return "\n".join(lines)


@dataclass(frozen=True, slots=True)
class ReplyFile:
    name: str
    text: str


@dataclass(frozen=True, slots=True)
class Reply:
    """What every command and button returns: never an exception for a user's mistake."""

    ok: bool
    title: str
    lines: tuple[str, ...] = ()
    fields: tuple[tuple[str, str], ...] = ()
    table: Table | None = None
    file: ReplyFile | None = None
    private: bool = True  # only the caller sees it (Discord ephemeral, Slack ephemeral)
    code: ReplyCode = "ok"

    @classmethod
    def fail(cls, code: ReplyCode, title: str, *lines: str) -> Reply:
        return cls(False, title, tuple(lines), code=code)

    def as_text(self) -> str:
        """Plain text, for the console, the CLI, and platforms' fallback text."""
        out = [self.title]
        out += [f"{name}: {value}" for name, value in self.fields]
        out += list(self.lines)
        if self.table is not None:
            out.append(self.table.as_text())
        if self.file is not None:
            out.append(f"--- {self.file.name}\n{self.file.text.rstrip()}")
        return "\n".join(out)

    def as_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False, indent=2)


Handler = Callable[["CommandContext", Args], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class Command:
    path: tuple[str, ...]
    role: Role
    help: str
    handler: Handler = field(repr=False, compare=False)
    params: tuple[Param, ...] = ()
    slow: bool = False  # may take longer than a platform's 3 s: adapters defer first

    @property
    def name(self) -> str:
        return " ".join(self.path)

    def param(self, name: str) -> Param | None:
        return next((p for p in self.params if p.name == name), None)

    def usage(self) -> str:
        parts = [self.name]
        parts += [f"<{p.name}>" if p.required else f"[{p.name}]" for p in self.params]
        return " ".join(parts)
