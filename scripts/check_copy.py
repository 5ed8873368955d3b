"""Report runs of 24+ characters in knowledge/ that are copied verbatim from the source articles."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers.copycheck import find_copied_runs, load_seed_text  # noqa: E402


def main() -> int:
    """Print every copied run and exit 1 when there is one."""
    seeds = load_seed_text()
    if seeds is None:
        print("no seeds found (../shared/seeds); nothing to compare")
        return 0
    bad = 0
    for path in sorted(Path("knowledge").glob("*.yaml")):
        for where, run in find_copied_runs(path, seeds):
            print(f"{path}:{where}: copied run: {run}")
            bad += 1
    print(f"{bad} copied run(s)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
