"""The policy library (`POLICY_DIR`): ready policies an admin enables by id."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.core.policies import Policy, PolicyProblem, portable_text

Loader = Callable[[Iterable[Path]], tuple[dict[str, Policy], list[PolicyProblem]]]


@dataclass(frozen=True, slots=True)
class LibraryPolicy:
    policy: Policy
    text: str  # the YAML as shipped


class PolicyLibrary:
    def __init__(self, folder: Path, load: Loader) -> None:
        self.folder = folder
        self._load = load
        self._cached: tuple[object, dict[str, LibraryPolicy]] | None = None

    def _signature(self) -> object:
        """What the folder holds now (names, sizes, times): the library is parsed again only when
        it changes, not at every autocompletion keystroke."""
        try:
            return tuple(
                sorted((p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in self.folder.iterdir())
            )
        except OSError:
            return None

    def _read(self) -> dict[str, LibraryPolicy]:
        signature = self._signature()
        if self._cached is not None and signature is not None and self._cached[0] == signature:
            return self._cached[1]
        read = self._parse()
        self._cached = (signature, read)
        return read

    def _parse(self) -> dict[str, LibraryPolicy]:
        policies, _problems = self._load([self.folder])
        return {
            # Uploaded copies read no files on the server: domain files travel inline.
            pid: LibraryPolicy(policy, portable_text(policy, Path(policy.source).read_text(encoding="utf-8")))
            for pid, policy in sorted(policies.items())
        }

    async def all(self) -> dict[str, LibraryPolicy]:
        """Every policy of the folder that loads; broken files are skipped (lint names them)."""
        return await asyncio.to_thread(self._read)

    async def get(self, policy_id: str) -> LibraryPolicy | None:
        return (await self.all()).get(policy_id)
