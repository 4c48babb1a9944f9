"""Which Slack events are members' words, with what context, and which are redeliveries."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.core.messages import IncomingMessage
from bot.platforms.slack.intake import Intake, plain_text

BODY = {"team_id": "T1", "event_id": "Ev1"}


def msg(text: str, ts: str = "1.1", user: str = "U1", **extra: object) -> dict[str, object]:
    return {"type": "message", "channel": "C1", "user": user, "text": text, "ts": ts, **extra}


def test_members_words_become_messages_and_the_rest_is_ignored() -> None:
    intake = Intake(_never)
    taken = intake.to_message(BODY, msg("hello <@U2> see <https://x.example/a|this> &amp; <#C9|dev>"))
    assert taken is not None and taken.space_id == "T1" and taken.message_id == "1.1"
    assert taken.text == "hello @U2 see this (https://x.example/a) & #dev"
    reply = intake.to_message(BODY, msg("in a thread", ts="1.2", thread_ts="1.1"))
    assert reply is not None and reply.text == "in a thread"
    for ignored in (
        msg("joined", subtype="channel_join"),
        msg("topic", subtype="channel_topic"),
        msg("from a bot", subtype="bot_message", bot_id="B1"),
        msg("an app's post", bot_id="B2"),
        msg("deleted", subtype="message_deleted"),
        msg("private", channel_type="im"),
    ):
        assert intake.to_message(BODY, ignored) is None, ignored


def test_an_edit_is_a_new_text_for_the_same_message_and_an_unfurl_is_not() -> None:
    intake = Intake(_never)
    before, after = msg("old words", ts="5.5"), msg("new words", ts="5.5")
    edit = {"type": "message", "subtype": "message_changed", "channel": "C1", "message": after,
            "previous_message": before}  # fmt: skip
    taken = intake.to_message(BODY, edit)
    assert taken is not None and taken.edited and taken.message_id == "5.5" and taken.text == "new words"
    unfurl = {**edit, "message": {**before, "attachments": [{"title": "a preview"}]}}
    assert intake.to_message(BODY, unfurl) is None


def test_each_message_carries_the_channels_recent_lines() -> None:
    intake = Intake(_never, names={"U1": "sam"}.get)  # type: ignore[arg-type]
    for n in range(25):
        intake.to_message(BODY, msg(f"line {n}", ts=f"{n}.0"))
    last = intake.to_message(BODY, msg("the target", ts="99.0"))
    assert last is not None and len(last.context) == 20
    assert last.context[-1].text == "line 24" and last.context[-1].author == "sam"


async def test_a_redelivered_event_is_submitted_once_and_a_failed_one_again() -> None:
    seen: list[IncomingMessage] = []

    async def submit(message: IncomingMessage) -> None:
        seen.append(message)

    intake = Intake(submit)
    assert await intake.on_event(BODY, msg("hi"))
    assert await intake.on_event(BODY, msg("hi"))  # Slack's retry: acknowledged, not submitted
    assert len(seen) == 1
    edited = {"team_id": "T1", "event_id": "Ev2"}
    assert await intake.on_event(edited, msg("hi again", ts="1.1"))  # same ts, new event: taken
    assert len(seen) == 2

    async def broken(message: IncomingMessage) -> None:
        raise OSError("disk full")

    failing = Intake(broken)
    assert not await failing.on_event(BODY, msg("hi"))  # not stored: Slack must send it again
    failing._submit = submit  # the store is back
    assert await failing.on_event(BODY, msg("hi")) and len(seen) == 3


async def test_a_retry_during_a_failing_first_attempt_gets_its_failure_and_a_later_retry_stores() -> None:
    """Slack retries after 3 s; the first attempt may still be waiting on a busy store."""
    stored: list[str] = []
    reached: list[str] = []
    store_answers = asyncio.Event()
    locked = True

    async def submit(message: IncomingMessage) -> None:
        reached.append(message.message_id)
        await store_answers.wait()
        if locked:
            raise RuntimeError("database is locked")
        stored.append(message.message_id)

    intake = Intake(submit)
    first = asyncio.create_task(intake.on_event(BODY, msg("hi")))
    await _until(lambda: reached)
    retry = asyncio.create_task(intake.on_event(BODY, msg("hi")))  # while the first is in flight
    store_answers.set()
    assert not await retry, "a retry was acknowledged before the message was stored"
    assert not await first
    assert reached == ["1.1"] and stored == []  # the retry waited on the first attempt
    locked = False
    assert await intake.on_event(BODY, msg("hi"))  # Slack's next retry tries again, and stores
    assert stored == ["1.1"]
    assert await intake.on_event(BODY, msg("hi"))  # a retry of a stored event costs nothing
    assert reached == ["1.1", "1.1"] and stored == ["1.1"]


async def test_a_first_attempt_whose_request_was_dropped_still_answers_the_retry() -> None:
    """Slack gives up on the first request (the listener is cancelled); the store goes on."""
    stored: list[str] = []
    store_answers = asyncio.Event()

    async def submit(message: IncomingMessage) -> None:
        await store_answers.wait()
        stored.append(message.message_id)

    intake = Intake(submit)
    first = asyncio.create_task(intake.on_event(BODY, msg("hi")))
    await asyncio.sleep(0)
    first.cancel()
    retry = asyncio.create_task(intake.on_event(BODY, msg("hi")))
    store_answers.set()
    assert await retry
    assert stored == ["1.1"]


async def _until(check: Callable[[], object]) -> None:
    async with asyncio.timeout(5):
        while not check():
            await asyncio.sleep(0)


def test_plain_text_reads_specials() -> None:
    assert plain_text("<!here> <!subteam^S1|@mods> <mailto:a@b.c|a@b.c>") == "@here @mods a@b.c"


async def _never(message: IncomingMessage) -> None:
    raise AssertionError("not submitted in this test")
