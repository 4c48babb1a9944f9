"""Labelled data in, precision / recall / latency out. Shared by `modbot eval` and `policy test`."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.text import valid_text

DEFAULT_POSITIVE = frozenset(
    {"1", "true", "yes", "spam", "violation", "violating", "hateful", "positive", "toxic"}
)


class DatasetError(ValueError):
    """The data file or its fields are not as the command line says."""


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    positive: bool


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_samples(
    path: Path,
    text_field: str,
    label_field: str,
    positive: frozenset[str] = DEFAULT_POSITIVE,
    limit: int | None = None,
) -> list[Sample]:
    """Read JSONL, CSV or TSV (optionally .gz). Numeric fields mean headerless columns."""
    if not path.is_file():
        raise DatasetError(f"{path}: no such file")
    kind = path.name.removesuffix(".gz").rsplit(".", 1)[-1].lower()
    out: list[Sample] = []
    n = 0
    with _open_text(path) as fh:
        rows = _rows(fh, kind, text_field, label_field)
        try:
            for n, (text, label) in enumerate(rows, start=1):
                if text is None or label is None:
                    raise DatasetError(
                        f"{path}: row {n} has no field {text_field!r} or {label_field!r}; "
                        "check --text-field and --label-field"
                    )
                # A "\ud800" escape in the data must not crash the prefilter or the HTTP client.
                out.append(Sample(valid_text(str(text)), _is_positive(label, positive)))
                if limit is not None and len(out) >= limit:
                    break
        except (ValueError, AttributeError, csv.Error) as exc:  # UnicodeDecodeError, JSONDecodeError
            if isinstance(exc, DatasetError):
                raise
            raise DatasetError(f"{path}: row {n + 1} cannot be read ({exc}); is it UTF-8 {kind}?") from None
    if not out:
        raise DatasetError(f"{path}: no rows read")
    return out


def _rows(fh: io.TextIOBase, kind: str, text_field: str, label_field: str) -> Iterator[tuple[object, object]]:
    if kind in ("jsonl", "json", "ndjson"):
        for line in fh:
            if line.strip():
                obj = json.loads(line)
                yield obj.get(text_field), obj.get(label_field)
        return
    delimiter = "," if kind == "csv" else "\t"
    if text_field.isdigit() and label_field.isdigit():
        ti, li = int(text_field), int(label_field)
        for row in csv.reader(fh, delimiter=delimiter):
            if row:
                yield (row[ti] if ti < len(row) else None), (row[li] if li < len(row) else None)
        return
    for rec in csv.DictReader(fh, delimiter=delimiter):
        yield rec.get(text_field), rec.get(label_field)


def _is_positive(label: object, positive: frozenset[str]) -> bool:
    value = str(label).strip().lower()
    return value in positive


@dataclass
class Confusion:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    unavailable: int = 0  # no answer: counted apart, never as a pass or a hit

    def add(self, expected: bool, predicted: bool | None) -> None:
        if predicted is None:
            self.unavailable += 1
        elif expected and predicted:
            self.tp += 1
        elif expected:
            self.fn += 1
        elif predicted:
            self.fp += 1
        else:
            self.tn += 1

    @property
    def total(self) -> int:
        return self.tp + self.fp + self.fn + self.tn + self.unavailable

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    @property
    def accuracy(self) -> float:
        answered = self.tp + self.fp + self.fn + self.tn
        return (self.tp + self.tn) / answered if answered else 0.0

    def table(self) -> str:
        return "\n".join(
            [
                "                 predicted violation   predicted allowed",
                f"  violation      {self.tp:>19}   {self.fn:>17}",
                f"  allowed        {self.fp:>19}   {self.tn:>17}",
                f"  no answer      {self.unavailable:>19}",
            ]
        )

    def summary(self) -> dict[str, float | int]:
        return {
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "unavailable": self.unavailable,
            "precision": round(self.precision, 4),
            "recall": round(self.recall, 4),
            "f1": round(self.f1, 4),
            "accuracy": round(self.accuracy, 4),
        }


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


@dataclass
class LatencyStats:
    values_ms: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, float]:
        return {f"p{p}": round(percentile(self.values_ms, p), 1) for p in (50, 90, 95, 99)}
