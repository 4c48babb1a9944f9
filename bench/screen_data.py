"""A labelled chat stream for the screen benchmark: benign chat with ~2 % policy violations.

From ../shared/eval/data (read in place, never copied): SMS and YouTube ham, clean OpenAI
moderation prompts and HateCheck's non-hateful cases are the benign chat; the violations are
SMS prize spam (scams-phishing), YouTube comment spam (spam-self-promotion), HateCheck's hateful
cases incl. its spelling evasions (harassment) and the OpenAI set's self-harm (self-harm) and
hate / harassment / violence (harassment) prompts. Sexual-only prompts have no library policy
and are left out. Any labelled JSONL file can replace it: `{"text", "policy", "label"}` per
line, in stream order, benign lines with an empty policy.
"""

from __future__ import annotations

import csv
import gzip
import html
import json
import random
import re
from dataclasses import dataclass
from pathlib import Path

from bench.data import data_dir, load_sms, load_youtube

__all__ = ["Labelled", "build_stream", "heldout_stream", "load_jsonl", "violation_pools"]


@dataclass(frozen=True, slots=True)
class Labelled:
    text: str
    policy: str  # the policy the message violates; "" for benign chat
    label: int  # 1 violation, 0 benign


def load_jsonl(path: Path) -> list[Labelled]:
    """A stream from a JSONL file, in file order."""
    out: list[Labelled] = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            row = json.loads(line)
            try:
                text, policy, label = str(row["text"]), str(row.get("policy") or ""), int(row["label"])
            except (KeyError, TypeError, ValueError) as exc:
                raise ValueError(f"{path}:{n}: needs text, policy and label ({exc})") from exc
            out.append(Labelled(text, policy if label else "", 1 if label and policy else 0))
    if not out:
        raise ValueError(f"{path}: no lines")
    return out


def _hatecheck(folder: Path) -> tuple[list[str], list[str]]:
    hateful: list[str] = []
    benign: list[str] = []
    with (folder / "hatecheck-en" / "test_suite_cases.csv").open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            (hateful if row["label_gold"] == "hateful" else benign).append(row["test_case"])
    return hateful, benign


def _openai(folder: Path) -> tuple[list[Labelled], list[str]]:
    violations: list[Labelled] = []
    clean: list[str] = []
    with gzip.open(folder / "openai-moderation" / "samples-1680.jsonl.gz", "rt", encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            text = str(row["prompt"])
            if row.get("SH") == 1:
                violations.append(Labelled(text, "self-harm", 1))
            elif any(row.get(k) == 1 for k in ("H", "HR", "H2", "V", "V2")):
                violations.append(Labelled(text, "harassment", 1))
            elif all(row.get(k) == 0 for k in ("S", "H", "V", "HR", "SH", "S3", "H2", "V2")):
                clean.append(text)
    return violations, clean


def violation_pools(folder: Path | None = None) -> tuple[list[Labelled], list[str]]:
    """Every violation (with its policy) and every benign text of the shared data."""
    folder = folder or data_dir()
    sms, youtube = load_sms(None, folder), load_youtube(None, folder)
    hateful, hc_benign = _hatecheck(folder)
    oa_violations, oa_clean = _openai(folder)
    violations = [Labelled(s.text, "scams-phishing", 1) for s in sms if s.label == 1]
    violations += [Labelled(s.text, "spam-self-promotion", 1) for s in youtube if s.label == 1]
    violations += [Labelled(t, "harassment", 1) for t in hateful]
    violations += oa_violations
    benign = [s.text for s in sms if s.label == 0] + [s.text for s in youtube if s.label == 0]
    benign += hc_benign + oa_clean
    return violations, benign


def build_stream(messages: int, share: float = 0.02, seed: int = 0) -> list[Labelled]:
    """`messages` lines, `share` of them violations spread uniformly, each violation used once
    while the pool lasts; benign chat is drawn with replacement (chat repeats itself too)."""
    violations, benign = violation_pools()
    return _mix(violations, benign, messages, share, seed)


def _mix(
    violations: list[Labelled], benign: list[str], messages: int, share: float, seed: int
) -> list[Labelled]:
    rng = random.Random(seed)
    rng.shuffle(violations)
    out: list[Labelled] = []
    v = 0
    for _ in range(messages):
        if rng.random() < share:
            out.append(violations[v % len(violations)])
            v += 1
        else:
            out.append(Labelled(rng.choice(benign), "", 0))
    return out


_HANDLE = re.compile(r"@\w+")


def _davidson(folder: Path) -> tuple[list[str], list[str]]:
    """Davidson et al.'s tweets: hate speech (class 0) and neither hate nor offensive (class 2).
    Offensive-only tweets (class 1) are left out: swearing is not harassment under the library
    policy, and the set's own authors call that line contested. Handles are masked."""
    hate: list[str] = []
    neither: list[str] = []
    path = folder / "davidson-hate-offensive" / "labeled_data.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            text = _HANDLE.sub("@user", html.unescape(row["tweet"])).strip()
            if row["class"] == "0":
                hate.append(text)
            elif row["class"] == "2":
                neither.append(text)
    return hate, neither


def heldout_stream(messages: int, share: float = 0.02, seed: int = 0) -> list[Labelled]:
    """Like `build_stream`, from a data set no setting of the screen was chosen on: Davidson's
    hate-speech tweets (harassment) among its tweets that are neither hateful nor offensive."""
    hate, neither = _davidson(data_dir())
    return _mix([Labelled(t, "harassment", 1) for t in hate], neither, messages, share, seed)
