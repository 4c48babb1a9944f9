"""Parameter values as they enter: checked and converted once, refused in plain words.

Ids, numbers and vocabularies are validated here, so a hostile or careless value
(`case 99999999999999999999999`, `²`, `LIVE `) becomes a refusal, never an exception.
"""

from __future__ import annotations

import re
from typing import Any

from bot.core.commands.model import Param, Upload, Value
from bot.core.text import valid_text
from bot.core.vocab import CASE_STATUSES, POLICY_MODES, pick

POLICY_ID = re.compile(r"[a-z0-9][a-z0-9_-]{0,63}")
PLATFORM_ID = re.compile(r"[A-Za-z0-9_.:-]{1,80}")
MAX_TEXT = 40_000  # Slack's message limit; Discord's is smaller
MAX_FILE = 256 * 1024  # a policy file; the loader refuses larger ones as well
# name: (smallest, largest)
BOUNDS = {"version": (1, 1_000_000), "days": (1, 365), "limit": (1, 500), "case": (1, 2**53)}


class ArgError(ValueError):
    """A parameter's value is not acceptable; the message says what is."""


def _whole_number(param: Param, raw: str) -> int:
    low, high = BOUNDS[param.kind]
    text = raw.strip().lstrip("#")
    # isdigit() accepts "²" and other digits int() refuses; only ASCII digits are numbers here.
    if not text.isascii() or not text.isdigit() or len(text) > 16:
        raise ArgError(f"{param.name} must be a whole number from {low} to {high}, not {raw!r}")
    value = int(text)
    if not low <= value <= high:
        raise ArgError(f"{param.name} must be from {low} to {high}, not {value}")
    return value


def _platform_id(param: Param, raw: str) -> str:
    text = raw.strip()
    if not PLATFORM_ID.fullmatch(text):
        raise ArgError(f"{param.name} must be a {param.kind} id (letters, digits, . _ : -), not {raw!r}")
    return text


def convert(param: Param, raw: Value) -> Any:
    """The parameter's value in its type; ArgError when it is not acceptable."""
    if param.kind == "file":
        upload = raw if isinstance(raw, Upload) else Upload("upload.yaml", raw)
        upload = Upload(valid_text(upload.name), valid_text(upload.text))
        if len(upload.text.encode("utf-8", "surrogatepass")) > MAX_FILE:
            raise ArgError(f"{param.name} is over {MAX_FILE // 1024} KB; a policy file is a few KB")
        return upload
    if isinstance(raw, Upload):
        raise ArgError(f"{param.name} takes text, not a file")
    if param.kind == "text":
        if len(raw) > MAX_TEXT:
            raise ArgError(f"{param.name} is over {MAX_TEXT} characters")
        return valid_text(raw)
    if param.kind in BOUNDS:
        return _whole_number(param, raw)
    if param.kind in ("mode", "status"):
        choices = param.choices or (POLICY_MODES if param.kind == "mode" else CASE_STATUSES)
        chosen = pick(raw, choices)
        if chosen is None:
            raise ArgError(f"{param.name} must be one of {', '.join(choices)}, not {raw!r}")
        return chosen
    if param.kind == "policy":
        text = raw.strip().lower()
        if not POLICY_ID.fullmatch(text):
            raise ArgError(f"{param.name} must be a policy id like game-cheating, not {raw!r}")
        return text
    if param.kind == "channels":
        return tuple(_platform_id(param, part) for part in re.split(r"[\s,]+", raw.strip()) if part)
    return _platform_id(param, raw)  # channel, role
