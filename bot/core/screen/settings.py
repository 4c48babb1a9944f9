"""The learned screen's settings (from SCREEN_* in the environment) and its running counts."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ScreenSettings:
    enabled: bool = True
    # False in `modbot worker`: it records the labels its verdicts give and scores with the models
    # the `modbot run` processes train and store, but trains none itself (no scikit-learn there).
    trains: bool = True
    # Share of (message, policy) pairs checked at random, for an unbiased recall estimate. They are
    # certain work, paid from the same capacity: with 7 policies, 0.001 takes 7 calls per 1,000
    # messages (0.002 cost the screen benchmark about a point of recall, 95.9 against 96.8 % over
    # four seeds). The estimate is slow either way: at 50,000 messages a day, 2 % of them violations,
    # about 30 random checks a month land on a violation (60 at 0.002).
    random_rate: float = 0.001
    min_score: float = 0.02  # below this a message is not even offered
    offers_per_space: int = 256
    offer_max_age_s: float = 120.0
    # New labels of a policy before it is retrained: early on each batch of labels moves the model
    # a lot (20 and 50 gave 85 % and 81 % recall over 10,000-50,000 messages on the benchmark).
    retrain_after: int = 20
    retrain_every_s: float = 60.0
    max_labels: int = 20_000  # newest labels kept per policy
    # Recent unchecked traffic, taken as negatives: ~98 % of chat is fine, and without it a model
    # that only ever saw keyword hits cannot tell what ordinary chat looks like. (Chosen on the
    # screen benchmark: ratios 3 / 10 / 30 with 4,000 / 8,000 / 16,000 kept gave 64 / 75 / 71 %.)
    traffic_sample: int = 8_000  # messages kept (features only, in memory: ~1.5 MB)
    traffic_every: int = 5  # one message in this many goes into the sample
    traffic_weight: float = 1.0
    traffic_ratio: float = 10.0  # at most this many traffic negatives per label


@dataclass
class ScreenStats:
    pairs: int = 0  # (message, policy) pairs no keyword selected
    offered: int = 0
    random: int = 0
    labels: int = 0
    promoted: int = 0
    kept_predecessor: int = 0
