"""What a review of the screen found: a deleted message is never checked through its offer, and
spaces running two texts of one policy id do not rebuild the pooled screen at every message."""

from __future__ import annotations

import asyncio
from unittest import mock

from bot.core.prefilter import PreparedText
from bot.core.screen import Screens
from bot.core.screen.settings import ScreenSettings
from bot.store import Store
from tests.conftest import POLICY_DIR
from tests.core.test_screen_scheduling import SCREENED, _pipeline, msg


async def test_a_deleted_message_is_not_checked_through_its_offer(tmp_path, tokens):
    store, pipe, _screens, model = await _pipeline(tmp_path, tokens, SCREENED)
    try:
        m = msg(2, "get 9k real views for 5 bucks")
        assert (await pipe.submit(m)).candidates == 0 and pipe.scheduler.offered() == 1
        pipe.forget(m.space_id, m.message_id)  # what core.withdraw does when it is deleted
        await store.inbox.withdraw(m.space_id, m.message_id)
        worker = asyncio.create_task(pipe.worker())
        async with asyncio.timeout(5):
            while pipe.scheduler.offered():
                await asyncio.sleep(0.01)
        await pipe.drain(5)
        worker.cancel()
        await asyncio.gather(worker, return_exceptions=True)
        assert model.seen == []
    finally:
        await store.close()


async def test_two_texts_of_one_policy_id_do_not_rebuild_the_screen_per_message(make_policy, tmp_path):
    text = (POLICY_DIR / "harassment.yaml").read_text()
    library = make_policy(text, "a.yaml")
    edited = make_policy(text.replace("title: Harassment", "title: Harassment here", 1), "b.yaml")
    assert library.id == edited.id and library.content_hash != edited.content_hash
    store = await Store.open(tmp_path / "db.sqlite")
    screens = Screens(store, ScreenSettings())
    hops = 0
    real = asyncio.to_thread

    async def counting(*args, **kwargs):
        nonlocal hops
        hops += 1
        return await real(*args, **kwargs)

    try:
        await screens.ready([library])
        await screens.ready([edited])
        with mock.patch("bot.core.screen.book.asyncio.to_thread", counting):
            for _ in range(50):  # messages alternate between a space with each text
                await screens.ready([library])
                screens.scores(PreparedText.of("hi there"), "A", [library])
                await screens.ready([edited])
                screens.scores(PreparedText.of("hi there"), "B", [edited])
        assert hops == 0
    finally:
        await store.close()
