"""What `stats` says about a screen: recall estimated from uniform random checks, and calls saved.

Recall is a proportion over the few violations random checks find, so it comes with a Wilson
interval: honest at small counts, where the normal approximation claims certainty it lacks.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


def wilson(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """95 % Wilson interval of a proportion (honest at small n, unlike the normal approximation)."""
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class ScreenReport:
    """What `stats` shows for one policy's screen."""

    version: int  # 0: still the model learned from the policy's own examples
    random_checks: int
    random_violations: int
    recall: float | None  # keywords + screen, estimated from the random checks
    recall_ci95: tuple[float, float]
    keyword_recall: float | None  # keywords alone, from the same checks
    offers_checked: int  # screen offers the model checked since start
    offers_violations: int
    calls_saved: int  # (message, policy) pairs no keyword selected and the model did not check

    def line(self) -> str:
        if self.recall is None:
            est = f"recall n/a ({self.random_checks} random checks, no violation among them yet)"
        else:
            low, high = self.recall_ci95
            kw = f"{self.keyword_recall:.0%}" if self.keyword_recall is not None else "n/a"
            est = (
                f"recall {self.recall:.0%} (95% CI {low:.0%}-{high:.0%}, {self.random_violations} violations "
                f"in {self.random_checks} random checks; keywords alone {kw})"
            )
        return (
            f"screen v{self.version}: {est}; offers checked {self.offers_checked} "
            f"({self.offers_violations} violations); calls saved {self.calls_saved:,}"
        )
