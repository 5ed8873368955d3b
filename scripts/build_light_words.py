"""Write bot/language/light_words.txt: the words of jieba's dictionary that carry no topic of their own.

Adverbs, pronouns, conjunctions, particles, prepositions, measure words, numerals, time words, locatives,
descriptive adjectives and interjections (jieba's part-of-speech tags below). A question word left
unexplained by a topic weighs little when it is one of these (到底, 具体, 一般, 这样) and much when it is
not (城市, 学历, 工资): the scorer's coverage check uses the list. Loading jieba.posseg costs 0.3 s and
~40 MB at run time, so the list is extracted once and shipped. Run after upgrading jieba.
"""

from __future__ import annotations

from pathlib import Path

import jieba.posseg

LIGHT_TAGS = frozenset(
    "a ad ag an d dg r rr rz c f q mq m p y e u uj ul o z t tg k".split()
)  # fmt: skip
OUT = Path(__file__).resolve().parent.parent / "bot" / "language" / "light_words.txt"


def main() -> int:
    table = jieba.posseg.dt.word_tag_tab
    words = sorted(w for w, tag in table.items() if tag in LIGHT_TAGS and not w.isascii())
    head = f"# built by scripts/build_light_words.py from jieba {jieba.__version__}'s dictionary; {len(words)} words\n"
    OUT.write_text(head + "\n".join(words) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(words)} words)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
