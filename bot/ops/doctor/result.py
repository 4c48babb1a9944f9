"""One doctor check's outcome, and the report: one line per check, with the fix when it fails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Status = Literal["ok", "fail", "skip"]
MARKS: dict[Status, str] = {"ok": "ok  ", "fail": "FAIL", "skip": "skip"}


@dataclass(frozen=True, slots=True)
class Check:
    name: str  # e.g. "ollama.model"
    status: Status
    detail: str  # what was found
    fix: str = ""  # what to do about it (failures only)

    @property
    def ok(self) -> bool:
        return self.status != "fail"

    def line(self) -> str:
        text = f"{MARKS[self.status]} {self.name}: {self.detail}"
        return f"{text} -> fix: {self.fix}" if self.status == "fail" and self.fix else text


def ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def fail(name: str, detail: str, fix: str) -> Check:
    return Check(name, "fail", detail, fix)


def skip(name: str, detail: str) -> Check:
    return Check(name, "skip", detail)


def exit_code(checks: list[Check]) -> int:
    """0 only when every check passed (skipped optional parts count as passed)."""
    return 0 if all(c.ok for c in checks) else 1
