"""How often each policy's screen offers turn out to be violations, and what that makes an offer worth.

Scores of different policies' models are not comparable; their yield (the share of their checked
offers that were violations) is. An offer's priority is its score times a draw of its policy's
yield from the Beta posterior over the latest checks (Thompson sampling), redrawn every few
offers: a policy whose offers keep coming back clean yields its slots to one that finds
violations, yet is still tried now and then, so one unlucky start cannot starve it for good.
"""

from __future__ import annotations

import random
from collections import deque

# A policy's offer yield is judged on its latest checks only (on the benchmark, windows of 30 and
# 100 checks gave 53 % and 57 % recall, 200 to 300 about 58 %).
WINDOW = 200
REDRAW_EVERY = 32  # offers between two draws of a policy's yield


class OfferYields:
    def __init__(self, seed: int = 0) -> None:
        self._totals: dict[str, tuple[int, int]] = {}  # policy -> (offers checked, violations)
        self._recent: dict[str, deque[int]] = {}  # policy -> outcomes of its latest offers checked
        # Seeded: a replay of the same stream takes the same offers (exploration, not security).
        self._rng = random.Random(seed)  # noqa: S311
        self._factor: dict[str, float] = {}
        self._draws: dict[str, int] = {}

    def checked(self, policy_id: str, violation: bool) -> None:
        """One of the policy's offers was checked by the model."""
        checks, hits = self._totals.get(policy_id, (0, 0))
        self._totals[policy_id] = (checks + 1, hits + int(violation))
        self._recent.setdefault(policy_id, deque(maxlen=WINDOW)).append(int(violation))

    def totals(self, policy_id: str) -> tuple[int, int]:
        """(offers checked, violations among them) since start."""
        return self._totals.get(policy_id, (0, 0))

    def fresh_look(self, policy_id: str) -> None:
        """A new model: its offers are judged afresh."""
        self._recent.pop(policy_id, None)

    def priority(self, policy_id: str, score: float) -> float:
        factor = self._factor.get(policy_id)
        count = self._draws.get(policy_id, 0)
        if factor is None or count % REDRAW_EVERY == 0:
            recent = self._recent.get(policy_id, ())
            hits = sum(recent)
            factor = self._rng.betavariate(hits + 1, len(recent) - hits + 1)
            self._factor[policy_id] = factor
        self._draws[policy_id] = count + 1
        return score * factor
