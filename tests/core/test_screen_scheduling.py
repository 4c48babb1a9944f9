"""Spare capacity goes to the riskiest messages; certain work first; nothing grows without bound."""

from __future__ import annotations

import asyncio
import textwrap
from pathlib import Path

import pytest

from bot.core.messages import IncomingMessage, PolicyRef, Verdict
from bot.core.pipeline import Pipeline, PipelineSettings
from bot.core.policies import TokenLimits, parse_policy
from bot.core.policy_book import PolicyBook
from bot.core.scheduler import FairScheduler, Offer
from bot.core.screen import Screens, ScreenSettings
from bot.core.telemetry import Telemetry
from bot.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def msg(n: int, text: str = "hello", space: str = "g1") -> IncomingMessage:
    return IncomingMessage(
        platform="console", space_id=space, channel_id="c1", message_id=f"m{n}", author_id="u1",
        author_name="ann", text=text,
    )  # fmt: skip


def offer(n: int, score: float, space: str = "g1") -> Offer:
    return Offer(score, msg(n, space=space), "p", 1, "h")


def drain(s: FairScheduler, clock: Clock) -> list[int | Offer]:
    out: list[int | Offer] = []
    while isinstance(got := s._next(clock()), tuple):
        out.append(got[1])
    return out


def test_certain_work_goes_first_then_offers_by_score():
    clock = Clock()
    s = FairScheduler(lambda _s: 10_000, clock)
    s.offer("g1", offer(1, 0.3))
    s.offer("g2", offer(2, 0.9, space="g2"))
    s.put("g1", 10)
    s.offer("g1", offer(3, 0.6))
    s.put("g2", 11)
    taken = drain(s, clock)
    assert taken[:2] == [10, 11] or taken[:2] == [11, 10]
    assert [o.score for o in taken[2:] if isinstance(o, Offer)] == [0.9, 0.6, 0.3]


def test_a_flood_of_offers_keeps_only_the_riskiest_and_counts_the_rest():
    clock = Clock()
    s = FairScheduler(lambda _s: 10_000, clock, offers_per_space=50)
    for i in range(5000):
        s.offer("flood", offer(i, (i * 7919 % 5000) / 5000, space="flood"))
    for i in range(300):
        s.put("flood", 100_000 + i)  # certain jobs are never dropped
    assert s.offered() == 50
    assert s.offer_stats.dropped_full == 4950
    assert len(s) == 300  # certain jobs; offers are counted apart
    taken = drain(s, clock)
    assert taken[:300] == [100_000 + i for i in range(300)]
    scores = [o.score for o in taken[300:] if isinstance(o, Offer)]
    assert len(scores) == 50 and min(scores) >= 0.99


def test_stale_offers_are_dropped_with_a_count():
    clock = Clock()
    s = FairScheduler(lambda _s: 10_000, clock, offer_max_age_s=60)
    for i in range(10):
        s.offer("g1", offer(i, 0.8))
    clock.now += 61
    s.offer("g1", offer(99, 0.1))
    taken = drain(s, clock)
    assert [o.message.message_id for o in taken if isinstance(o, Offer)] == ["m99"]
    assert s.offer_stats.dropped_stale == 10
    assert s.offered() == 0


def test_offers_respect_the_space_budget_and_leave_a_reserve_for_certain_work():
    clock = Clock()
    s = FairScheduler(lambda space: 60, clock)  # a burst of 15 calls; offers keep 7.5 back
    for i in range(40):
        s.offer("g1", offer(i, 0.5))
    taken = 0
    while isinstance(s._next(clock()), tuple):
        s.charge("g1")
        taken += 1
    assert taken == 7 and s.offered() == 33
    s.put("g1", 42)  # a keyword hit, an appeal or an escalation arrives: it runs now
    assert s.poll() == ("g1", 42)


def test_a_small_budget_is_spent_on_certain_work_only():
    clock = Clock()
    s = FairScheduler(lambda space: 4, clock)  # a burst of 1 call
    s.offer("g1", offer(1, 0.9))
    assert s.poll() is None and s.offered() == 1
    s.put("g1", 7)
    assert s.poll() == ("g1", 7)


SCREENED = textwrap.dedent(
    """\
    id: boost-selling
    version: 1
    title: Selling follower boosts
    category: spam
    instructions: Flag messages that sell fake followers, likes or views for money.
    rules:
      - id: B1
        text: Offers to sell followers, likes, views or upvotes.
    examples:
      - text: get 5k real followers for 10 bucks, instant delivery
        label: violation
        rule_ids: [B1]
      - text: anyone up for the raid tonight?
        label: allowed
    prefilter:
      keywords: [followers]
    """
)


class Answering:
    """A stand-in classifier: 'violation' when the text mentions views."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self.tier2 = None
        self.telemetry = Telemetry()

    async def classify(self, policy, request, escalate=False, previous=None):
        self.seen.append(request.text)
        return Verdict(
            violation="views" in request.text, confidence="high", rule_ids=(), category=None,
            rationale="", reasoning="", tier=1, model="stub",
            policy=PolicyRef(policy.id, policy.version, policy.content_hash), latency_ms=1.0,
        )  # fmt: skip


async def _pipeline(tmp_path: Path, tokens, yaml_text: str, **screen: object):
    store = await Store.open(tmp_path / "p.db")
    book = PolicyBook(store, lambda text, src: parse_policy(text, src, tokens.count, TokenLimits()))
    try:
        policy = await book.compile(yaml_text, "test.yaml")
    except Exception:
        await store.close()  # an open store's thread would keep the test process alive
        raise
    await store.spaces.upsert("g1", "console", "g1")
    await store.policies.save_version("g1", policy.id, yaml_text, policy.content_hash, "root", mode="live")
    screens = Screens(store, ScreenSettings(random_rate=0.0, min_score=0.0, **screen))  # type: ignore[arg-type]
    classifier = Answering()

    async def on_verdict(*_args: object) -> None:
        return None

    pipe = Pipeline(store, book, classifier, on_verdict, PipelineSettings(), screens=screens)  # type: ignore[arg-type]
    return store, pipe, screens, classifier


async def test_idle_capacity_checks_what_keywords_missed_and_the_screen_learns(tmp_path, tokens):
    store, pipe, screens, model = await _pipeline(tmp_path, tokens, SCREENED)
    try:
        assert (await pipe.submit(msg(1, "get 5k real followers for 10 bucks"))).candidates == 1
        assert (await pipe.submit(msg(2, "get 9k real views for 5 bucks"))).candidates == 0  # keywords miss
        assert pipe.scheduler.offered() == 1
        worker = asyncio.create_task(pipe.worker())
        await pipe.drain(5)  # certain work only; the offer runs on the slot left free
        async with asyncio.timeout(5):
            while pipe.scheduler.offered() or len(model.seen) < 2:
                await asyncio.sleep(0.01)
        await pipe.drain(5)
        worker.cancel()
        assert "get 9k real views for 5 bucks" in model.seen  # the idle slot took the offer
        rows = await store.screens.labels("boost-selling", 10)
        assert sorted(r.label for r in rows) == [0, 1]
        assert screens.stats.labels == 2
    finally:
        await store.close()


async def test_always_true_bypasses_the_screen(tmp_path, tokens):
    always = SCREENED.replace("  keywords: [followers]", "  always: true")
    store, pipe, screens, _model = await _pipeline(tmp_path, tokens, always)
    try:
        result = await pipe.submit(msg(1, "nothing suspicious here"))
        assert result.candidates == 1 and result.queued == 1
        assert screens.stats.pairs == 0 and pipe.scheduler.offered() == 0
        jobs = await store.inbox.pending()
        assert [j.match_reason for j in jobs] == ["always"]
    finally:
        await store.close()


@pytest.mark.parametrize("enabled", [True, False])
async def test_a_policy_can_turn_its_screen_off(tmp_path, tokens, enabled):
    flag = f"  screen: {str(enabled).lower()}"
    text = SCREENED.replace("  keywords: [followers]", f"  keywords: [followers]\n{flag}")
    store, pipe, _screens, _model = await _pipeline(tmp_path, tokens, text)
    try:
        await pipe.submit(msg(1, "get 9k real views for 5 bucks"))
        assert pipe.scheduler.offered() == (1 if enabled else 0)
    finally:
        await store.close()


def test_offers_of_a_policy_whose_checks_come_back_clean_yield_to_one_that_finds_violations() -> None:
    from bot.core.screen.yields import OfferYields

    yields = OfferYields()
    for n in range(100):
        yields.checked("scams", violation=n % 4 == 0)  # one offer in four was a scam
        yields.checked("reviews", violation=False)  # never a fake review
    # A lukewarm scam offer goes before a confident review offer: scores of two policies' models
    # are not comparable, what their offers turned out to be is.
    assert yields.priority("scams", 0.3) > yields.priority("reviews", 0.9)
    # Always in the same order (no random draw): a replay takes the same offers.
    assert [yields.priority("reviews", 0.9) for _ in range(50)] == [yields.priority("reviews", 0.9)] * 50
    # A new model of the clean policy earns its offers a fresh look: a hundred clean checks no
    # longer bury them, but its latest ones still count against a policy that finds violations...
    before = yields.priority("reviews", 0.9)
    yields.fresh_look("reviews")
    assert yields.priority("reviews", 0.9) > 4 * before
    assert yields.priority("reviews", 0.9) < yields.priority("scams", 0.9)
    # ...and a new model whose offers do turn out to be violations is soon up with it.
    for n in range(20):
        yields.checked("reviews", violation=n % 2 == 0)
    assert yields.priority("reviews", 0.3) >= yields.priority("scams", 0.3)
