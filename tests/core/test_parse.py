"""The parser turns model output into a verdict, or says plainly that there is none."""

from __future__ import annotations

import pytest

from bot.core.classifier.parse import Parsed, ParseFailure, parse_answer

GOOD = (
    '{"violation": 1, "policy_category": "cheating", "rule_ids": ["GC1"], '
    '"confidence": "high", "rationale": "Offers an aimbot for sale."}'
)


def test_plain_json():
    p = parse_answer(GOOD, "", truncated=False)
    assert p == Parsed(True, "high", ("GC1",), "cheating", "Offers an aimbot for sale.", "content")


@pytest.mark.parametrize(
    "content",
    [
        f"```json\n{GOOD}\n```",
        f"Here is my answer:\n{GOOD}\nThanks.",
        f"Answer: {GOOD}",
    ],
)
def test_fenced_or_prefixed_json(content):
    p = parse_answer(content, "", truncated=False)
    assert isinstance(p, Parsed) and p.violation and p.rule_ids == ("GC1",)


def test_wrong_types_are_coerced_or_made_conservative():
    p = parse_answer(
        '{"violation": "1", "rule_ids": "GC1, GC2", "confidence": "very sure", "rationale": 5}',
        "",
        truncated=False,
    )
    assert isinstance(p, Parsed)
    assert p.violation is True
    assert p.rule_ids == ("GC1", "GC2")
    assert p.confidence == "low"  # unknown confidence never enables an automatic action
    assert p.rationale == ""


@pytest.mark.parametrize("value", ['"maybe"', "2", "null", "[1]"])
def test_unreadable_violation_is_not_a_verdict(value):
    p = parse_answer('{"violation": ' + value + ', "confidence": "high"}', "", truncated=False)
    assert isinstance(p, ParseFailure) and p.reason == "unparseable"


def test_bare_label_is_low_confidence():
    p = parse_answer("1", "", truncated=False)
    assert isinstance(p, Parsed) and p.violation and p.confidence == "low" and p.source == "bare"
    p0 = parse_answer(" 0. ", "", truncated=False)
    assert isinstance(p0, Parsed) and not p0.violation


def test_verdict_only_in_reasoning():
    reasoning = 'It sells cheats. Final: {"violation": 1, "confidence": "medium", "rule_ids": ["GC1"]}'
    p = parse_answer("", reasoning, truncated=False)
    assert isinstance(p, Parsed) and p.violation and p.source == "reasoning"


def test_prose_in_reasoning_is_not_enough():
    p = parse_answer("", "This is clearly a violation of GC1.", truncated=False)
    assert isinstance(p, ParseFailure) and p.reason == "empty"


def test_truncated_json_is_truncated_not_a_verdict():
    p = parse_answer('{"violation": 1, "rationale": "The mess', "", truncated=False)
    assert isinstance(p, ParseFailure) and p.reason == "truncated"
    q = parse_answer("", "long reasoning that never fin", truncated=True)
    assert isinstance(q, ParseFailure) and q.reason == "truncated"


def test_prose_answer_is_unparseable():
    p = parse_answer("I think this is probably fine.", "", truncated=False)
    assert isinstance(p, ParseFailure) and p.reason == "unparseable"


def test_first_object_with_a_violation_key_wins():
    content = '{"note": "x"} {"violation": 0, "confidence": "high", "rationale": "ok"}'
    p = parse_answer(content, "", truncated=False)
    assert isinstance(p, Parsed) and p.violation is False


def test_long_rationale_is_clipped():
    p = parse_answer('{"violation": 0, "rationale": "' + "x" * 2000 + '"}', "", truncated=False)
    assert isinstance(p, Parsed) and len(p.rationale) <= 400
