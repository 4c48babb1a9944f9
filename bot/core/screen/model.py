"""One policy's learned screen: a linear model over hashed n-grams, trained by scikit-learn.

Scoring is a sum of 32-bit weights at a message's feature indices (a few microseconds).
Training is scikit-learn's SGDClassifier (logistic loss, classes balanced, since violations are
rare) on a sparse matrix; it runs in a worker thread, never on the event loop. A model is stored
as raw float32 weights and JSON metadata: no pickle, so a tampered database cannot run code.
"""

from __future__ import annotations

import json
import math
import warnings
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.core.policies import Policy
from bot.core.screen.features import N_FEATURES, Indices, text_features

THRESHOLD = 0.5  # a model's operating point until traffic has set one (see `operating_threshold`)
# The share of unselected traffic whose scores set a model's operating point: the screen can only
# ever check the top few percent of what keywords let through, so a model is judged by how many
# violations it puts above that line, not by a fixed probability (a model scoring everything high
# would "recall" them all at 0.5 and rank them no better).
TOP_SHARE = 0.02
# L2 strength: a screen learns from a few hundred labels, mostly of its own choosing; a stronger
# prior keeps it from memorising them (benchmark: 5e-6 / 2e-5 / 1e-4 / 5e-4 gave 66 / 80 / 82 / 67 %).
ALPHA = 1e-4


@dataclass(frozen=True, slots=True)
class Labelled:
    features: Indices
    label: int  # 1 violation, 0 allowed
    key: str = ""  # message id: decides held-back membership
    weight: float = 1.0  # below 1 for traffic assumed benign without a check


@dataclass(frozen=True)
class ScreenModel:
    policy_id: str
    weights: npt.NDArray[np.float32]
    intercept: float
    version: int = 0  # 0: not stored yet
    recall: float | None = None  # on held-back labels when it was promoted
    labels: int = 0
    threshold: float = THRESHOLD  # operating point: the top TOP_SHARE of traffic scores above it

    def score(self, idx: Indices) -> float:
        """Probability-like risk in [0, 1]."""
        if len(idx) == 0:
            z = self.intercept
        else:
            z = float(self.weights[idx].sum()) / math.sqrt(len(idx)) + self.intercept
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_blob(self) -> tuple[bytes, str]:
        meta = {
            "intercept": self.intercept, "recall": self.recall, "labels": self.labels,
            "threshold": self.threshold,
        }  # fmt: skip
        return self.weights.astype("<f4").tobytes(), json.dumps(meta)

    @classmethod
    def from_blob(cls, policy_id: str, version: int, weights: bytes, meta_json: str) -> ScreenModel:
        meta = json.loads(meta_json)
        arr = np.frombuffer(weights, dtype="<f4").astype(np.float32)
        if arr.shape != (N_FEATURES,):
            raise ValueError(f"screen {policy_id} v{version} has {arr.shape[0]} weights, not {N_FEATURES}")
        recall = meta.get("recall")
        return cls(
            policy_id, arr, float(meta["intercept"]), version,
            None if recall is None else float(recall), int(meta.get("labels", 0)),
            float(meta.get("threshold", THRESHOLD)),
        )  # fmt: skip

    def selects(self, idx: Indices) -> bool:
        """Whether the screen would send this message to the model (at its operating point)."""
        return self.score(idx) >= self.threshold


def _matrix(rows: Sequence[Labelled]) -> Any:
    from scipy.sparse import csr_matrix  # imported on first training: ~90 MB a bot without the screen saves

    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    for i, row in enumerate(rows):
        indptr[i + 1] = indptr[i] + len(row.features)
    indices = np.concatenate([r.features.astype(np.int32) for r in rows]) if rows else np.zeros(0, np.int32)
    data = np.concatenate(
        [np.full(len(r.features), 1.0 / math.sqrt(max(1, len(r.features)))) for r in rows]
    ) if rows else np.zeros(0)  # fmt: skip
    return csr_matrix((data, indices, indptr), shape=(len(rows), N_FEATURES))


def train(policy_id: str, rows: Sequence[Labelled], seed: int = 0) -> ScreenModel | None:
    """A model fitted to `rows`, or None when they hold only one class (nothing to separate)."""
    labels = np.array([r.label for r in rows], dtype=np.int8)
    if len(set(labels.tolist())) < 2:
        return None
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import SGDClassifier

    clf = SGDClassifier(
        loss="log_loss", alpha=ALPHA, class_weight="balanced", max_iter=40, tol=1e-3, random_state=seed
    )
    with warnings.catch_warnings():
        # A capped epoch count is deliberate (bounded CPU); the held-back check judges the result.
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(_matrix(rows), labels, sample_weight=np.array([r.weight for r in rows]))
    weights = np.asarray(clf.coef_[0], dtype=np.float32)
    return ScreenModel(policy_id, weights, float(clf.intercept_[0]), labels=len(rows))


def operating_threshold(model: ScreenModel, traffic: Sequence[Indices], share: float = TOP_SHARE) -> float:
    """The score above which the top `share` of `traffic` lies (THRESHOLD without traffic)."""
    if not traffic:
        return THRESHOLD
    scores = np.fromiter((model.score(idx) for idx in traffic), dtype=np.float64, count=len(traffic))
    return float(np.quantile(scores, 1.0 - share))


def recall(
    model: ScreenModel | None,
    rows: Sequence[Labelled],
    traffic: Sequence[Indices] = (),
    *,
    line: float | None = None,
) -> float | None:
    """Share of the violations in `rows` the model puts in the top TOP_SHARE of `traffic` (at its
    own operating point without traffic); None without violations. Two models are compared on the
    same rows and traffic, each at its own line: what matters is what each would send to the GPU.
    `line`: that operating point, when the caller has already worked it out from the traffic."""
    positives = [r for r in rows if r.label == 1]
    if not positives:
        return None
    if model is None:
        return 0.0
    if line is None and not traffic:
        return sum(model.selects(r.features) for r in positives) / len(positives)
    # Strictly above: a model that gives much of the traffic one score cannot send it all.
    if line is None:
        line = operating_threshold(model, traffic)
    return sum(model.score(r.features) > line for r in positives) / len(positives)


def held_back(key: str) -> bool:
    """One label in five, chosen by its message id, never trains: it judges promotions."""
    return bool(key) and (hash_key(key) % 5 == 0)


def hash_key(key: str) -> int:
    return zlib.crc32(key.encode())


def bootstrap_rows(policy: Policy) -> list[Labelled]:
    """What a policy teaches before any traffic: its examples, rules and keywords."""
    spec = policy.spec
    texts: list[tuple[str, int]] = [(ex.text, int(ex.label == "violation")) for ex in spec.examples]
    texts += [(rule.text, 1) for rule in spec.rules]
    texts += [(rule.text, 0) for rule in spec.allowed]
    texts += [(kw.rstrip("*"), 1) for kw in spec.prefilter.keywords]
    return [Labelled(text_features(text), label) for text, label in texts]
