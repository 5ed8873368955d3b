"""Print what Traditional readers are shown: wrong characters, mainland words and quotes, round trips (issue 29).

Usage: python scripts/check_traditional.py [--db PATH] [-v]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rolebot.conversation.service import Service  # noqa: E402
from rolebot.kb.knowledge import open_store  # noqa: E402
from rolebot.language.glossary import glossary  # noqa: E402
from rolebot.language.script import reader_of  # noqa: E402
from tests.helpers.traditional import (  # noqa: E402
    HK_QUESTION,
    S2TW,
    differences,
    entry_cards,
    faq_records,
    mainland_quotes,
    mainland_words,
    plain_traditional,
    taiwan_reader,
    taiwan_wording,
    wrong_forms,
)


def main() -> int:
    """Print the acceptance numbers; exit 1 when one of them is off."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--db", type=Path, help="a database with the shipped knowledge (default: a fresh one)")
    ap.add_argument("-v", "--verbose", action="store_true", help="print each problem found")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        service = Service(open_store(args.db or Path(tmp) / "check.db"))
        return report(service, args.verbose)


def report(service: Service, verbose: bool) -> int:
    """Measure and print; return 1 when an acceptance number is off."""
    records = faq_records()
    terms = glossary()
    print(
        f"glossary: {len(terms.words)} words ({len(terms.region_words('tw'))} Taiwan, "
        f"{len(terms.region_words('hk'))} Hong Kong), {len(terms.marks)} marks; corrections: {len(terms.corrections)}"
    )
    bad = 0
    for label, question_of in (("Taiwan wording", taiwan_wording), ("plain Traditional", plain_traditional)):
        readers = {r.id: reader_of(question_of(str(r.data["question"]))) for r in records}
        cards = list(entry_cards(service, records, readers))
        wrong, words, quotes, trips = [], [], 0, 0
        for card in cards:
            region = card.reader.region
            shown = [t for _, t in card.texts()]
            wrong += [(card.entry_id, w) for t in shown for w in wrong_forms(t, region)]
            words += [(card.entry_id, w) for t in shown for w in mainland_words(t, region)]
            quotes += sum(mainland_quotes(t) for t in shown)
            diff = {d for s, t in card.texts() for d in differences(s, t)}
            trips += not diff
            if verbose and diff:
                print(f"  round trip {card.entry_id}: {sorted(diff)}")
        regions = sorted({c.reader.region for c in cards})
        roles = {w.mainland for w in terms.roles()}
        echoed = sum(w in roles and w not in card_reader.words for (e, w) in words for card_reader in [readers[e]])
        raw = sum(len(wrong_forms(str(S2TW.convert(s)), "tw")) for c in cards for s, _ in c.texts())
        print(
            f"{label} (regions {regions}): {len(cards)} answers; known-wrong forms {len(wrong)} (OpenCC alone: {raw}), "
            f"mainland glossary words {len(words)} ({echoed} of them role words the reader wrote so), "
            f"“ ” quotes {quotes}, round trip {trips}/{len(cards)}"
        )
        if verbose:
            for entry_id, w in [*wrong, *words]:
                print(f"  {entry_id}: {w}")
        bad += len(wrong) + (len(words) + quotes if label == "Taiwan wording" else 0) + (len(cards) - trips)
    # a 行銷 question: its follow-ups, the browse menu and a browse category's list
    answer = service.ask("行銷是什麼", record=False)
    labels = [b.label for b in answer.reply.flat_buttons()]
    menu = [b.label for b in service.welcome(answer.result.reader).flat_buttons()]
    listing = service.browse("营销", answer.result.reader)
    items = [b.label for b in listing.flat_buttons()] if listing else []
    mainland = [w for t in [*labels, *menu, *items] for w in mainland_words(t, "tw")]
    print(f"行銷是什麼 -> reader {answer.result.reader.region}: follow-ups {labels[:3]}")
    print(f"  browse menu {menu}; mainland role words in buttons and menus: {len(mainland)}")
    bad += len(mainland)
    hk = service.ask(HK_QUESTION, record=False)
    text = hk.reply.plain
    taiwan = service.topic(hk.result.topic or "", taiwan_reader())
    tw_words = [w.tw for w in terms.words if w.tw and w.tw != w.hk and w.tw in text]
    print(
        f"{HK_QUESTION} -> reader {hk.result.reader.region}, topic {hk.result.topic}: differs from the Taiwan reply "
        f"in {len(differences(taiwan.reply.plain, text)) if taiwan else '?'} places; Taiwan words in it {len(tw_words)}, "
        f"known-wrong forms {len(wrong_forms(text, 'hk'))}, “ ” quotes {mainland_quotes(text)}"
    )
    if verbose:
        print("  " + text.replace("\n", "\n  "))
    bad += (hk.result.reader.region != "hk") + len(tw_words) + len(wrong_forms(text, "hk"))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
