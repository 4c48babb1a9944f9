"""What a command handler may use: the core's services, and who is calling from where."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

from bot.core.admin import PolicyAdmin
from bot.core.cases import CaseService
from bot.core.classifier.tiered import TieredClassifier
from bot.core.library import PolicyLibrary
from bot.core.permissions import Gate
from bot.core.policy_book import PolicyBook
from bot.core.ports import Actor, Platform
from bot.core.screen import Screens
from bot.core.vocab import Role
from bot.store import Store


@dataclass(frozen=True, slots=True)
class Services:
    """The core's parts a command may use (wired once by the core)."""

    store: Store
    admin: PolicyAdmin
    cases: CaseService
    book: PolicyBook
    classifier: TieredClassifier
    library: PolicyLibrary
    gate: Gate
    platforms: Mapping[str, Platform]
    flush_counts: Callable[[], Awaitable[None]]  # messages seen, kept in memory between writes
    screens: Screens | None = None  # the learned screens, when enabled


@dataclass(frozen=True, slots=True)
class CommandContext:
    services: Services
    actor: Actor
    role: Role
    space_id: str
    platform: str

    @property
    def store(self) -> Store:
        return self.services.store
