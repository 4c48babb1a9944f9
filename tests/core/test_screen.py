"""The learned screen: learns from labels, never promotes a worse model, survives restarts."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest

from bot.core.messages import PolicyRef, Verdict
from bot.core.policies import Policy
from bot.core.screen import Screens, ScreenSettings, wilson
from bot.core.screen.features import N_FEATURES, text_features
from bot.core.screen.model import Labelled, ScreenModel, held_back, operating_threshold, recall, train
from bot.store import Store
from bot.store.records import Job

ITEMS = ["followers", "likes", "subs", "views", "upvotes", "members"]
SITES = ["boostz", "growfast", "socialpump", "likefarm", "viewbot"]
TOPICS = ["the raid", "dinner", "my cat", "the patch notes", "homework", "the weather", "that movie"]


def violation(rng: random.Random) -> str:
    return (
        f"{rng.choice(['hey', 'yo', 'hi all'])} get {rng.randint(1, 9)}k real {rng.choice(ITEMS)} "
        f"for {rng.randint(2, 20)} bucks at {rng.choice(SITES)} dot net, instant delivery"
    )


def benign(rng: random.Random) -> str:
    return (
        f"{rng.choice(['lol', 'honestly', 'ok so'])} {rng.choice(TOPICS)} was "
        f"{rng.choice(['fun', 'weird', 'long', 'great'])}, {rng.choice(['see you', 'brb', 'gn'])}"
    )


def job(n: int, text: str, space: str = "s1", reason: str = "screen") -> Job:
    return Job(
        id=n, dedupe_key=f"k{n}", space_id=space, platform="console", channel_id="c", channel_name="",
        message_id=f"m{n}", author_id="a", author_name="", text=text, context=(), edited=False,
        sent_at=0.0, policy_id="spam-self-promotion", policy_version=1, policy_hash="h",
        match_reason=reason, status="done", attempts=0, not_before=0.0, last_error=None,
        escalate=False, created_at=0.0, updated_at=0.0,
    )  # fmt: skip


def verdict(policy: Policy, violation: bool) -> Verdict:
    return Verdict(
        violation=violation, confidence="high", rule_ids=(), category=None, rationale="", reasoning="",
        tier=1, model="20b", policy=PolicyRef(policy.id, policy.version, policy.content_hash), latency_ms=1.0,
    )  # fmt: skip


async def teach(
    screens: Screens, policy: Policy, n: int, seed: int, *, poison: bool = False, reason: str = "keyword"
) -> None:
    """`n` labels, a quarter violations; `poison` flips every label that trains (not those held back);
    `reason` is why the model checked them (keyword hits by default)."""
    rng = random.Random(seed)
    for i in range(n):
        bad = i % 4 == 0
        text = violation(rng) if bad else benign(rng)
        n_id = seed * 100_000 + i
        flip = poison and not held_back(f"s1:m{n_id}")
        await screens.observe(job(n_id, text, reason=reason), policy, verdict(policy, bad != flip))


def recall_on_fresh(screens: Screens, policy: Policy, seed: int = 99) -> float:
    rng = random.Random(seed)
    texts = [violation(rng) for _ in range(40)]
    scores = screens.scores_for(policy, texts)
    return sum(s >= 0.5 for s in scores) / len(scores)


@pytest.fixture
async def store(tmp_path: Path):
    s = await Store.open(tmp_path / "screen.db")
    yield s
    await s.close()


async def test_a_screen_improves_as_labels_arrive(store, library):
    policy = library["spam-self-promotion"]
    screens = Screens(store, ScreenSettings(retrain_after=10_000))
    await screens.ready([policy])
    before = recall_on_fresh(screens, policy)
    await teach(screens, policy, 200, seed=1)
    assert await screens.retrain(policy.id)
    after = recall_on_fresh(screens, policy)
    assert after >= 0.9 > before
    rng = random.Random(5)
    assert max(screens.scores_for(policy, [benign(rng) for _ in range(40)])) < 0.5
    assert screens.model(policy.id).version == 1


async def test_a_worse_candidate_is_never_promoted(store, library):
    policy = library["spam-self-promotion"]
    screens = Screens(store, ScreenSettings(retrain_after=10_000))
    await teach(screens, policy, 200, seed=1)
    assert await screens.retrain(policy.id)
    good = screens.model(policy.id)
    # Later training labels say the opposite (a poisoning attempt): the candidate's recall on the
    # held-back labels drops, so the predecessor stays.
    await teach(screens, policy, 600, seed=2, poison=True)
    assert not await screens.retrain(policy.id)
    assert screens.model(policy.id) is good
    assert screens.stats.kept_predecessor == 1
    assert recall_on_fresh(screens, policy) >= 0.9


async def test_a_restart_keeps_the_trained_screens(tmp_path, library):
    policy = library["spam-self-promotion"]
    texts = [violation(random.Random(3)), benign(random.Random(4))]
    async with await Store.open(tmp_path / "a.db") as first:
        screens = Screens(first, ScreenSettings(retrain_after=10_000))
        await teach(screens, policy, 200, seed=1)
        await screens.retrain(policy.id)
        scores = screens.scores_for(policy, texts)
    async with await Store.open(tmp_path / "a.db") as second:
        again = Screens(second, ScreenSettings())
        assert await again.load() == 1
        await again.ready([policy])
        assert again.scores_for(policy, texts) == pytest.approx(scores, abs=1e-6)
        assert again.model(policy.id).version == 1


async def test_moderator_decisions_outrank_the_models_labels(store, library):
    policy = library["spam-self-promotion"]
    screens = Screens(store, ScreenSettings())
    await screens.observe(job(1, "buy my stuff"), policy, verdict(policy, True))
    await store.screens.add_label(policy.id, "s1", "m1", b"\x01\x00", 0, "moderator")
    await screens.observe(job(1, "buy my stuff"), policy, verdict(policy, True))  # a re-check
    rows = await store.screens.labels(policy.id, 10)
    assert [r.label for r in rows] == [0]


async def test_a_flood_answered_from_the_cache_teaches_the_screen_once(store, library):
    policy = library["spam-self-promotion"]
    screens = Screens(store, ScreenSettings())
    await screens.observe(job(1, "buy my stuff"), policy, verdict(policy, True))
    for i in range(2, 50):  # copies of it, each answered from the verdict cache
        await screens.observe(job(i, "buy my stuff"), policy, verdict(policy, True), cached=True)
    drawn = job(50, "buy my stuff", reason="random")
    await screens.observe(drawn, policy, verdict(policy, True), cached=True)
    assert [r.message_id for r in await store.screens.labels(policy.id, 100)] == ["m1"]
    assert (await store.screens.check_counts(policy.id)).checks == 1  # a drawn pair counts, cached or not


async def test_random_checks_estimate_recall_with_an_interval(store, library):
    policy = library["spam-self-promotion"]
    screens = Screens(store, ScreenSettings())
    rng = random.Random(7)
    for i in range(30):
        await screens.observe(job(i, violation(rng), reason="random"), policy, verdict(policy, True))
    counts = await store.screens.check_counts(policy.id)
    assert counts.checks == counts.violations == 30
    low, high = wilson(counts.by_screen, counts.violations)
    assert 0.0 <= low <= counts.by_screen / 30 <= high <= 1.0
    report = await screens.report(policy.id)
    assert report.random_checks == 30 and report.recall == counts.by_screen / 30
    assert report.recall_ci95 == (low, high)
    assert "95% CI" in report.line() and "30 random checks" in report.line()


def test_wilson_interval_narrows_with_more_checks():
    assert wilson(9, 10)[1] - wilson(9, 10)[0] > wilson(90, 100)[1] - wilson(90, 100)[0]


def test_held_back_share_is_about_a_fifth():
    share = sum(held_back(f"s:m{i}") for i in range(5000)) / 5000
    assert 0.15 < share < 0.25


async def test_moderators_decisions_become_labels_without_any_hook(store, library):
    from bot.core.messages import IncomingMessage
    from bot.store.records import NewJob

    policy = library["spam-self-promotion"]
    screens = Screens(store, ScreenSettings())
    decided = []
    for n, status in ((1, "dismissed"), (2, "removed")):
        msg = IncomingMessage("console", "s1", "c", f"m{n}", "u", "ann", f"check out my channel {n}")
        job_id = (await store.inbox.add_many([NewJob.from_message(msg, policy_id=policy.id,
                  policy_version=1, policy_hash=policy.content_hash)]))[0]  # fmt: skip
        v = verdict(policy, True)
        verdict_id = await store.verdicts.add(job_id, "s1", msg.message_id, v, shadow=False)
        case, _ = await store.cases.open(
            space_id="s1", platform="console", channel_id="c", message_id=msg.message_id, author_id="u",
            author_name="ann", policy_id=policy.id, policy_version=1, rule_ids=(), category=None,
            rationale="", confidence="high", tier=1, text=msg.text, verdict_id=verdict_id,
        )  # fmt: skip
        decided.append(await store.cases.decide(case.id, status, "mod"))
    assert await screens.learn_decisions() == 2
    assert await screens.learn_decisions() == 0  # each decision is learned once
    rows = {r.message_id: r.label for r in await store.screens.labels(policy.id, 10)}
    assert rows == {"m1": 0, "m2": 1}  # a dismissal is a negative, a removal a positive


def test_recall_is_judged_where_the_screen_operates_not_at_a_fixed_probability():
    rng = random.Random(7)
    positives = [Labelled(text_features(violation(rng)), 1) for _ in range(30)]
    traffic = [text_features(benign(rng)) for _ in range(400)]
    ranker = train("p", positives[:15] + [Labelled(t, 0) for t in traffic[:100]])
    assert ranker is not None
    noise = np.random.default_rng(0).normal(0, 0.05, N_FEATURES).astype(np.float32)
    eager = ScreenModel("p", noise, intercept=6.0)  # about 1.0 for everything, in no useful order
    held = positives[15:]
    assert recall(eager, held) == 1.0  # past 0.5 it "recalls" every violation...
    assert (recall(eager, held, traffic) or 0.0) < 0.5  # ...but in the top 2 % of traffic it finds few
    assert recall(ranker, held, traffic) == 1.0
    line = operating_threshold(ranker, traffic)
    assert sum(ranker.score(t) > line for t in traffic) <= 0.02 * len(traffic)
    stored = ScreenModel("p", ranker.weights, ranker.intercept, threshold=line)
    again = ScreenModel.from_blob("p", 1, *stored.to_blob())
    assert again.threshold == pytest.approx(line) and again.selects(held[0].features)


async def test_the_screens_own_picks_train_it_but_never_judge_its_promotion(store, library):
    policy = library["spam-self-promotion"]
    screens = Screens(store, ScreenSettings(retrain_after=10_000))
    await screens.ready([policy])
    before = recall_on_fresh(screens, policy)
    await teach(screens, policy, 200, seed=1, reason="screen")  # every label on an offer it made
    # Its picks train it, but nothing unbiased measures the candidate, so nothing shows it worse:
    # it replaces the model learned from the policy's examples alone, unjudged.
    assert await screens.retrain(policy.id)
    learned = screens.model(policy.id)
    assert learned.version == 1 and learned.recall is None
    assert recall_on_fresh(screens, policy) >= 0.9 > before
    await teach(screens, policy, 200, seed=3)  # keyword hits: some are held back to judge
    assert await screens.retrain(policy.id)
    judged = screens.model(policy.id)
    assert judged.version == 2 and judged.recall is not None and judged.recall >= 0.9


async def test_a_screen_that_does_not_train_still_records_every_label(store, library):
    """`modbot worker`: its verdicts teach the screen the `modbot run` processes train."""
    policy = library["spam-self-promotion"]
    worker = Screens(store, ScreenSettings(trains=False, retrain_after=10_000))
    await teach(worker, policy, 200, seed=1)
    assert worker.model(policy.id) is None  # no model trained here, not even the bootstrap one
    assert len(await store.screens.labels(policy.id, 1000)) == 200

    trainer = Screens(store, ScreenSettings(retrain_after=10_000))
    await trainer.ready([policy])
    assert await trainer.retrain(policy.id)  # from the worker's labels
    assert await worker.follow() == 1
    assert recall_on_fresh(worker, policy) >= 0.9
