"""Text is made valid once, where it enters the core."""

from __future__ import annotations

from bot.core.messages import ContextLine, IncomingMessage
from bot.core.text import valid_text


def test_lone_surrogates_become_replacement_characters_and_pairs_join():
    assert valid_text("a\ud800b\udcffc") == "a\ufffdb\ufffdc"
    assert valid_text("\ud83d\ude00") == "😀"  # a well-formed pair written as two escapes
    assert valid_text("plain ✓") == "plain ✓"


def test_incoming_message_and_context_are_valid_from_construction():
    msg = IncomingMessage(
        platform="test", space_id="s", channel_id="c", message_id="m\udc80",
        author_id="a", author_name="x\ud800", text="hi \udcff",
        context=(ContextLine("eve\udc80", "before \ud800"),),
    )  # fmt: skip
    assert (msg.text, msg.author_name, msg.message_id) == ("hi \ufffd", "x\ufffd", "m\ufffd")
    assert msg.context[0] == ContextLine("eve\ufffd", "before \ufffd")
    (msg.text + msg.context[0].text).encode("utf-8")  # what re2, SQLite and httpx need
