"""The one shape of every policy mistake: `file:line: field: what is wrong and how to fix it`."""

from __future__ import annotations

from dataclasses import dataclass

GUIDE = "see community_policies/README.md"


@dataclass(frozen=True, slots=True)
class PolicyProblem:
    file: str
    line: int
    field: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning: " if self.warning else ""
        return f"{self.file}:{self.line}: {kind}{self.field}: {self.message}"


class PolicyError(ValueError):
    """A policy file that cannot be used. `problems` holds one entry per mistake."""

    def __init__(self, problems: list[PolicyProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
