"""Cheap per-policy prefilters: decide which policies are worth a model call for a message.

A message is prepared once (normalised, split into words, links found), then every enabled
policy's compiled prefilter looks at that one object. All regular expressions are RE2, so a
hostile message cannot make matching slower than linear.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import re2

from bot.core import normalize
from bot.core.domain_files import DomainFileError, read_domain_files
from bot.core.policy_model import Prefilter

MatchReason = Literal["always", "keyword", "regex", "link", "domain", "sample", "random", "screen"]


@dataclass(frozen=True, slots=True)
class Words:
    """A message's words in order, as a set, and (lazily) grouped by their first two letters."""

    seq: tuple[str, ...]
    set: frozenset[str]
    _heads: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, seq: tuple[str, ...]) -> Words:
        return cls(seq, frozenset(seq))

    def by_head(self) -> dict[str, list[str]]:
        """Words keyed by their first two letters: prefix keywords look only where they could match."""
        if not self._heads and self.set:
            for word in self.set:
                self._heads.setdefault(word[:2], []).append(word)
        return self._heads


@dataclass(frozen=True, slots=True)
class PreparedText:
    """One message, prepared once and shared by every policy's prefilter and screen."""

    normalised: str
    folded: str  # look-alike letters and leetspeak folded as well
    words: Words
    folded_words: Words
    squeezed_words: Words  # when disguised: spread-out letters rejoined, repeats squeezed
    has_link: bool
    domains: tuple[str, ...]

    @classmethod
    def of(cls, text: str) -> PreparedText:
        norm = normalize.normalise(text)
        skel = normalize.skeleton(norm)
        folded = normalize.fold_leet(skel)
        norm_words = Words.of(normalize.words(norm))
        folded_words = Words.of(normalize.words(folded)) if folded != norm else norm_words
        squeezed = normalize.squeeze(folded) if normalize.looks_disguised(skel) else folded
        return cls(
            normalised=norm,
            folded=folded,
            words=norm_words,
            folded_words=folded_words,
            squeezed_words=Words.of(normalize.words(squeezed)) if squeezed != folded else folded_words,
            has_link=normalize.has_link(skel),
            domains=normalize.domains(skel),
        )


@dataclass(frozen=True, slots=True)
class PrefilterMatch:
    reason: MatchReason
    detail: str


class PrefilterError(ValueError):
    """A prefilter setting cannot be compiled; `field` names it, e.g. 'regex[2]'."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class _Phrase:
    words: tuple[str, ...]
    prefix: bool  # the last word matches as a prefix ("cheat*")
    source: str


class _KeywordIndex:
    """Keywords looked up by their first word, prefix keywords by the words' first two letters."""

    def __init__(self, phrases: list[_Phrase]) -> None:
        self._by_first: dict[str, list[_Phrase]] = {}
        prefix_first: dict[int, dict[str, _Phrase]] = {}  # by prefix length
        for phrase in phrases:
            if phrase.prefix and len(phrase.words) == 1:
                stem = phrase.words[0]
                prefix_first.setdefault(len(stem), {})[stem] = phrase
            else:
                self._by_first.setdefault(phrase.words[0], []).append(phrase)
        # Frozen sets: intersecting with a message's words then costs the smaller side only.
        self._first_words = frozenset(self._by_first)
        self._stems = {stem: p for stems in prefix_first.values() for stem, p in stems.items()}
        self._stem_heads = frozenset(stem[:2] for stem in self._stems)
        self._stem_lengths = sorted(prefix_first)

    def __bool__(self) -> bool:
        return bool(self._by_first or self._stems)

    def match(self, ws: Words) -> str | None:
        # Set intersections first: most messages share no word with the policy at all.
        for first in ws.set & self._first_words:
            for i, word in enumerate(ws.seq):
                if word == first:
                    for phrase in self._by_first[first]:
                        if _phrase_at(phrase, ws.seq, i):
                            return phrase.source
        if self._stems:
            heads = ws.by_head()
            for head in self._stem_heads & heads.keys():
                for word in heads[head]:
                    for length in self._stem_lengths:
                        stem = self._stems.get(word[:length])
                        if stem is not None:
                            return stem.source
        return None


class CompiledPrefilter:
    """One policy's prefilter, compiled once per policy version."""

    def __init__(self, spec: Prefilter, policy_id: str, base_dir: Path | None = None) -> None:
        self.spec = spec
        self.policy_id = policy_id
        phrases = [_compile_keyword(keyword, f"keywords[{i}]") for i, keyword in enumerate(spec.keywords)]
        self._keywords = _KeywordIndex(phrases)
        # The same keywords folded and squeezed like a message's squeezed words ("free" -> "fre").
        self._squeezed = _KeywordIndex([_squeezed(p) for p in phrases])
        self._regex = _compile_regexes(spec.regex)
        listed = {d.strip().lower().rstrip(".") for d in spec.domains if d.strip()}
        try:
            listed |= read_domain_files(spec.domain_files, base_dir)
        except DomainFileError as exc:
            raise PrefilterError(exc.field, str(exc)) from None
        # Listed punycode or non-Latin domains are compared in the folded form messages are.
        self.domains = frozenset(
            d if d.isascii() and "xn--" not in d else normalize.fold_domain(d) for d in listed
        )
        self._sample_threshold = int(spec.sample_rate * 0xFFFFFFFF)

    @property
    def selects_anything(self) -> bool:
        s = self.spec
        return bool(s.always or self._keywords or self._regex or s.links or self.domains or s.sample_rate > 0)

    def match(self, text: PreparedText, sample_key: str = "") -> PrefilterMatch | None:
        """Why this message is a candidate for the policy, or None when it is not."""
        if self.spec.always:
            return PrefilterMatch("always", "")
        found = self._find(text)
        if found is not None:
            return found
        if self._sample_threshold and sample_key:
            bucket = zlib.crc32(f"{self.policy_id}:{sample_key}".encode())
            if bucket <= self._sample_threshold:
                return PrefilterMatch("sample", "")
        return None

    def finds(self, text: str) -> bool:
        """Whether a keyword, regex, domain or link is in `text` (for locating hits in long messages)."""
        return self._find(PreparedText.of(text)) is not None

    def _find(self, text: PreparedText) -> PrefilterMatch | None:
        hit = self._match_words(text)
        if hit:
            return PrefilterMatch("keyword", hit)
        if self._regex is not None:
            candidates = (
                (text.normalised,) if text.folded == text.normalised else (text.normalised, text.folded)
            )
            for candidate in candidates:
                m = self._regex.search(candidate)
                if m:
                    return PrefilterMatch("regex", m.group(0)[:80])
        if self.domains:
            for host in text.domains:
                for parent in normalize.parent_domains(host):
                    if parent in self.domains:
                        return PrefilterMatch("domain", parent)
        if self.spec.links and text.has_link:
            return PrefilterMatch("link", "")
        return None

    def _match_words(self, text: PreparedText) -> str | None:
        if not self._keywords:
            return None
        hit = self._keywords.match(text.words)
        if hit is None and text.folded_words is not text.words:
            hit = self._keywords.match(text.folded_words)
        if hit is None and text.squeezed_words is not text.folded_words:
            hit = self._squeezed.match(text.squeezed_words)
        return hit


def _phrase_at(phrase: _Phrase, ws: tuple[str, ...], i: int) -> bool:
    n = len(phrase.words)
    if i + n > len(ws):
        return False
    for j in range(1, n):
        want, got = phrase.words[j], ws[i + j]
        last = j == n - 1
        if not (got.startswith(want) if (last and phrase.prefix) else got == want):
            return False
    return True


def _compile_keyword(keyword: str, field: str) -> _Phrase:
    prefix = keyword.rstrip().endswith("*")
    ws = normalize.words(normalize.normalise(keyword.rstrip().rstrip("*")))
    if not ws:
        raise PrefilterError(field, f"keyword {keyword!r} has no letters or digits; remove it")
    if prefix and len(ws[-1]) < 2:
        raise PrefilterError(field, f"prefix keyword {keyword!r} needs at least 2 letters before the *")
    return _Phrase(ws, prefix, keyword)


def _squeezed(phrase: _Phrase) -> _Phrase:
    squeezed = normalize.words(normalize.squeeze(normalize.fold(" ".join(phrase.words))))
    if not squeezed or (phrase.prefix and len(squeezed[-1]) < 2):
        return phrase  # a stem squeezed to one letter would select nearly everything
    return _Phrase(squeezed, phrase.prefix, phrase.source)


def _compile_regexes(patterns: tuple[str, ...]) -> re2._Regexp | None:
    if not patterns:
        return None
    opts = normalize.re2_options()
    for i, pattern in enumerate(patterns):
        try:
            re2.compile(pattern, opts)
        except re2.error as exc:
            detail = exc.args[0].decode() if exc.args and isinstance(exc.args[0], bytes) else exc
            raise PrefilterError(
                f"regex[{i}]",
                f"not a valid RE2 pattern ({detail}); RE2 has no backreferences or lookaround",
            ) from exc
    return re2.compile("|".join(f"(?:{p})" for p in patterns), opts)
