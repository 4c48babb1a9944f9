"""What `modbot run` needs of a platform adapter: its port for the core, and a way to serve.

An adapter is built from the settings before the core exists (the core needs its port to
deliver flags), then served with the core (it needs the core to submit messages and run
commands). Both halves live in the adapter's package; `bot/app.py` only wires them.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from bot.core.ports import Platform
from bot.core.service import ModerationCore


class Adapter(Protocol):
    name: str  # "discord" | "slack": the space's platform column

    @property
    def port(self) -> Platform: ...

    def serving(self, core: ModerationCore) -> AbstractAsyncContextManager[None]:
        """Connect, take events, and hand them to the core until the context exits."""
        ...

    def connected(self) -> bool:
        """Whether the platform's connection is up now (for /readyz)."""
        ...
