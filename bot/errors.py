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


class ImportFormatError(RolebotError, ValueError):
    """A knowledge file is malformed; carries every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class StoreError(RolebotError):
    """The database cannot be opened, created or written."""
