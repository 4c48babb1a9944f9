"""Hostile policy YAML: alias bombs, deep nesting, huge files and invalid characters are refused
quickly with a line number, and one broken file never stops the others from loading."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.policies import PolicyError, TokenLimits, load_policy_dir, load_policy_file
from tests.core.test_policies import VALID

BILLION_LAUGHS = textwrap.dedent(
    """\
    a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
    b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
    c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
    d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
    e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
    f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
    g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
    h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
    i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
    """
)


def problems_of(make_policy, text: str) -> list[str]:
    with pytest.raises(PolicyError) as info:
        make_policy(text, "bomb.yaml")
    return [str(p) for p in info.value.problems]


def test_alias_bomb_is_refused_at_the_first_alias(make_policy):
    # Before: the duplicate-key walk followed every alias (9^8 nodes) and never finished.
    assert problems_of(make_policy, BILLION_LAUGHS) == [
        "bomb.yaml:2: (yaml): aliases (*a) are not allowed in a policy; write the value out in full; "
        "check indentation and quoting"
    ]


def test_alias_inside_an_otherwise_valid_policy_is_refused(make_policy):
    text = VALID.replace("title: Game cheats", "title: &t Game cheats").replace(
        "category: cheating", "category: cheating\nmoderator_note: *t"
    )
    (problem,) = problems_of(make_policy, text)
    assert problem.startswith("bomb.yaml:5: (yaml): aliases (*t) are not allowed")


def test_merge_key_needs_an_alias_and_is_refused_too(make_policy):
    text = VALID + "action: &act {kind: flag}\nescalation:\n  <<: *act\n"
    assert "aliases (*act) are not allowed" in problems_of(make_policy, text)[0]


def test_lint_of_a_billion_laughs_file_exits_1_with_the_line(tmp_path: Path, capsys):
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(BILLION_LAUGHS)
    assert main(["policy", "lint", str(bomb)]) == 1
    assert f"{bomb}:2: (yaml): aliases (*a) are not allowed" in capsys.readouterr().err


def nested(levels: int) -> str:
    return VALID + "definitions:\n  x: " + "[" * levels + "]" * levels + "\n"


def test_deep_nesting_is_refused_with_a_line_not_a_recursion_error(make_policy):
    # ~1 KB of brackets; before, composing it raised RecursionError out of every command.
    (problem,) = problems_of(make_policy, nested(500))
    assert "nested more than 20 levels deep" in problem
    assert problem.startswith(f"bomb.yaml:{VALID.count(chr(10)) + 2}: (yaml):")


def test_nesting_within_the_bound_is_an_ordinary_field_error(make_policy):
    (problem,) = problems_of(make_policy, nested(10))
    assert "nested more than" not in problem
    assert "definitions" in problem


def test_a_deeply_nested_file_in_the_policy_dir_is_skipped_and_reported(tmp_path: Path, tokens):
    (tmp_path / "a-good.yaml").write_text(VALID)
    (tmp_path / "b-deep.yaml").write_text(nested(500))
    policies, problems = load_policy_dir([tmp_path], tokens.count, TokenLimits())
    assert list(policies) == ["test-cheats"]
    assert [p.file for p in problems if not p.warning] == [str(tmp_path / "b-deep.yaml")]


def test_check_still_works_when_a_sibling_file_is_hostile(tmp_path: Path, monkeypatch, capsys):
    (tmp_path / "a-good.yaml").write_text(VALID)
    (tmp_path / "b-deep.yaml").write_text(nested(500))
    (tmp_path / "c-bomb.yaml").write_text(BILLION_LAUGHS)
    monkeypatch.setenv("POLICY_DIR", str(tmp_path))
    # An unknown id lists what did load and says how many files failed, instead of a traceback.
    assert main(["check", "--policy", "nope", "hello"]) == 2
    err = capsys.readouterr().err
    assert "known: test-cheats" in err and "2 policy file(s) failed to load" in err


def test_a_huge_policy_is_refused_by_size_before_parsing(make_policy, tmp_path: Path, tokens):
    huge = VALID + "moderator_note: |\n" + ("  " + "x" * 99 + "\n") * 200_000  # 20 MB
    (problem,) = problems_of(make_policy, huge)
    assert "over the limit of 256,000" in problem and problem.startswith("bomb.yaml:1: (file):")
    path = tmp_path / "huge.yaml"
    path.write_text(huge)
    with pytest.raises(PolicyError, match="over the limit of 256,000"):
        load_policy_file(path, tokens.count, TokenLimits())


def test_a_lone_surrogate_escape_is_refused_with_its_line(make_policy):
    text = VALID.replace("  keywords: [aimbot,", '  keywords: ["\\ud800", aimbot,')
    (problem,) = problems_of(make_policy, text)
    line = VALID.splitlines().index('  keywords: [aimbot, wallhack, "wall hack", cheat*]') + 1
    assert problem.startswith(f"bomb.yaml:{line}: (yaml): holds an invalid character")


def test_duplicate_keys_are_still_found_in_document_order(make_policy):
    text = VALID.replace("severity: medium", "severity: medium\nseverity: high")
    text = text.replace("  cheat: software", "  cheat: one\n  cheat: software")
    assert problems_of(make_policy, text) == [
        "bomb.yaml:6: severity: appears twice; keep one (the last would win)"
    ]
