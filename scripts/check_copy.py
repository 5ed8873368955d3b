"""Report runs of 24+ characters in knowledge/ that are copied verbatim from the source articles.

    python scripts/check_copy.py                                  # every knowledge file, runs of 24+
    python scripts/check_copy.py --run 8 knowledge/claims.yaml    # a stricter look at some files

With --run below 24, a run made only of terms (role and department names, 4P items, English words,
acronyms, names listed in TERMS) is reported apart as a term run and does not fail the check: a list of
names is not a copied sentence.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.helpers.copycheck import RUN, find_copied_runs, is_term_run, load_seed_text  # noqa: E402


def main() -> int:
    """Print every copied run and exit 1 when there is one that is not only terms."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", type=Path, help="knowledge files (default: knowledge/*.yaml)")
    parser.add_argument("--run", type=int, default=RUN, help=f"shortest run to report (default {RUN})")
    args = parser.parse_args()
    seeds = load_seed_text()
    if seeds is None:
        print("no seeds found (../shared/seeds); nothing to compare")
        return 0
    bad = terms = 0
    for path in args.files or sorted(Path("knowledge").glob("*.yaml")):
        for where, run in find_copied_runs(path, seeds, args.run):
            if args.run < RUN and is_term_run(run):
                print(f"{path}:{where}: term run: {run}")
                terms += 1
                continue
            print(f"{path}:{where}: copied run: {run}")
            bad += 1
    print(f"{bad} copied run(s)" + (f", {terms} term run(s)" if terms else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
