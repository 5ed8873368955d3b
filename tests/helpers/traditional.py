"""What a Traditional reader is shown, and what is wrong in it: shared by tests/test_traditional.py and
scripts/check_traditional.py."""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace

import opencc

from rolebot.conversation.render import Reply, render_result
from rolebot.conversation.service import Service
from rolebot.kb.knowledge import shipped_paths
from rolebot.kb.records import Record, load_records
from rolebot.language.glossary import glossary
from rolebot.language.script import TRADITIONAL, Reader, reader_of

T2S = opencc.OpenCC("t2s")
S2TW = opencc.OpenCC("s2tw")
TITLE = re.compile(r"《[^《》]*》")
ALLOWED = {("着", "著")}  # OpenCC's t2s writes 著 back as 著 where our text has 着
HK_QUESTION = "市場推廣同營銷有咩分別"


def faq_records() -> list[Record]:
    """Return the shipped FAQ entries."""
    return [r for r in load_records(shipped_paths()) if r.kind == "faq"]


def taiwan_reader() -> Reader:
    """Return the reader of a question in Taiwan wording."""
    return reader_of("行銷和業務有什麼不同")


def taiwan_wording(question: str) -> str:
    """Return a Simplified question as a Taiwan reader writes it."""
    return Reader(TRADITIONAL, "tw", glossary().region_words("tw")).write(question)


def plain_traditional(question: str) -> str:
    """Return a Simplified question converted character by character (no regional words)."""
    return str(S2TW.convert(question))


@dataclass(frozen=True)
class Shown:
    """One entry's answer card for a Simplified reader and for another reader."""

    entry_id: str
    simplified: Reply
    shown: Reply
    reader: Reader

    def texts(self) -> list[tuple[str, str]]:
        """Return (simplified, shown) pairs: the card's text and each button's label."""
        pairs = [(self.simplified.plain, self.shown.plain)]
        pairs += zip(
            [b.label for b in self.simplified.flat_buttons()], [b.label for b in self.shown.flat_buttons()], strict=True
        )
        return pairs


def entry_cards(service: Service, records: list[Record], reader_for: dict[str, Reader]) -> Iterator[Shown]:
    """Render each entry's answer (asked by its own question) for its reader."""
    for r in records:
        answer = service.ask(str(r.data["question"]), record=False, follow_ups=False)
        result = answer.result
        assert result.entry_id == r.id, (r.id, result.entry_id)
        shown = render_result(replace(result, reader=reader_for[r.id]), browse=service.categories)
        yield Shown(r.id, answer.reply, shown, reader_for[r.id])


def wrong_forms(text: str, region: str) -> list[str]:
    """Return every known-wrong form (corrections.yaml) the text shows to a reader of the region."""
    return [w for w in glossary().wrong_forms(region) if w in text]


def mainland_words(text: str, region: str = "tw") -> list[str]:
    """Return the glossary's mainland words a reader of the region is shown (titles and kept phrases aside)."""
    plain = str(T2S.convert(TITLE.sub("", text)))
    found = []
    for w in glossary().words:
        if w.local(region) and w.mainland in plain:
            rest = plain
            for phrase in glossary().kept(w, region):
                rest = rest.replace(phrase, "")
            found += [w.mainland] * rest.count(w.mainland)
    return found


def mainland_quotes(text: str) -> int:
    """Count the mainland quotation marks shown."""
    return sum(text.count(q) for q in "“”‘’")


def _equivalents() -> dict[str, str]:
    """Map every form of a glossary word or mark (mainland, and each local form read back) to one stand-in."""
    groups: list[set[str]] = [{w.mainland, *(str(T2S.convert(f)) for f in (w.tw, w.hk) if f)} for w in glossary().words]
    groups.append({'"', *(m for pair in glossary().marks for m in pair if m in "“”「」")})
    groups.append({m for pair in glossary().marks for m in pair if m in "‘’『』"})
    merged: list[set[str]] = []
    for g in groups:  # 互联网 and 网络 are both 網路: one stand-in for both
        for m in [m for m in merged if m & g]:
            g |= m
            merged.remove(m)
        merged.append(g)
    return {x: chr(0xE000 + i) for i, g in enumerate(merged) for x in g}


_SLOTS = _equivalents()
_SLOT_RE = re.compile("|".join(sorted(map(re.escape, _SLOTS), key=len, reverse=True)))


def _slots(text: str) -> str:
    return _SLOT_RE.sub(lambda m: _SLOTS[m.group(0)], text)


def differences(simplified: str, traditional: str) -> set[tuple[str, str]]:
    """Return what differs between our text and its Traditional rendering converted back, the glossary aside."""
    back = _slots(str(T2S.convert(traditional)))
    simplified = _slots(simplified)
    ops = difflib.SequenceMatcher(None, simplified, back, autojunk=False).get_opcodes()
    return {(simplified[i1:i2], back[j1:j2]) for op, i1, i2, j1, j2 in ops if op != "equal"} - ALLOWED


def ui_texts() -> list[tuple[str, str]]:
    """Every string literal with Chinese in the package's code (replies, buttons, help, toasts)."""
    import ast
    from pathlib import Path

    import rolebot

    out = []
    root = Path(rolebot.__file__).parent
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text("utf-8"))
        docs = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docs  # a docstring is read by developers, not shown
                and re.search("[\u4e00-\u9fff]", node.value)
            ):
                out.append((f"{path.relative_to(root)}:{node.lineno}", node.value))
    return out


def simplified_texts() -> list[tuple[str, str]]:
    """Every Simplified text we may show: answers, questions, alternates, passages, browse buttons, UI strings."""
    from rolebot.language.vocabulary import vocabulary

    out = []
    for r in load_records(shipped_paths()):
        fields = ("question", "answer") if r.kind == "faq" else ("title", "text")
        out += [(f"{r.id}.{f}", str(r.data[f])) for f in fields if r.data.get(f)]
        alts = [str(a) for a in r.data.get("alternates") or []]
        out += [(f"{r.id}.alt{i}", a) for i, a in enumerate(alts) if T2S.convert(a) == a]
    out += [(f"browse.{c}", c) for c in vocabulary().browse]
    return out + [(k, t) for k, t in ui_texts() if T2S.convert(t) == t]


@dataclass(frozen=True)
class Disagreement:
    """Where two converters write one Simplified character differently."""

    ours: str
    theirs: str
    context: str  # our rendering around it
    where: str


def disagreements(region: str, texts: list[tuple[str, str]], ours: Reader | None = None) -> list[Disagreement]:
    """Compare a rendering (default: OpenCC alone) with zhconv-rs, character by character, where both keep the
    Simplified form (vocabulary that zhconv-rs also rewrites, 互联网 → 網際網路, is not a character)."""
    import zhconv_rs

    raw = opencc.OpenCC("s2hk" if region == "hk" else "s2tw")
    variant = "zh-hk" if region == "hk" else "zh-tw"
    out = []
    for where, text in texts:
        text = TITLE.sub("", text)  # titles are shown as published, never converted
        mine = ours.write(text) if ours else str(raw.convert(text))
        theirs = zhconv_rs.zhconv(text, variant)
        if mine == theirs:
            continue
        ops = difflib.SequenceMatcher(None, mine, theirs, autojunk=False).get_opcodes()
        for op, i1, i2, j1, j2 in ops:
            a, b = mine[i1:i2], theirs[j1:j2]
            if op != "replace" or len(a) != len(b):
                continue
            for k, (x, y) in enumerate(zip(a, b, strict=True)):
                if x != y and T2S.convert(x) == T2S.convert(y):
                    at = i1 + k
                    out.append(Disagreement(x, y, mine[max(0, at - 3) : at + 3].replace("\n", " "), where))
    return out


def accepted() -> set[tuple[str, str]]:
    """Return the reviewed (OpenCC form, zhconv-rs form) pairs where OpenCC's form stays (corrections.yaml)."""
    import yaml

    from rolebot.config import knowledge_dir

    data = yaml.safe_load((knowledge_dir() / "corrections.yaml").read_text("utf-8")) or {}
    return {(str(k), str(v)) for k, v in (data.get("accepted") or {}).items()}
