"""What the screen's model class could do with every label: the ceiling of the learning curve.

The same features and trainer as the bot's screens, but trained once on *every* (message, policy)
label of the stream's first half (plus each policy's own examples), as if the 20b had checked all
of it. On the second half, keywords select as they do in the bot and the GPU's remaining capacity
goes to the highest-scoring pairs no keyword selected. As every earlier message was checked, a
text seen before is answered by the verdict cache: it costs no call and needs no slot. If this
misses a recall target, no amount of online learning with this model class reaches it: better
features or more capacity would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.screen_data import Labelled
from bot.core.normalize import normalise
from bot.core.policies import Policy
from bot.core.prefilter import PreparedText
from bot.core.screen.features import features
from bot.core.screen.model import Labelled as Row
from bot.core.screen.model import bootstrap_rows, train

__all__ = ["screen_ceiling"]

SPACE = "bench"


def screen_ceiling(
    stream: Sequence[Labelled], policies: Sequence[Policy], capacities: Sequence[float]
) -> dict[str, Any]:
    """Recall on the second half at each capacity (model calls per 1,000 messages), every label known."""
    half = len(stream) // 2
    prepared = [PreparedText.of(s.text) for s in stream]
    idx = [features(p, SPACE) for p in prepared]
    seen: set[str] = set()
    known = [False] * len(stream)  # answered by the cache: an earlier message had the same text
    for i, s in enumerate(stream):
        key = normalise(s.text)
        known[i] = key in seen
        seen.add(key)
    certain = 0
    caught_for_sure: set[int] = set()
    pairs: list[tuple[float, int, bool]] = []  # (score, message, violation) for unselected pairs
    for policy in policies:
        rows = bootstrap_rows(policy) + [
            Row(idx[i], int(stream[i].label == 1 and stream[i].policy == policy.id)) for i in range(half)
        ]
        model = train(policy.id, rows)
        for i in range(half, len(stream)):
            hit = stream[i].label == 1 and stream[i].policy == policy.id
            if known[i]:
                if hit:
                    caught_for_sure.add(i)
            elif policy.prefilter.match(prepared[i]) is not None:
                certain += 1
                if hit:
                    caught_for_sure.add(i)
            else:
                pairs.append((model.score(idx[i]) if model is not None else 0.0, i, hit))
    pairs.sort(key=lambda p: -p[0])
    n = len(stream) - half
    violations = sum(1 for s in stream[half:] if s.label)
    out = []
    for capacity in capacities:
        spare = max(0, round(capacity * n / 1000) - certain)
        caught = caught_for_sure | {i for _s, i, hit in pairs[:spare] if hit}
        out.append({"capacity": capacity, "recall": len(caught) / violations if violations else 0.0})
    return {"window": f"{half:,}-{len(stream):,}", "certain_per_1000": 1000 * certain / n, "by_capacity": out}
