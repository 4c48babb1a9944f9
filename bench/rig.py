"""A whole ModerationCore wired for benchmarks: real store and classifier, a timing platform.

Built like tests/core_flow/conftest.py builds it (Store.open, TieredClassifier(OllamaTier),
PolicyBook with parse_policy, ModerationCore) but pointed at the model emulator, with every
submit, verdict and posted flag time-stamped (time.monotonic(), real seconds).
"""

from __future__ import annotations

import asyncio
import functools
import tempfile
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Self

from bot.core.classifier.ollama import OllamaSettings, OllamaTier
from bot.core.classifier.tiered import TieredClassifier
from bot.core.library import PolicyLibrary
from bot.core.messages import IncomingMessage, Verdict
from bot.core.policies import Policy, TokenLimits, load_policy_dir, parse_policy
from bot.core.policy_book import ActivePolicy, PolicyBook
from bot.core.ports import Actor, Capabilities, PlatformResult
from bot.core.service import CoreSettings, ModerationCore
from bot.core.tokens import TokenCounter, load_encoding
from bot.core.views import FlagView, MemberNotice
from bot.store import Store
from bot.store.records import Job

__all__ = ["ADMIN", "PLATFORM", "BenchPlatform", "CoreRig", "library_yaml", "make_message", "token_count"]

PLATFORM = "bench"
ADMIN = Actor("bench-admin", "bench-admin", is_admin=True, system=True)  # installs in every space
POLICY_DIR = Path(__file__).resolve().parents[1] / "community_policies"
Key = tuple[str, str]  # (space_id, message_id)


@functools.cache
def token_count() -> Callable[[str], int]:
    """The bot's token counter (loading the encoding takes a while: once per process)."""
    return TokenCounter(load_encoding()).count


@functools.cache
def library_yaml() -> dict[str, str]:
    """Policy id -> YAML text of every library policy (file name = policy id)."""
    return {p.stem: p.read_text(encoding="utf-8") for p in sorted(POLICY_DIR.glob("*.yaml"))}


def compile_policy(yaml_text: str, source: str) -> Policy:
    return parse_policy(yaml_text, source, token_count(), TokenLimits())


def make_message(space_id: str, message_id: str, text: str, author: str = "member") -> IncomingMessage:
    return IncomingMessage(
        platform=PLATFORM, space_id=space_id, channel_id="general", message_id=message_id,
        author_id=author, author_name=author, text=text, channel_name="general",
    )  # fmt: skip


@dataclass
class BenchPlatform:
    """Satisfies bot.core.ports.Platform; records when each flag card is posted."""

    name: str = PLATFORM
    capabilities: Capabilities = field(default_factory=Capabilities)
    flags: dict[tuple[str, str, str], float] = field(default_factory=dict)  # (space, msg, policy)
    calls: dict[str, int] = field(default_factory=dict)

    def _count(self, what: str) -> None:
        self.calls[what] = self.calls.get(what, 0) + 1

    async def post_flag(self, view: FlagView, mod_channel_id: str) -> PlatformResult:
        self.flags.setdefault((view.space_id, view.message_id, view.policy_id), time.monotonic())
        self._count("post_flag")
        return PlatformResult(True, ref=f"card-{view.case_id}")

    async def update_flag(self, ref: str, view: FlagView, mod_channel_id: str) -> PlatformResult:
        self._count("update_flag")
        return PlatformResult(True, ref=ref)

    async def delete_message(self, space_id: str, channel_id: str, message_id: str) -> PlatformResult:
        self._count("delete_message")
        return PlatformResult(True)

    async def timeout_member(self, space_id: str, user_id: str, minutes: int, reason: str) -> PlatformResult:
        self._count("timeout_member")
        return PlatformResult(True)

    async def dm(self, notice: MemberNotice) -> PlatformResult:
        self._count("dm")
        return PlatformResult(True)

    async def check_setup(self, space_id: str, mod_channel_id: str) -> list[str]:
        return []


class CoreRig:
    """`async with CoreRig(emu.url, workers=2, time_scale=0.2) as rig:` a started core on a temp store.

    Real-time settings of the core (outbox poll, retry backoff, breaker cooldown) are its
    production defaults multiplied by `time_scale`, so they keep their size in model time.
    """

    def __init__(
        self,
        model_url: str,
        *,
        workers: int,
        time_scale: float,
        timeout_s: float = 120.0,
        classifier: TieredClassifier | None = None,
        database: str | None = None,
        beside: CoreRig | None = None,
    ) -> None:
        """`classifier` (e.g. a pool of endpoints) replaces the single Ollama at `model_url`;
        `database` (a postgresql:// URL) replaces the temporary SQLite file; a rig `beside` another
        on the same Postgres is a second process: it shares the first one's timings."""
        self.model_url = model_url
        self.database = database
        self._given = classifier
        self.workers = workers
        self.time_scale = time_scale
        self.timeout_s = timeout_s
        self.platform = BenchPlatform()
        self.submitted: dict[Key, float] = beside.submitted if beside else {}
        # (space, msg, policy) -> time
        self.verdicts: dict[tuple[str, str, str], float] = beside.verdicts if beside else {}
        self.violations = 0
        self._verdict_seen: asyncio.Event = beside._verdict_seen if beside else asyncio.Event()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._store: Store | None = None
        self._classifier: TieredClassifier | None = None
        self._core: ModerationCore | None = None

    @property
    def core(self) -> ModerationCore:
        if self._core is None:
            raise RuntimeError("the rig is not started")
        return self._core

    async def __aenter__(self) -> Self:
        self._tmp = tempfile.TemporaryDirectory(prefix="modbot-bench-")
        self._store = await Store.open(self.database or Path(self._tmp.name) / "modbot.db")
        self._classifier = self._given or TieredClassifier(
            OllamaTier(OllamaSettings(host=self.model_url, timeout_s=self.timeout_s))
        )
        book = PolicyBook(self._store, compile_policy)
        d = CoreSettings()
        settings = CoreSettings(
            workers=self.workers,
            outbox_poll_s=d.outbox_poll_s * self.time_scale,
            retry_base_s=d.retry_base_s * self.time_scale,
            breaker_cooldown_s=d.breaker_cooldown_s * self.time_scale,
        )
        library = PolicyLibrary(
            POLICY_DIR, lambda paths: load_policy_dir(paths, token_count(), TokenLimits())
        )
        self._core = ModerationCore(
            self._store, self._classifier, book, {PLATFORM: self.platform}, library, settings
        )
        self._hook_verdicts(self._core)
        await self._core.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._core is not None:
            await self._core.stop()
        if self._classifier is not None:
            await self._classifier.aclose()
        if self._store is not None:
            await self._store.close()
        if self._tmp is not None:
            self._tmp.cleanup()
        self._core = self._classifier = self._store = self._tmp = None

    def _hook_verdicts(self, core: ModerationCore) -> None:
        """Time-stamp verdicts: wraps the pipeline's on_verdict callback (instrumentation only)."""
        inner = core.pipeline.on_verdict

        async def timed(job: Job, active: ActivePolicy, verdict: Verdict) -> None:
            await inner(job, active, verdict)
            self.verdicts.setdefault((job.space_id, job.message_id, active.policy.id), time.monotonic())
            self.violations += verdict.violation
            self._verdict_seen.set()

        core.pipeline.on_verdict = timed

    async def add_space(
        self, space_id: str, policy_ids: Iterable[str], *, budget_per_minute: int = 1_000_000
    ) -> None:
        """Create the space and install library policies in live mode, as an admin would."""
        core = self.core
        await core.ensure_space(
            space_id, PLATFORM, space_id, mod_channel_id="mods", budget_per_minute=budget_per_minute
        )
        library = library_yaml()
        for pid in policy_ids:
            result = await core.admin.upload(space_id, ADMIN, library[pid], mode="live", source=f"{pid}.yaml")
            if not result.ok:
                raise RuntimeError(f"cannot install {pid} in {space_id}: {result.message}")

    async def submit(self, msg: IncomingMessage) -> int:
        """Submit and time-stamp; the number of jobs queued."""
        self.submitted[(msg.space_id, msg.message_id)] = time.monotonic()
        return (await self.core.submit(msg)).queued

    async def wait_verdicts(self, keys: Iterable[tuple[str, str, str]], timeout_s: float) -> None:
        """Wait until every (space, message, policy) has a verdict."""
        wanted = set(keys)
        async with asyncio.timeout(timeout_s):
            while not wanted <= self.verdicts.keys():
                self._verdict_seen.clear()
                await self._verdict_seen.wait()

    def verdict_latencies(self, keys: Iterable[tuple[str, str, str]]) -> list[float]:
        """Real seconds from submit to verdict for each key that has one."""
        return [
            self.verdicts[k] - self.submitted[(k[0], k[1])]
            for k in keys
            if k in self.verdicts and (k[0], k[1]) in self.submitted
        ]

    def flag_latencies(self) -> list[float]:
        """Real seconds from submit to the first posted flag card, per (message, policy)."""
        return [
            posted - self.submitted[(space, msg)]
            for (space, msg, _pid), posted in self.platform.flags.items()
            if (space, msg) in self.submitted
        ]
