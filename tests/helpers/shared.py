"""The spec, evaluation sets and seed articles in ../shared beside the checkout: optional, as a clone has none.

A test that reads them is marked `shared` (CI runs those in place with `pytest -m shared`, where ../shared is,
after the whole suite in a copy of the checkout where it is not) and skips with a reason when they are absent.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import pytest

SHARED = Path(__file__).resolve().parents[2].parent / "shared"  # tests/helpers/ is two below the checkout

T = TypeVar("T")


def needs_shared(present: object, what: str) -> Callable[[T], T]:
    """Mark a test as reading shared/`what`, skipped unless `present` (what was read from it) is non-empty."""

    def mark(test: T) -> T:
        return pytest.mark.shared(pytest.mark.skipif(not present, reason=f"shared/{what} is absent")(test))

    return mark
