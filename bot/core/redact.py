"""Keep secrets out of logs and stored errors.

A server's error body may echo the request's Authorization header, and a key can sit in a URL's
query or userinfo (ESCALATION_URL=https://host/v1?api_key=...). Every error text that leaves a
model tier, and every record of the HTTP loggers, passes through `redact` first: the known
secret values go, and so does anything shaped like a credential.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

MASK = "[redacted]"
_MIN_SECRET = 6  # shorter values would mask ordinary words

_PATTERNS = (
    # Authorization: Bearer abc / "authorization": "Basic abc" / Bearer abc anywhere
    (re.compile(r"(?i)(\bauthorization\b[\"']?\s*[:=]\s*[\"']?)(?:(bearer|basic|token)\s+)?[^\s\"',;}]+"),
     lambda m: f"{m[1]}{m[2] + ' ' if m[2] else ''}{MASK}"),
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), lambda m: f"{m[1]} {MASK}"),
    # scheme://user:password@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^/\s:@]*):[^/\s@]+@"), lambda m: f"{m[1]}:{MASK}@"),
    # ?api_key=... &token=... (query strings and form bodies)
    (re.compile(r"(?i)([?&;](?:api[_-]?key|key|token|access[_-]?token|secret|password|sig|signature)=)[^&\s#\"']+"),
     lambda m: f"{m[1]}{MASK}"),
    # Slack bot, user and app tokens; Discord bot tokens (three dot-separated base64 parts)
    (re.compile(r"xox[a-z]-[A-Za-z0-9-]{8,}|xapp-[A-Za-z0-9-]{8,}"
                r"|[MNO][A-Za-z\d_-]{23,27}\.[A-Za-z\d_-]{6}\.[A-Za-z\d_-]{27,}"), lambda m: MASK),
)  # fmt: skip


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with the given secret values and anything credential-shaped masked."""
    for secret in sorted({s for s in secrets if len(s) >= _MIN_SECRET}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactFilter(logging.Filter):
    """A logging filter that rewrites each record's message through `redact`."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self._secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            # A traceback repeats the exception's text: format it now, redacted, and drop the rest.
            text = logging.Formatter().formatException(record.exc_info)
            record.exc_text, record.exc_info = redact(text, self._secrets), None
        return True
