"""What a policy's prefilter selects, as an admin would expect it to."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.core.normalize import normalise
from bot.core.policy_model import Prefilter
from bot.core.prefilter import CompiledPrefilter, PrefilterError, PreparedText


def pf(**kwargs: object) -> CompiledPrefilter:
    return CompiledPrefilter(Prefilter(**kwargs), "p")  # type: ignore[arg-type]


def hit(prefilter: CompiledPrefilter, text: str, key: str = "") -> str | None:
    m = prefilter.match(PreparedText.of(text), key)
    return m.reason if m else None


def test_normalise_undoes_common_evasions():
    assert normalise("ＦＲＥＥ　Ｎｉｔｒｏ") == "free nitro"  # full-width
    assert normalise("fr\u200bee ni\u200dtro\u00ad") == "free nitro"  # zero-width, soft hyphen
    assert normalise("Z̷̢a̶l̴g̸o̵ ńítrö") == "zalgo nitro"  # combining marks and accents
    assert normalise("𝐅𝐑𝐄𝐄  nitro\n\n") == "free nitro"  # styled letters, spaces


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("selling an aimbot cheap", "keyword"),
        ("AIMBOT for sale", "keyword"),
        ("a1mb0t for sale", "keyword"),  # leetspeak
        ("a\u200bimbot", "keyword"),  # zero-width inside the word
        ("aimbotting all day", None),  # whole words only
        ("best wall hack here", "keyword"),  # a phrase
        ("the wall is a hack job", None),  # phrase words must be adjacent
        ("he cheated and got banned", "keyword"),  # prefix keyword cheat*
        ("what a great match", None),
    ],
)
def test_keywords_match_whole_words_after_normalisation(text, expected):
    prefilter = pf(keywords=("aimbot", "wall hack", "cheat*"))
    assert hit(prefilter, text) == expected


def test_one_letter_prefix_is_refused():
    with pytest.raises(PrefilterError, match="at least 2 letters"):
        pf(keywords=("ok", "x*"))


def test_hell_never_matches_hello():
    prefilter = pf(keywords=("hell",))
    assert hit(prefilter, "hello there, shell user") is None
    assert hit(prefilter, "go to hell") == "keyword"


def test_regex_is_re2_on_normalised_text():
    prefilter = pf(regex=(r"free\s*nitro", r"\d+\s*robux"))
    assert hit(prefilter, "FREE   NiTrO inside") == "regex"
    assert hit(prefilter, "get 5000 robux now") == "regex"
    assert hit(prefilter, "nitro is free? no") is None


def test_backtracking_regex_stays_linear():
    # (a+)+$ is catastrophic for a backtracking engine; RE2 answers at once.
    prefilter = pf(regex=(r"(a+)+$",))
    started = time.perf_counter()
    assert hit(prefilter, "a" * 50_000 + "!") is None
    assert time.perf_counter() - started < 2.0


def test_invalid_regex_names_its_index():
    with pytest.raises(PrefilterError) as info:
        pf(regex=("ok", r"(?<=x)y"))
    assert info.value.field == "regex[1]"


def test_domains_match_subdomains_and_defanged_links():
    prefilter = pf(domains=("steamcommunlty.com", "dlscord-gift.ru"))
    assert hit(prefilter, "claim at https://steamcommunlty.com/trade") == "domain"
    assert hit(prefilter, "go to login.steamcommunlty.com") == "domain"
    assert hit(prefilter, "dlscord-gift[.]ru/xyz") == "domain"
    assert hit(prefilter, "https://steamcommunity.com is the real one") is None


def test_domain_files_json_and_lines(tmp_path: Path):
    (tmp_path / "a.json").write_text('{"domains": ["evil.example"]}')
    (tmp_path / "b.txt").write_text("# comment\nbad.example\n")
    prefilter = CompiledPrefilter(Prefilter(domain_files=("a.json", "b.txt")), "p", base_dir=tmp_path)
    assert hit(prefilter, "see www.evil.example") == "domain"
    assert hit(prefilter, "see x.bad.example/path") == "domain"
    with pytest.raises(PrefilterError, match="cannot read"):
        CompiledPrefilter(Prefilter(domain_files=("missing.txt",)), "p", base_dir=tmp_path)


def test_links_and_always():
    assert hit(pf(links=True), "look at https://example.org") == "link"
    assert hit(pf(links=True), "no link here") is None
    assert hit(pf(always=True), "anything") == "always"


def test_sample_rate_spot_checks_a_stable_fraction():
    prefilter = pf(keywords=("zzz",), sample_rate=0.1)
    picked = [hit(prefilter, "ordinary chat", key=str(i)) for i in range(5000)]
    share = picked.count("sample") / len(picked)
    assert 0.07 < share < 0.13
    # The same message id gets the same decision: a redelivery is not a second sample.
    assert [hit(prefilter, "ordinary chat", key=str(i)) for i in range(50)] == picked[:50]
    assert hit(pf(keywords=("zzz",)), "ordinary chat", key="1") is None
