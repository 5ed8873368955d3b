"""Write bot/language/pinyin_words.txt: what the engine needs of pypinyin's phrase data, without loading it.

Importing pypinyin loads its phrase dictionary and word segmenter (~50 MB and 0.5–0.8 s at every start,
before the first question can be read). Of the phrases only two things are used:
  - phrases read other than their characters' usual readings (银行 yin hang, not yin xing): the first way
    a word is typed in plain pinyin (rolebot.language.pinyin.keys); every other phrase is typed as its
    characters' usual readings anyway;
  - each role word of knowledge/vocabulary.yaml as pypinyin reads the whole word (its homophones).
Characters' readings come from pypinyin's own character table (pinyin_dict.json), read directly.
Run after upgrading pypinyin or changing the vocabulary's roles (tests/test_typos.py checks it is current).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pypinyin
from pypinyin import Style, lazy_pinyin
from pypinyin.phrases_dict import phrases_dict

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from rolebot.language import pinyin  # noqa: E402
from rolebot.language.vocabulary import vocabulary  # noqa: E402

OUT = ROOT / "bot" / "language" / "pinyin_words.txt"


def unusual_phrases() -> dict[str, str]:
    """Return the phrases whose reading is not their characters' usual readings, as toneless syllables."""
    out: dict[str, str] = {}
    for word, readings in phrases_dict.items():
        if len(readings) != len(word):
            continue  # keys() ignores these too
        sounds = [pinyin.toneless(r[0]) for r in readings]
        usual = [pinyin.ordered_readings(ch)[:1] for ch in word]
        if not all(usual) or sounds != [u[0] for u in usual]:
            out[word] = " ".join(sounds)
    return out


def role_sounds() -> dict[str, str]:
    """Return each role word of the shipped vocabulary as pypinyin reads the whole word."""
    return {
        role: " ".join(lazy_pinyin(role, style=Style.NORMAL, errors="ignore")) for role in sorted(vocabulary().roles)
    }


def main() -> int:
    phrases, roles = unusual_phrases(), role_sounds()
    lines = [
        f"# built by scripts/build_pinyin_words.py from pypinyin {pypinyin.__version__}: "
        f"{len(phrases)} phrases, {len(roles)} roles",
        "[phrases]",
        *(f"{w}\t{s}" for w, s in sorted(phrases.items())),
        "[roles]",
        *(f"{w}\t{s}" for w, s in roles.items()),
    ]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(phrases)} phrases, {len(roles)} roles)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
