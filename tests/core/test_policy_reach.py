"""A prefilter that selects every message passes lint only with a warning that says so."""

from __future__ import annotations

import pytest

from tests.core.test_policies import VALID

REGEX_LINE = "  regex: ['h[a4]ck(s|z)? for sale']"


def warnings_of(make_policy, text: str) -> list[str]:
    return [str(w) for w in make_policy(text).warnings]


@pytest.mark.parametrize("pattern", ["''", "'.*'", "'(?:x)?'", "'\\s*'", "'a|'"])
def test_a_regex_that_matches_an_empty_message_is_a_warning(make_policy, pattern):
    assert REGEX_LINE in VALID
    text = VALID.replace(REGEX_LINE, f"  regex: ['h[a4]ck(s|z)? for sale', {pattern}]")
    (warning,) = warnings_of(make_policy, text)
    line = VALID.splitlines().index(REGEX_LINE) + 1
    assert warning.startswith(f"test.yaml:{line}: warning: prefilter.regex[1]: ")
    assert "matches an empty message, so every message goes to the model" in warning


def test_a_keyword_or_regex_that_selects_ordinary_chat_is_a_warning(make_policy):
    text = VALID.replace(REGEX_LINE, "  regex: ['[a-z0-9]']")
    (warning,) = warnings_of(make_policy, text)
    assert "prefilter: selects ordinary chat such as 'ok thanks'" in warning


def test_a_top_level_domain_is_a_warning(make_policy):
    text = VALID.replace(REGEX_LINE, REGEX_LINE + "\n  domains: [com, scam-site.example]")
    (warning,) = warnings_of(make_policy, text)
    assert "prefilter.domains[0]: 'com' is a whole top-level domain" in warning


def test_always_true_says_it_on_purpose(make_policy):
    text = VALID.replace(REGEX_LINE, "  regex: ['.*']\n  always: true")
    assert warnings_of(make_policy, text) == []


def test_the_library_and_a_focused_policy_have_no_such_warning(make_policy, library):
    assert warnings_of(make_policy, VALID) == []
    for policy in library.values():
        assert not [w for w in policy.warnings if w.field.startswith("prefilter")]
