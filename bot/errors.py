"""Named errors raised deep and translated to a user-facing message at each edge."""

from __future__ import annotations

from dataclasses import dataclass


class RolebotError(Exception):
    """Anything rolebot reports to a person as one line."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one record of an import file."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.field}: {self.message}"


MAX_PROBLEMS = 1000  # an import stops checking after this many: a million bad lines must not cost a gigabyte


class ImportFormatError(RolebotError, ValueError):
    """A knowledge file is malformed; carries the problems found (the first MAX_PROBLEMS, and whether more)."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems[:MAX_PROBLEMS]
        self.stopped = len(problems) >= MAX_PROBLEMS  # the check stopped there: there may be more
        more = f"\n… and more: the check stopped after {MAX_PROBLEMS:,} problems" if self.stopped else ""
        super().__init__("\n".join(str(p) for p in self.problems) + more)


class StoreError(RolebotError):
    """The database cannot be opened, created or written."""
