"""Text normalisation shared by the prefilter and the verdict cache.

Evasions we undo: full-width and styled letters (NFKC), case, zero-width joiners and soft
hyphens, accents and stacked combining marks ("zalgo"), and common leetspeak digits.
"""

from __future__ import annotations

import re
import unicodedata

import re2

_INVISIBLE = dict.fromkeys(
    [
        *(0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0),
        *range(0x200B, 0x2010),
        *range(0x202A, 0x202F),
        *range(0x2060, 0x2070),
    ],
    None,
)
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"})

_OPTS = re2.Options()
_OPTS.log_errors = False
# Defanged links ("discord[.]gift", "hxxps://") are still links.
_DEFANG_DOT = re2.compile(r"\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)", _OPTS)
# Unicode words. Python's re here: `\w+` cannot backtrack, and RE2's Python wrapper costs
# ~25x more per match (see docs/benchmarks.md).
_WORDS = re.compile(r"\w+")
# A scheme, www., or a bare host followed by a path ("discord.gg/abc").
_URL = re2.compile(r"(?:h(?:tt|xx)ps?://|www\.|[a-z0-9-]+\.[a-z]{2,}/)", _OPTS)
_DOMAIN = re2.compile(r"([a-z0-9](?:[a-z0-9-]{0,62})(?:\.[a-z0-9-]{1,63})*\.[a-z][a-z0-9-]{1,62})", _OPTS)


def re2_options() -> re2.Options:
    """RE2 options that keep parse errors out of stderr (we report them ourselves)."""
    opts = re2.Options()
    opts.log_errors = False
    return opts


def normalise(text: str) -> str:
    """NFKC, casefold, no invisible characters or combining marks, single spaces."""
    text = unicodedata.normalize("NFKC", text).translate(_INVISIBLE).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    if decomposed != text:
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def fold_leet(normalised: str) -> str:
    return normalised.translate(_LEET)


def words(text: str) -> tuple[str, ...]:
    return tuple(_WORDS.findall(text))


def has_link(normalised: str) -> bool:
    return _URL.search(normalised) is not None


def domains(normalised: str) -> tuple[str, ...]:
    """Every host-like token, defanged links included."""
    text = _DEFANG_DOT.sub(".", normalised.replace("hxxp", "http"))
    return tuple(_DOMAIN.findall(text))


def parent_domains(host: str) -> list[str]:
    """'a.b.example.com' -> ['a.b.example.com', 'b.example.com', 'example.com']."""
    parts = host.strip(".").split(".")
    return [".".join(parts[i:]) for i in range(len(parts) - 1)]
