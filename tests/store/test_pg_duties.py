"""Several processes on one Postgres: a duty (the screen trainer) is done by one process at a time,
taken over when that process dies, and the others score with the models it stores."""

from __future__ import annotations

import asyncio
import random

from bot.core.screen import Screens, ScreenSettings
from bot.store import Store
from bot.store.workers import SCREEN_TRAINER
from tests.core.test_screen import benign, recall_on_fresh, teach, violation


async def test_one_process_holds_a_duty_and_another_takes_it_when_it_dies(pg_url: str) -> None:
    one, two = await Store.open(pg_url), await Store.open(pg_url)
    try:
        first, second = await one.register_worker(), await two.register_worker()
        assert await first.try_duty(SCREEN_TRAINER)
        assert await first.try_duty(SCREEN_TRAINER)  # it keeps it
        assert not await second.try_duty(SCREEN_TRAINER)
        await first.crash()  # killed: its session, and the lock with it, are gone
        for _ in range(500):  # the server notices the closed connection a moment later
            if await second.try_duty(SCREEN_TRAINER):
                break
            await asyncio.sleep(0.01)
        assert await second.try_duty(SCREEN_TRAINER)
        await second.close()
    finally:
        await two.close()
        await one.close()


async def test_a_process_that_does_not_train_scores_with_the_trainers_models(pg_url: str, library) -> None:
    policy = library["spam-self-promotion"]
    one, two = await Store.open(pg_url), await Store.open(pg_url)
    try:
        trainer = Screens(one, ScreenSettings(retrain_after=10_000))
        follower = Screens(two, ScreenSettings(retrain_after=10_000))
        await follower.ready([policy])
        untrained = recall_on_fresh(follower, policy)
        await teach(trainer, policy, 200, seed=1)
        assert await trainer.retrain(policy.id)

        assert await follower.follow() == 1
        assert await follower.follow() == 0  # nothing newer since
        assert follower.model(policy.id).version == trainer.model(policy.id).version
        texts = [violation(random.Random(3)), benign(random.Random(4))]
        assert follower.scores_for(policy, texts) == trainer.scores_for(policy, texts)
        assert recall_on_fresh(follower, policy) >= 0.9 > untrained
    finally:
        await two.close()
        await one.close()


async def test_processes_starting_at_once_on_an_empty_database_migrate_it_once(pg_cluster) -> None:
    url = pg_cluster.new_database()  # empty: no schema yet
    stores = await asyncio.gather(*(Store.open(url) for _ in range(4)))
    try:
        rows = await stores[0].db.fetchall("SELECT version FROM schema_version ORDER BY version")
        assert [int(r["version"]) for r in rows] == sorted({int(r["version"]) for r in rows})  # each once
        assert len(rows) >= 4
    finally:
        for store in stores:
            await store.close()
