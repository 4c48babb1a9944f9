"""A candidate screen and the evidence for promoting it: trained and judged in one worker thread.

Rows, training and both recalls are tens of milliseconds of CPU, so all of it runs off the event
loop. One stored label in five is held back to judge, except labels on the screen's own offers:
they would favour the model that chose them, so they train instead. Recent unchecked traffic joins
the training as negatives (about 98 % of chat is fine) and sets each model's operating point.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from bot.core.screen.features import Indices
from bot.core.screen.model import Labelled, ScreenModel, held_back, operating_threshold, recall, train
from bot.core.screen.settings import ScreenSettings
from bot.store.screens import LabelRow


@dataclass(frozen=True, slots=True)
class Candidate:
    model: ScreenModel | None  # None: the labels hold one class only
    recall: float | None  # on the held-back labels; None without a held-back violation
    predecessor_recall: float | None
    trained_on: int
    threshold: float  # its operating point on the traffic


def candidate(
    policy_id: str,
    bootstrap: Sequence[Labelled],
    stored: Sequence[LabelRow],
    traffic: Sequence[Indices],
    predecessor: ScreenModel | None,
    settings: ScreenSettings,
) -> Candidate:
    rows = [
        Labelled(np.frombuffer(r.features, dtype=np.uint16), r.label, f"{r.space_id}:{r.message_id}")
        for r in stored
    ]
    judged = [held_back(r.key) and s.source != "offer" for r, s in zip(rows, stored, strict=True)]
    training = list(bootstrap) + [r for r, j in zip(rows, judged, strict=True) if not j]
    take = int(settings.traffic_ratio * len(training))
    training += [Labelled(idx, 0, weight=settings.traffic_weight) for idx in traffic[-take:]] if take else []
    test = [r for r, j in zip(rows, judged, strict=True) if j]
    model = train(policy_id, training)
    if model is None:
        return Candidate(None, None, None, len(training), 0.0)
    line = operating_threshold(model, traffic)  # scored once: it judges the candidate and is stored
    new = recall(model, test, line=line if traffic else None)
    return Candidate(model, new, recall(predecessor, test, traffic), len(training), line)
