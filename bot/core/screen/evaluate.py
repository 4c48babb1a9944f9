"""What the learned screen adds to the keywords on a labelled data set (`modbot eval --prefilter-only`).

The screen is learned the way the bot would learn it, but from this data's labels: two folds,
each scored by a model trained on the other half (plus the policy's own examples), so no row is
scored by a model that saw its label. A stored, promoted screen is measured as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.policies import Policy
from bot.core.prefilter import PreparedText
from bot.core.screen.features import Indices, features
from bot.core.screen.model import THRESHOLD, Labelled, ScreenModel, bootstrap_rows, hash_key, train


@dataclass(frozen=True, slots=True)
class Selection:
    recall: float
    pass_rate: float  # share of all rows sent to the model
    selected: int

    def to_dict(self) -> dict[str, float | int]:
        return {
            "recall": round(self.recall, 4),
            "pass_rate": round(self.pass_rate, 4),
            "selected": self.selected,
        }


def selection(positive: Sequence[bool], chosen: Sequence[bool]) -> Selection:
    pos = sum(positive)
    hits = sum(1 for p, c in zip(positive, chosen, strict=True) if p and c)
    n = max(1, len(chosen))
    return Selection(hits / pos if pos else 0.0, sum(chosen) / n, sum(chosen))


def compare(
    policy: Policy, texts: Sequence[str], positive: Sequence[bool], stored: ScreenModel | None = None
) -> dict[str, dict[str, float | int]]:
    """Recall and pass rate of keywords alone, with the screen learned on this data, and with a stored one."""
    prepared = [PreparedText.of(t) for t in texts]
    keyword = [policy.prefilter.match(p) is not None for p in prepared]
    idx: list[Indices] = [features(p) for p in prepared]
    fold = [hash_key(f"row:{i}") % 2 for i in range(len(texts))]
    learned = [False] * len(texts)
    boot = bootstrap_rows(policy)
    for k in (0, 1):
        rows = boot + [Labelled(idx[i], int(positive[i])) for i in range(len(texts)) if fold[i] != k]
        model = train(policy.id, rows)
        if model is None:
            continue
        # Its natural line (classes balanced in training): this data's share of violations is
        # unknown to the bot, so no traffic quantile applies; the pass rate shows the trade-off.
        for i in range(len(texts)):
            if fold[i] == k:
                learned[i] = model.score(idx[i]) >= THRESHOLD
    out = {
        "keywords": selection(positive, keyword).to_dict(),
        "keywords+screen (learned here, 2-fold)": selection(
            positive, [k or s for k, s in zip(keyword, learned, strict=True)]
        ).to_dict(),
    }
    if stored is not None:
        chosen = [k or stored.selects(i) for k, i in zip(keyword, idx, strict=True)]
        out[f"keywords+screen (stored v{stored.version})"] = selection(positive, chosen).to_dict()
    return out
