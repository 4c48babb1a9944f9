"""Commands typed as text (Slack's `/modbot ...`, the console room): words to a path and arguments.

`policy enable game-cheating shadow`, `setup #mods`, `check some text here`, and named forms
(`policy scope game-cheating exclude=C1,C2`, `--days 30`) all parse the same way. The last
parameter, when it is free text, takes the rest of the line as typed.
"""

from __future__ import annotations

import io
import shlex
from dataclasses import dataclass

from bot.core.commands.model import Command


@dataclass(frozen=True, slots=True)
class Parsed:
    command: Command
    args: dict[str, str]


@dataclass(frozen=True, slots=True)
class ParseError:
    message: str


def _tokens(text: str) -> list[tuple[int, str]]:
    """Shell-like words with the offset where each starts, so a text tail keeps what was typed."""
    stream = io.StringIO(text)
    lexer = shlex.shlex(stream, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    out: list[tuple[int, str]] = []
    try:
        while True:
            start = len(text) - len(text[stream.tell() :].lstrip())
            token = lexer.get_token()
            if token is None or token == lexer.eof:
                return out
            out.append((start, token))
    except ValueError:  # an unbalanced quote: plain words
        out, offset = [], 0
        for word in text.split():
            offset = text.index(word, offset)
            out.append((offset, word))
            offset += len(word)
        return out


def parse_line(commands: dict[tuple[str, ...], Command], line: str) -> Parsed | ParseError:
    words = line.strip().split()
    if not words:
        return ParseError("no command given; `help` lists them")
    command = None
    for size in (2, 1):
        found = commands.get(tuple(w.lower() for w in words[:size]))
        if found is not None and len(words) >= size:
            command, used = found, size
            break
    if command is None:
        return ParseError(f"unknown command {words[0]!r}; `help` lists them")
    rest = line.strip()
    for _ in range(used):  # drop the path words, keep the rest exactly as typed
        rest = rest.split(None, 1)[1] if len(rest.split(None, 1)) > 1 else ""
    return _fill(command, rest)


def _fill(command: Command, rest: str) -> Parsed | ParseError:
    args: dict[str, str] = {}
    tokens = _tokens(rest)
    i = 0
    while i < len(tokens):
        start, token = tokens[i]
        name = token[2:].replace("-", "_") if token.startswith("--") else token.split("=", 1)[0]
        if token.startswith("--") and command.param(name):
            if i + 1 >= len(tokens):
                return ParseError(f"{token} needs a value")
            args[name], i = tokens[i + 1][1], i + 2
            continue
        if "=" in token and command.param(name):
            args[name] = token.split("=", 1)[1]
            i += 1
            continue
        remaining = [p for p in command.params if p.name not in args]
        if not remaining:
            return ParseError(f"too many words for `{command.usage()}`")
        param = remaining[0]
        if param.kind in ("text", "file") and param is command.params[-1]:
            args[param.name] = _unquote(rest[start:].strip())
            break
        args[param.name] = token
        i += 1
    return Parsed(command, args)


def _unquote(text: str) -> str:
    """A text typed in one pair of quotes loses them; anything else stays as typed."""
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'" and text.count(text[0]) == 2:
        return text[1:-1]
    return text
