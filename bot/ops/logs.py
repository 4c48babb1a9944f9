"""Log setup: plain text for people, one JSON object per line for collectors.

JSON lines carry ids and verdict fields passed as `extra=` (case, job, space, policy ...),
never message text: the fields are an allow-list, and every line is scrubbed of the
configured secrets and of anything shaped like a Discord, Slack or bearer token.
"""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TextIO

from bot.config import Settings
from bot.core.redact import redact

# Fields a log call may attach with `extra=`; anything else (say, a message's text) is dropped.
FIELDS: tuple[str, ...] = (
    "case_id", "job_id", "space_id", "policy_id", "platform", "channel_id", "message_id",
    "tier", "model", "violation", "confidence", "rule_ids", "latency_ms", "cached", "reason",
    "kind", "status", "attempts", "check", "ok",
)  # fmt: skip
LIBRARIES: tuple[str, ...] = (
    "discord", "slack_bolt", "slack_sdk", "httpx", "httpcore", "aiosqlite", "aiohttp",
)  # fmt: skip


class Scrubber:
    """Removes the configured secret values and anything credential-shaped from a line."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = tuple(secrets)

    def __call__(self, text: str) -> str:
        return redact(text, self._secrets)


class TextFormatter(logging.Formatter):
    def __init__(self, scrub: Scrubber) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._scrub = scrub

    def format(self, record: logging.LogRecord) -> str:
        return self._scrub(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, event, allowed extra fields."""

    def __init__(self, scrub: Scrubber) -> None:
        super().__init__()
        self._scrub = scrub

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "event": record.getMessage(),
        }
        for name in FIELDS:
            value = record.__dict__.get(name)
            if value is not None:
                data[name] = list(value) if isinstance(value, tuple) else value
        if record.exc_info:
            data["error"] = self.formatException(record.exc_info)
        line = json.dumps(data, ensure_ascii=False, default=str)
        return self._scrub(line)


def secrets_of(settings: Settings) -> list[str]:
    return settings.secret_values()


def setup_logging(
    settings: Settings, *, verbose: bool = False, stream: TextIO | None = None
) -> logging.Handler | None:
    """Apply LOG_FORMAT and LOG_LIBRARIES; returns the handler that now formats modbot's lines.

    The CLI calls this after its basicConfig: the plain stderr handler that basicConfig made
    gets our formatter (its filters stay). A root logger configured by someone else (a test
    runner, an application embedding modbot) keeps its handlers. With `stream`, a handler of
    our own writes there instead (tests, tools).
    """
    library_level = logging.DEBUG if verbose else getattr(logging, settings.log_libraries)
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(library_level)
    # Never below INFO: aiosqlite's DEBUG lines print SQL parameters, i.e. message text.
    logging.getLogger("aiosqlite").setLevel(max(library_level, logging.INFO))
    scrub = Scrubber(secrets_of(settings))
    formatter: logging.Formatter = (
        JsonFormatter(scrub) if settings.log_format == "json" else TextFormatter(scrub)
    )
    root = logging.getLogger()
    if stream is not None:
        for old in [h for h in root.handlers if getattr(h, "modbot", False)]:
            root.removeHandler(old)
        handler = logging.StreamHandler(stream)
        handler.modbot = True  # type: ignore[attr-defined]
        handler.setFormatter(formatter)
        root.addHandler(handler)
        root.setLevel(logging.DEBUG if verbose else getattr(logging, settings.log_level))
        return handler
    for candidate in root.handlers:
        if type(candidate) is logging.StreamHandler and candidate.stream is sys.stderr:
            candidate.setFormatter(formatter)
            return candidate
    return None
