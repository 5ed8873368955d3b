"""List where OpenCC and zhconv-rs (MediaWiki's tables) convert one of our Simplified characters differently.

Every answer, question, alternate, passage, browse button and UI string is converted for Taiwan (s2tw / zh-tw)
and Hong Kong (s2hk / zh-hk). Each place the two write different characters with the same Simplified form is
a question for a reviewer: the answers are knowledge/corrections.yaml (OpenCC wrong: corrected) and its
`accepted` list (OpenCC's form kept). With --after, our rendering (OpenCC and the corrections) is compared
instead: what is left must all be accepted (tests/test_glossary.py checks it). Marks: c corrected, ? not reviewed.

Usage: python scripts/review_conversion.py [--after] [-v]
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rolebot.language.script import TRADITIONAL, Reader  # noqa: E402
from tests.helpers.traditional import accepted, disagreements, simplified_texts  # noqa: E402


def main() -> int:
    """Print the disagreements per region, grouped by the pair of characters."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--after", action="store_true", help="compare our rendering (with the corrections), not OpenCC alone"
    )
    ap.add_argument("-v", "--verbose", action="store_true", help="print every context")
    args = ap.parse_args()
    texts = simplified_texts()
    print(f"{len(texts)} Simplified texts (answers, questions, alternates, passages, buttons, UI strings)")
    left = 0
    for region in ("tw", "hk"):
        after = disagreements(region, texts, Reader(TRADITIONAL, region))
        found = after if args.after else disagreements(region, texts)
        still = {(d.ours, d.theirs) for d in after}
        pairs = Counter((d.ours, d.theirs) for d in found)
        contexts: dict[tuple[str, str], list[str]] = defaultdict(list)
        for d in found:
            contexts[(d.ours, d.theirs)].append(d.context)
        ok = accepted()
        unreviewed = [p for p in pairs if p not in ok and p in still]
        fixed = [p for p in pairs if p not in still]
        left += len(unreviewed)
        print(
            f"{region}: {len(found)} disagreements in {len(pairs)} character pairs: {len(fixed)} corrected, "
            f"{len(pairs) - len(fixed) - len(unreviewed)} accepted, {len(unreviewed)} not reviewed"
        )
        for (ours, theirs), n in sorted(pairs.items(), key=lambda kv: -kv[1]):
            mark = "c " if (ours, theirs) in fixed else "  " if (ours, theirs) in ok else "? "
            sample = contexts[(ours, theirs)] if args.verbose else contexts[(ours, theirs)][:3]
            print(f"  {mark}{ours} / {theirs}  x{n}  {' | '.join(sample)}")
    return 1 if left else 0


if __name__ == "__main__":
    raise SystemExit(main())
