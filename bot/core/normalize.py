"""Text normalisation shared by the prefilter, the learned screen and the verdict cache.

Evasions we undo, in this order:
- bidirectional overrides: `selling \\u202etobmia\\u202c` *shows* "aimbot", so an override's run is
  read as displayed (reversed) and every bidi control removed;
- full-width and styled letters (NFKC), case, zero-width joiners and soft hyphens, accents and
  stacked combining marks ("zalgo");
- look-alike letters from other scripts (Cyrillic `а`, Greek `ο`, mathematical letters): folded to
  their Latin skeleton by decancer (Unicode's confusables plus more, in Rust: ~3 µs a message);
- leetspeak digits; letters spread out by spaces, dots or emoji (`a i m b o t`, `a🔥i🔥m`); repeated
  letters (`aimbooot`);
- punycode (`xn--…`) and look-alike letters in domains.

Everything here is one pass of linear-time steps: no pattern can make a message slow.
"""

from __future__ import annotations

import re
import unicodedata

import decancer_py
import re2

_BIDI_OVERRIDE = "\u202e"  # RIGHT-TO-LEFT OVERRIDE: the only control that reverses Latin letters
_BIDI_END = frozenset("\u202c\u2069\n")  # POP DIRECTIONAL FORMATTING, POP DIRECTIONAL ISOLATE, newline
_INVISIBLE = dict.fromkeys(
    [
        *(0x00AD, 0x034F, 0x061C, 0x115F, 0x1160, 0x17B4, 0x17B5, 0x180E, 0x3164, 0xFEFF, 0xFFA0),
        *range(0x200B, 0x2010),  # zero-width characters, LRM, RLM
        *range(0x202A, 0x202F),  # bidi embeddings and overrides
        *range(0x2060, 0x2070),  # word joiner, bidi isolates, invisible operators
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
# Pictographs and dingbats: separators for our purpose (decancer would read 🔥 as an "o").
_PICTOGRAPHS = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\ufe0f\u20e3]")
# Three or more single letters, each followed by 1-3 separators ("a i m", "a.i.m", "a🔥i🔥m"). Every
# step consumes a separator then one letter, so the engine never backtracks more than 3 characters.
_SPACED = re.compile(r"\b\w(?:[^\w\n]{1,3}\w\b){2,}")
_NON_WORD = re.compile(r"\W+")
_REPEATS = re.compile(r"(\w)\1+")


def re2_options() -> re2.Options:
    """RE2 options that keep parse errors out of stderr (we report them ourselves)."""
    opts = re2.Options()
    opts.log_errors = False
    return opts


def read_bidi(text: str) -> str:
    """Text as displayed: a right-to-left override's run reversed, up to its pop, isolate end or line end."""
    if _BIDI_OVERRIDE not in text:
        return text
    out: list[str] = []
    run: list[str] | None = None
    for ch in text:
        if ch == _BIDI_OVERRIDE:
            if run is not None:
                out.extend(reversed(run))
            run = []
        elif run is not None and ch in _BIDI_END:
            out.extend(reversed(run))
            run = None
            if ch == "\n":
                out.append(ch)
        elif run is not None:
            run.append(ch)
        else:
            out.append(ch)
    if run:
        out.extend(reversed(run))
    return "".join(out)


_BIDI_CONTROLS = dict.fromkeys([0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)], None)


def as_displayed(text: str) -> str:
    """The text as a reader sees it: override runs reversed, bidi controls gone, nothing else changed."""
    return read_bidi(text).translate(_BIDI_CONTROLS)


def normalise(text: str) -> str:
    """Bidi read as displayed, NFKC, casefold, no invisible characters or combining marks, single spaces."""
    text = unicodedata.normalize("NFKC", read_bidi(text)).translate(_INVISIBLE).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    if decomposed != text:
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
        text = unicodedata.normalize("NFC", text)
    return " ".join(text.split())


def skeleton(normalised: str) -> str:
    """Look-alike letters of any script folded to Latin; ASCII text is returned as it is."""
    if normalised.isascii():
        return normalised
    text = _PICTOGRAPHS.sub(" ", normalised)
    return " ".join(str(decancer_py.parse(text)).split())


def fold_leet(normalised: str) -> str:
    return normalised.translate(_LEET)


def fold(normalised: str) -> str:
    """Skeleton then leetspeak: the form keywords and regexes are also tried on."""
    return fold_leet(skeleton(normalised))


def _join(match: re.Match[str]) -> str:
    return _NON_WORD.sub("", match.group(0))


# A letter tripled ("aimbooot"; not "www") or three letters spread out ("a i m", "a.i.m", "a🔥i🔥m"; not
# "i'm a"). RE2: one linear scan, no backreference needed.
_DISGUISE = re2.compile(
    "(?:" + "|".join(c * 3 for c in "abcdefghijklmnopqrstuvxyz") + ")"
    r"|(?:^|[^\pL'’])\pL[^\w\n'’]{1,3}\pL[^\w\n'’]{1,3}\pL(?:[^\pL'’]|$)",
    _OPTS,
)


def squeeze(folded: str) -> str:
    """Spread-out letters rejoined and repeated letters squeezed: "a i m b o o o t" -> "aimbot".

    Applied to keywords too, so "free" and "freeee" meet at "fre".
    """
    return _REPEATS.sub(r"\1", _SPACED.sub(_join, folded))


def looks_disguised(skeleton_text: str) -> bool:
    """Letters tripled or spread out. Ordinary chat rarely is, so most messages skip squeezing.

    Checked before leetspeak folding, so a phone number's "000" is not an "ooo".
    """
    return _DISGUISE.search(skeleton_text) is not None


def words(text: str) -> tuple[str, ...]:
    return tuple(_WORDS.findall(text))


def has_link(normalised: str) -> bool:
    return _URL.search(normalised) is not None


def domains(folded: str) -> tuple[str, ...]:
    """Every host-like token, defanged links included; punycode labels decoded and folded too."""
    text = _DEFANG_DOT.sub(".", folded.replace("hxxp", "http"))
    found = tuple(_DOMAIN.findall(text))
    if "xn--" not in text:
        return found
    return found + tuple(d for d in (_decode_idna(h) for h in found if "xn--" in h) if d)


def _decode_idna(host: str) -> str:
    labels: list[str] = []
    for label in host.split("."):
        if label.startswith("xn--"):
            try:
                label = label[4:].encode("ascii").decode("punycode")
            except (UnicodeError, ValueError):
                return ""
        labels.append(label)
    return skeleton(normalise(".".join(labels)))


def fold_domain(domain: str) -> str:
    """A listed domain in the form message domains are compared in."""
    host = domain.strip().lower().rstrip(".")
    if "xn--" in host:
        host = _decode_idna(host) or host
    return skeleton(normalise(host)) if not host.isascii() else host


def parent_domains(host: str) -> list[str]:
    """'a.b.example.com' -> ['a.b.example.com', 'b.example.com', 'example.com']."""
    parts = host.strip(".").split(".")
    return [".".join(parts[i:]) for i in range(len(parts) - 1)]
