"""Turn whatever the model wrote into a verdict, or say why it is not one.

Tolerant of the ways real servers and models misbehave (fences, prose around the JSON,
strings for numbers, a bare 0/1, an answer only in the reasoning), but strict about the one
thing that matters: no readable `violation` means no verdict. Never a guess.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from bot.core.messages import CONFIDENCES, Confidence
from bot.core.prompt import MAX_TEXT_CHARS
from bot.core.text import valid_text

MAX_RATIONALE = 400


@dataclass(frozen=True, slots=True)
class Parsed:
    violation: bool
    confidence: Confidence
    rule_ids: tuple[str, ...]
    category: str | None
    rationale: str
    source: Literal["content", "reasoning", "bare"]


@dataclass(frozen=True, slots=True)
class ParseFailure:
    reason: Literal["empty", "truncated", "unparseable"]
    detail: str


_TRUE = {"1", "true", "yes", "violation", "violates"}
_FALSE = {"0", "false", "no", "none", "allowed", "safe"}


def parse_answer(
    content: str | None,
    reasoning: str | None,
    truncated: bool,
    member_text: Sequence[str] = (),
) -> Parsed | ParseFailure:
    """Parse the final answer; fall back to a JSON verdict at the end of the reasoning.

    `member_text` is everything the member wrote that the model saw (message, context, names).
    A JSON verdict found in it is the member's, not the model's, so it never counts: the model
    restates the message in its reasoning, and a member can type `{"violation": 0, ...}`.
    """
    typed = _MemberText(member_text)
    text = (content or "").strip()
    if text:
        found = _from_text(text, "content", typed)
        if found is not None:
            return found
        if truncated or _looks_cut(text):
            return ParseFailure("truncated", "the answer was cut off before the JSON closed")
        return ParseFailure("unparseable", f"no verdict in the answer: {text[:120]!r}")
    if truncated:
        # Cut off before the answer: whatever JSON the reasoning holds is not a conclusion.
        return ParseFailure("truncated", "the output limit was reached while the model reasoned")
    if reasoning:
        found = _last_json_verdict(reasoning, typed)
        if found is not None:
            return found
    return ParseFailure("empty", "the model returned no answer")


class _MemberText:
    """What the member wrote, compared with whitespace collapsed and case folded."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._folded = [_fold(t) for t in texts if t]
        self._verdicts = [
            _canonical(obj)
            for t in texts
            if "violation" in t  # the JSON scan is for verdict-shaped text only
            # The model sees at most MAX_TEXT_CHARS of a message: what lies beyond it cannot be
            # restated, and the scan stays cheap on a huge message.
            for obj, _raw in _json_objects(t[:MAX_TEXT_CHARS])
            if "violation" in obj
        ]

    def wrote(self, obj: dict[str, Any], raw: str) -> bool:
        """True when the object, or any sentence in it, is text the member wrote."""
        if _canonical(obj) in self._verdicts:
            return True
        pieces = [raw, *(v for v in obj.values() if isinstance(v, str) and len(v) >= _MIN_QUOTE)]
        return any(_fold(p) in t for p in pieces for t in self._folded if _fold(p))


_MIN_QUOTE = 12  # a shorter string ("high", "cheating") is too likely to match by chance


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _canonical(obj: dict[str, Any]) -> str:
    return json.dumps(obj, sort_keys=True, default=str).casefold()


def _from_text(text: str, source: Literal["content", "reasoning"], typed: _MemberText) -> Parsed | None:
    for obj, raw in _json_objects(text):
        if "violation" in obj and not typed.wrote(obj, raw):
            return _coerce(obj, source)
    bare = text.strip().strip("`\"'. ").lower()
    if bare in {"0", "1"}:
        return Parsed(
            violation=bare == "1",
            confidence="low",  # no rationale came with it: never enough to act alone
            rule_ids=(),
            category=None,
            rationale="The model answered with a bare label and gave no rationale.",
            source="bare",
        )
    return None


def _json_objects(text: str) -> list[tuple[dict[str, Any], str]]:
    """Every JSON object in the text, with the exact text it was parsed from."""
    decoder = json.JSONDecoder()
    found: list[tuple[dict[str, Any], str]] = []
    i = text.find("{")
    while i != -1:
        try:
            obj, end = decoder.raw_decode(text, i)
        except (json.JSONDecodeError, RecursionError):  # nesting deeper than Python's stack
            i = text.find("{", i + 1)
            continue
        if isinstance(obj, dict):
            found.append((obj, text[i:end]))
        i = text.find("{", end)
    return found


def _last_json_verdict(reasoning: str, typed: _MemberText) -> Parsed | None:
    # Only an explicit JSON verdict counts: prose like "this is not a violation" is too loose.
    candidates = [o for o, raw in _json_objects(reasoning) if "violation" in o and not typed.wrote(o, raw)]
    if not candidates:
        return None
    return _coerce(candidates[-1], "reasoning")


def _looks_cut(text: str) -> bool:
    return text.count("{") > text.count("}") or text.count('"') % 2 == 1


def _coerce(obj: dict[str, Any], source: Literal["content", "reasoning"]) -> Parsed | None:
    violation = _as_bool(obj.get("violation"))
    if violation is None:
        return None
    conf = str(obj.get("confidence", "")).strip().lower()
    confidence: Confidence = next((c for c in CONFIDENCES if c == conf), "low")
    raw_ids = obj.get("rule_ids", obj.get("rules", []))
    if isinstance(raw_ids, str):
        raw_ids = [s for s in raw_ids.replace(";", ",").split(",")]
    rule_ids = (
        tuple(valid_text(str(r).strip()) for r in raw_ids if str(r).strip())
        if isinstance(raw_ids, list)
        else ()
    )
    category = obj.get("policy_category", obj.get("category"))
    category = valid_text(str(category).strip()) or None if category not in (None, "", "null") else None
    rationale = obj.get("rationale", "")
    # A "\ud800" escape in the model's JSON decodes to text SQLite cannot store.
    rationale = valid_text(rationale.strip()) if isinstance(rationale, str) else ""
    if len(rationale) > MAX_RATIONALE:
        rationale = rationale[: MAX_RATIONALE - 1].rstrip() + "…"
    return Parsed(violation, confidence, rule_ids[:10], category, rationale, source)


def _as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, float) and value in (0.0, 1.0):
        return bool(value)
    if isinstance(value, str):
        v = value.strip().lower()
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    return None
