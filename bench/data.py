"""Real chat-like text for benchmarks, read in place from ../shared/eval/data (never copied).

Three sets give a realistic mix: SMS (casual chat + prize spam), YouTube comments
(self-promotion spam) and OpenAI's moderation eval set (long, often harmful prompts).
Labels are 1 = spam / harmful, 0 = ham / clean, None = unknown.
"""

from __future__ import annotations

import csv
import gzip
import html
import json
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import islice, zip_longest
from pathlib import Path

__all__ = [
    "ENV_VAR",
    "SOURCES",
    "EvalDataMissingError",
    "Sample",
    "data_dir",
    "load_messages",
    "load_openai_moderation",
    "load_sms",
    "load_youtube",
]

ENV_VAR = "MODBOT_EVAL_DATA"
SOURCES = ("sms", "youtube", "openai")
_OPENAI_KEYS = ("S", "H", "V", "HR", "SH", "S3", "H2", "V2")


class EvalDataMissingError(FileNotFoundError):
    """The shared evaluation data is not where we looked; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class Sample:
    text: str
    label: int | None
    source: str


def data_dir() -> Path:
    """The eval data folder: $MODBOT_EVAL_DATA, else <repo>/../shared/eval/data."""
    configured = os.environ.get(ENV_VAR)
    folder = (
        Path(configured).expanduser()
        if configured
        else Path(__file__).resolve().parents[1].parent / "shared" / "eval" / "data"
    )
    if not folder.is_dir():
        raise EvalDataMissingError(
            f"evaluation data folder {folder} does not exist; set {ENV_VAR} to the folder holding "
            "sms-spam-collection/, youtube-spam-collection/ and openai-moderation/"
        )
    return folder


def _file(folder: Path, *parts: str) -> Path:
    path = folder.joinpath(*parts)
    if not path.is_file():
        raise EvalDataMissingError(f"{path} is missing from the evaluation data (see its SOURCE.md)")
    return path


def load_sms(limit: int | None = None, folder: Path | None = None) -> list[Sample]:
    """SMS Spam Collection: `label<TAB>text` per line, no header; ham/spam."""
    path = _file(folder or data_dir(), "sms-spam-collection", "SMSSpamCollection")
    out: list[Sample] = []
    # The file has Latin-1 leftovers and HTML entities (&lt;): replace and unescape them.
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line in fh:
            label, sep, text = line.rstrip("\r\n").partition("\t")
            if not sep or label not in ("ham", "spam"):
                continue
            out.append(Sample(html.unescape(text), 1 if label == "spam" else 0, "sms"))
            if limit is not None and len(out) >= limit:
                break
    return out


def load_youtube(limit: int | None = None, folder: Path | None = None) -> list[Sample]:
    """YouTube Spam Collection: five CSVs; CONTENT is the text, CLASS 1 = spam."""
    base = (folder or data_dir()) / "youtube-spam-collection"
    files = sorted(base.glob("*.csv"))
    if not files:
        raise EvalDataMissingError(f"no CSV files in {base} (see its SOURCE.md)")
    out: list[Sample] = []
    for path in files:
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            for row in csv.DictReader(fh):
                # Comments carry HTML (<br />, &#39;): turn them back into plain chat text.
                text = html.unescape(row["CONTENT"].replace("<br />", "\n")).strip()
                out.append(Sample(text, 1 if row["CLASS"].strip() == "1" else 0, "youtube"))
                if limit is not None and len(out) >= limit:
                    return out
    return out


def load_openai_moderation(limit: int | None = None, folder: Path | None = None) -> list[Sample]:
    """OpenAI moderation eval: 1 if any category is 1, 0 if all eight are 0, else unknown."""
    path = _file(folder or data_dir(), "openai-moderation", "samples-1680.jsonl.gz")
    out: list[Sample] = []
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            values = [row.get(k) for k in _OPENAI_KEYS]
            # An absent key means "not labelled", not "negative" (see SOURCE.md).
            label = 1 if 1 in values else 0 if None not in values else None
            out.append(Sample(str(row["prompt"]), label, "openai"))
            if limit is not None and len(out) >= limit:
                break
    return out


def load_messages(limit: int | None = None, sources: Sequence[str] = SOURCES) -> list[Sample]:
    """Samples from several sets, interleaved round-robin so any prefix is a realistic mix."""
    loaders = {"sms": load_sms, "youtube": load_youtube, "openai": load_openai_moderation}
    unknown = set(sources) - loaders.keys()
    if unknown:
        raise ValueError(f"unknown sources {sorted(unknown)}; choose from {list(SOURCES)}")
    folder = data_dir()
    sets = [loaders[name](None, folder) for name in sources]
    mixed: Iterable[Sample] = (s for group in zip_longest(*sets) for s in group if s is not None)
    return list(islice(mixed, limit))
