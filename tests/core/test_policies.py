"""A policy author's view: valid files load, broken ones say file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.policies import PolicyError

VALID = textwrap.dedent(
    """\
    id: test-cheats
    version: 2
    title: Game cheats
    category: cheating
    severity: medium
    instructions: |
      Decide whether the message sells, requests or shares cheats for online games.
    definitions:
      cheat: software that gives an unfair advantage in online play
    rules:
      - id: GC1
        text: Selling or offering cheats, hacks or aimbots
      - id: GC2
        text: Asking where to get cheats
    allowed:
      - id: GC-A1
        text: Talking about anti-cheat news or bans
    examples:
      - text: selling undetected aimbot, dm me
        label: violation
        rule_ids: [GC1]
      - text: anyone got a working wallhack?
        label: violation
        rule_ids: [GC2]
      - text: valve banned 10k cheaters lol
        label: allowed
      - text: how do I report a cheater?
        label: allowed
    prefilter:
      keywords: [aimbot, wallhack, "wall hack", cheat*]
      regex: ['h[a4]ck(s|z)? for sale']
    """
)


def test_valid_policy_loads(make_policy):
    policy = make_policy(VALID)
    assert policy.id == "test-cheats"
    assert policy.version == 2
    assert [r.id for r in policy.spec.rules] == ["GC1", "GC2"]
    assert policy.spec.action.kind == "flag"  # flag-only unless the author says otherwise
    assert 50 < policy.prompt_tokens < 600
    assert not policy.warnings


def _replace(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new)


BROKEN = [
    # (name, yaml text, expected line, expected field, words in the message)
    ("unknown field", _replace("severity: medium", "severty: medium"), 5, "severty", "not a policy field"),
    ("missing id", _replace("id: test-cheats\n", ""), 1, "id", "required"),
    (
        "bad severity",
        _replace("severity: medium", "severity: extreme"),
        5,
        "severity",
        "'low', 'medium' or 'high'",
    ),
    ("version text", _replace("version: 2", "version: two"), 2, "version", "whole number"),
    (
        "rule without text",
        _replace("    text: Asking where to get cheats\n", ""),
        13,
        "rules[1].text",
        "required",
    ),
    (
        "example bad label",
        _replace("label: allowed\n  - text: how", "label: maybe\n  - text: how"),
        26,
        "examples[2].label",
        "'violation' or 'allowed'",
    ),
    (
        "unknown rule id",
        _replace("rule_ids: [GC2]", "rule_ids: [GC9]"),
        24,
        "examples[1].rule_ids[0]",
        "unknown rule 'GC9'",
    ),
    (
        "regex with backreference",
        _replace("'h[a4]ck(s|z)? for sale'", r"'(cheat)\1'"),
        31,
        "prefilter.regex[0]",
        "RE2",
    ),
    ("duplicate key", VALID + "severity: high\n", 32, "severity", "twice"),
    ("bad yaml", _replace("title: Game cheats", "title: [Game cheats"), 4, "(yaml)", "indentation"),
    (
        "sample rate over 1",
        _replace("  regex:", "  sample_rate: 5\n  regex:"),
        31,
        "prefilter.sample_rate",
        "less than or equal to 1",
    ),
    ("prefilter selects nothing", VALID.split("prefilter:")[0], 1, "prefilter", "selects no message"),
]


@pytest.mark.parametrize(("name", "text", "line", "field", "words"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_policy_names_file_line_and_field(make_policy, name, text, line, field, words):
    with pytest.raises(PolicyError) as info:
        make_policy(text, source="policies/broken.yaml")
    first = info.value.problems[0]
    assert str(first).startswith(f"policies/broken.yaml:{line}: {field}: "), str(first)
    assert words in str(first)
    assert "\n" not in str(first)


def test_lint_cli_prints_one_line_per_broken_file_and_fails(tmp_path: Path, capsys):
    for i, (_name, text, _line, _field, _words) in enumerate(BROKEN[:10]):
        (tmp_path / f"broken{i}.yaml").write_text(text)
    (tmp_path / "good.yaml").write_text(VALID)
    code = main(["policy", "lint", str(tmp_path)])
    out, errors = capsys.readouterr()
    assert code == 1
    lines = errors.strip().splitlines()
    assert len(lines) == 10
    for i, (_name, _text, line, field, _words) in enumerate(BROKEN[:10]):
        assert f"broken{i}.yaml:{line}: {field}: " in errors
    assert "Traceback" not in out + errors
    assert "1 valid, 10 broken" in out


def test_lint_passes_on_the_shipped_library(capsys):
    from tests.conftest import POLICY_DIR

    code = main(["policy", "lint", *map(str, sorted(POLICY_DIR.glob("*.yaml")))])
    out, errors = capsys.readouterr()
    assert code == 0, errors
    assert "0 broken" in out
    # Every user sees these on every start: a shipped policy must not warn.
    assert "warning" not in out + errors


def test_length_warning_counts_the_authors_text_not_the_framing(tokens):
    from bot.core.policies import TokenLimits, authored_text, parse_policy

    limits = TokenLimits(warn_above=300, refuse_above=10_000)
    short = parse_policy(VALID, "short.yaml", tokens.count, limits)
    assert short.prompt_tokens > 300 > tokens.count(authored_text(short.spec))  # framing alone: no warning
    assert not [w for w in short.warnings if "tokens" in w.message]
    wordy = _replace("  cheat: software", "  filler: " + "lorem ipsum dolor " * 60 + "\n  cheat: software")
    warned = parse_policy(wordy, "wordy.yaml", tokens.count, limits)
    (warning,) = [w for w in warned.warnings if "tokens" in w.message]
    authored = tokens.count(authored_text(warned.spec))
    assert authored > 300 and f"policy text is {authored} tokens" in warning.message


def test_token_limit_is_enforced(tokens):
    from bot.core.policies import TokenLimits, parse_policy

    long = _replace("  cheat: software", "  filler: " + "lorem ipsum dolor " * 300 + "\n  cheat: software")
    with pytest.raises(PolicyError, match="over the limit of 800"):
        parse_policy(long, "long.yaml", tokens.count, TokenLimits(warn_above=600, refuse_above=800))
    warned = parse_policy(long, "long.yaml", tokens.count, TokenLimits(600, 10_000))
    assert any("tokens" in str(w) for w in warned.warnings)


def test_content_hash_changes_with_the_policy_text(make_policy):
    a = make_policy(VALID)
    b = make_policy(_replace("Selling or offering", "Selling, trading or offering"))
    assert a.content_hash != b.content_hash
    assert make_policy(VALID).content_hash == a.content_hash


def test_lint_of_a_missing_file_names_only_that_file(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code = main(["policy", "lint", "nope.yaml"])
    out, err = capsys.readouterr()
    assert code == 1
    assert err.strip() == "nope.yaml:1: (file): no such file or folder"
    assert "0 valid, 1 broken" in out
