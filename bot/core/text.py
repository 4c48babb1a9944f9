"""Make text valid Unicode once, where it enters the core.

Platforms, files and terminals can hand over text that is not valid UTF-8: a lone surrogate
from a JSON escape ("\\ud800"), or bytes a terminal decoded with `surrogateescape`. RE2, SQLite
and every HTTP client refuse such text mid-run; replacing it with U+FFFD at the edge means no
later step can fail on it, and a member cannot end a run with one message.
"""

from __future__ import annotations

REPLACEMENT = "\ufffd"


def valid_text(text: str) -> str:
    """`text` with every lone surrogate replaced by U+FFFD; pairs are joined into one character."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        # UTF-16 with surrogatepass keeps well-formed pairs; decoding then replaces the lone ones.
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text
