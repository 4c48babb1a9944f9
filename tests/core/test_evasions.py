"""Disguised violations are still selected by the policy they target, and the model sees them."""

from __future__ import annotations

import pytest

from bot.core.classifier.base import ClassifyRequest, ModelTier, RawAnswer
from bot.core.messages import Verdict
from bot.core.normalize import as_displayed
from bot.core.policies import Policy
from bot.core.policy_model import Prefilter
from bot.core.prefilter import CompiledPrefilter, PreparedText


def selected_by(policy: Policy, text: str) -> str | None:
    match = policy.prefilter.match(PreparedText.of(text))
    return match.reason if match else None


@pytest.mark.parametrize(
    "text",
    [
        "аimbоt for sale",  # Cyrillic а and о
        "αimbοt for sale",  # Greek α and ο
        "𝖆𝖎𝖒𝖇𝖔𝖙 for sale",  # mathematical letters
        "selling a i m b o t dm me",  # spaced letters
        "selling a.i.m.b.o.t dm me",  # dotted letters
        "selling a🔥i🔥m🔥b🔥o🔥t dm me",  # emoji between letters
        "selling a-i-m-b-0-t dm me",  # separators and leetspeak together
        "aimbooooot cheap",  # repeated letters
        "selling \u202etobmia\u202c",  # right-to-left override shows "aimbot"
    ],
)
def test_disguised_cheat_offer_is_selected_by_game_cheating(library, text):
    assert selected_by(library["game-cheating"], text) == "keyword"


@pytest.mark.parametrize(
    "text",
    [
        "hello there, how are you",
        "i am a big fan of this game",
        "good game everyone, well played",
        "the bot crashed again lol",
    ],
)
def test_ordinary_chat_is_not_selected_by_game_cheating(library, text):
    assert selected_by(library["game-cheating"], text) is None


def test_a_prefix_squeezed_to_one_letter_does_not_select_everything():
    prefilter = CompiledPrefilter(Prefilter(keywords=("eee*",)), "p")
    assert prefilter.match(PreparedText.of("every cat")) is None
    assert prefilter.match(PreparedText.of("eeek a mouse")) is not None


@pytest.mark.parametrize(
    "text",
    [
        "claim at disсord-gift.com now",  # one Cyrillic letter in the domain
        "claim at https://dіscord-gift.com/x",  # Ukrainian і
        "claim at xn--dscord-gift-zvj.com",  # the same look-alike as punycode
        "claim at discord-gift[.]com",  # defanged
    ],
)
def test_look_alike_phishing_domain_is_found(text):
    prefilter = CompiledPrefilter(Prefilter(domains=("discord-gift.com",)), "scams")
    match = prefilter.match(PreparedText.of(text))
    assert match is not None and match.reason == "domain" and match.detail == "discord-gift.com"


def test_a_listed_punycode_domain_matches_its_look_alike_text():
    prefilter = CompiledPrefilter(Prefilter(domains=("xn--dscord-gift-zvj.com",)), "scams")
    assert prefilter.match(PreparedText.of("go to disсord-gift.com")) is not None
    assert prefilter.match(PreparedText.of("go to discord.com")) is None


def test_domains_keep_their_digits():
    prefilter = CompiledPrefilter(Prefilter(domains=("steam4free.ru",)), "scams")
    assert prefilter.match(PreparedText.of("see steam4free.ru")) is not None


def test_bidi_override_is_read_as_displayed_and_controls_removed():
    assert as_displayed("selling \u202etobmia\u202c now") == "selling aimbot now"
    assert as_displayed("a\u2067b\u2069c\u200f") == "abc"


class _Recording(ModelTier):
    """A model tier that records what it was shown and answers 'allowed'."""

    tier = 1
    model = "recording"

    def __init__(self) -> None:
        self.seen: list[str] = []

    async def _call(self, policy: Policy, user_message: str, effort: str) -> RawAnswer:
        self.seen.append(user_message)
        answer = '{"violation": 0, "policy_category": null, "rule_ids": [], "confidence": "high", '
        return RawAnswer(answer + '"rationale": "ok"}', "", False)


async def test_padding_cannot_hide_a_selected_violation_from_the_model(library):
    policy = library["game-cheating"]
    text = "x " * 2100 + "selling aimbot dm me"
    assert selected_by(policy, text) == "keyword"
    tier = _Recording()
    assert isinstance(await tier.classify(policy, ClassifyRequest(text)), Verdict)
    assert "selling aimbot dm me" in tier.seen[0]


async def test_a_long_slack_message_shows_every_hit_within_the_limit(library):
    policy = library["game-cheating"]
    text = "x " * 5000 + "first aimbot offer " + "y " * 10000 + "then a wallhack " + "z " * 5000
    tier = _Recording()
    await tier.classify(policy, ClassifyRequest(text))
    shown = tier.seen[0]
    assert "first aimbot offer" in shown and "then a wallhack" in shown
    assert "characters not shown" in shown
    assert len(shown) < 4500


async def test_the_model_reads_a_bidi_override_as_displayed(library):
    tier = _Recording()
    await tier.classify(library["game-cheating"], ClassifyRequest("selling \u202etobmia\u202c"))
    assert "selling aimbot" in tier.seen[0]
