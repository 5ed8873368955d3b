"""Read and validate knowledge records from JSONL, YAML and CSV files."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, cast

from rolebot.errors import MAX_PROBLEMS, ImportFormatError, Problem
from rolebot.kb.formats import MAX_DEPTH, RawRecord, read_raw
from rolebot.kb.formats import Progress as Progress  # re-exported: callers know it from here
from rolebot.store.schema import (
    FAQ_KEYS,
    PASSAGE_KEYS,
    SOURCE_KEYS,
    FaqData,
    FaqExport,
    PassageData,
    PassageExport,
    Source,
)

# what a knowledge file may write, from the stored schema
FAQ_FIELDS = {"id", "kind", *FAQ_KEYS}
PASSAGE_FIELDS = {"id", "kind", *PASSAGE_KEYS}
SOURCE_FIELDS = set(SOURCE_KEYS)


@dataclass(frozen=True)
class FaqRecord:
    """One validated FAQ entry, ready to store."""

    kind: Literal["faq"]
    id: str
    data: FaqData
    file: str = ""
    line: int = 0

    def content(self) -> FaqExport:
        """Return the record as exported: kind first, then its fields."""
        return {"kind": self.kind, "id": self.id, **self.data}


@dataclass(frozen=True)
class PassageRecord:
    """One validated passage, ready to store."""

    kind: Literal["passage"]
    id: str
    data: PassageData
    file: str = ""
    line: int = 0

    def content(self) -> PassageExport:
        """Return the record as exported: kind first, then its fields."""
        return {"kind": self.kind, "id": self.id, **self.data}


Record = FaqRecord | PassageRecord


def derive_id(question: str) -> str:
    """Return a stable id for a record that has none, from its question."""
    norm = unicodedata.normalize("NFKC", question).strip().lower()
    return "faq-" + hashlib.sha1(norm.encode("utf-8")).hexdigest()[:12]


# what a \ud800-style escape leaves behind alone: half of a UTF-16 pair, no character, and no UTF-8 for it
SURROGATE = re.compile("[\ud800-\udfff]")


def _fits(val: object, depth: int = 1) -> bool:
    """Say whether a record can hold a value, quickly (`unfit` then says where and why not)."""
    if depth > MAX_DEPTH:
        return False  # the recursion goes no deeper than this
    if isinstance(val, str):
        return SURROGATE.search(val) is None
    if isinstance(val, dict):
        for key, item in val.items():
            if SURROGATE.search(str(key)) or not _fits(item, depth + 1):
                return False
    elif isinstance(val, list):
        for item in val:
            if not _fits(item, depth + 1):
                return False
    return True


def unfit(value: object, where: tuple[str, int]) -> Problem | None:
    """Return the first value no record can hold (nested too deeply, a lone surrogate), or None."""
    if _fits(value):
        return None  # nearly every record: no field paths to spell out
    stack: list[tuple[object, str, int]] = [(value, "", 1)]
    while stack:  # a loop, not recursion: the nesting is what is being checked
        val, path, depth = stack.pop()
        field_name = path or "(record)"
        if depth > MAX_DEPTH:
            return Problem(*where, field_name, f"nested deeper than {MAX_DEPTH} levels; records are flat")
        if isinstance(val, str):
            if found := SURROGATE.search(val):
                return Problem(
                    *where,
                    field_name,
                    f"holds \\u{ord(found.group()):04x}, half of a UTF-16 surrogate pair and not a character; "
                    "fix the escape",
                )
        elif isinstance(val, dict):
            for key, item in val.items():
                key_name = str(key)
                if SURROGATE.search(key_name):
                    return Problem(*where, field_name, "a field name holds half of a UTF-16 surrogate pair")
                stack.append((item, f"{path}.{key_name}" if path else key_name, depth + 1))
        elif isinstance(val, list):
            stack += [(item, f"{path}[{i}]", depth + 1) for i, item in enumerate(val)]
    return None


def _str_list(rec: Mapping[str, object], key: str, problems: list[Problem], where: tuple[str, int]) -> list[str]:
    val = rec.get(key, [])
    if val is None:
        return []
    if isinstance(val, str):
        problems.append(Problem(*where, key, "must be a list of strings, got a string"))
        return []
    if not isinstance(val, list) or not all(isinstance(v, str) for v in val):
        problems.append(Problem(*where, key, "must be a list of strings"))
        return []
    return [v.strip() for v in val if v.strip()]


def _sources(rec: Mapping[str, object], problems: list[Problem], where: tuple[str, int]) -> list[Source]:
    val = rec.get("sources", [])
    if val is None:
        return []
    if not isinstance(val, list):
        problems.append(Problem(*where, "sources", "must be a list of {title, author, url}"))
        return []
    out: list[Source] = []
    for i, src in enumerate(val):
        if isinstance(src, str):
            src = {"title": src}
        if not isinstance(src, dict) or not isinstance(src.get("title"), str) or not src["title"].strip():
            problems.append(Problem(*where, f"sources[{i}].title", "each source needs a title"))
            continue
        extra = sorted(str(k) for k in set(src) - SOURCE_FIELDS)
        if extra:
            problems.append(Problem(*where, f"sources[{i}]", f"unknown field(s) {', '.join(extra)}"))
        bad = [k for k, v in src.items() if v is not None and not isinstance(v, str)]
        if bad:
            problems.append(Problem(*where, f"sources[{i}].{bad[0]}", "must be a string"))
            continue
        out.append(cast(Source, {k: src[k].strip() for k in SOURCE_KEYS if src.get(k)}))
    return out


def _text(rec: Mapping[str, object], key: str, problems: list[Problem], where: tuple[str, int], required: bool) -> str:
    val = rec.get(key)
    if val is None or (isinstance(val, str) and not val.strip()):
        if required:
            problems.append(Problem(*where, key, "is required"))
        return ""
    if not isinstance(val, str):
        problems.append(Problem(*where, key, f"must be a string, got {type(val).__name__}"))
        return ""
    return val.strip()


def validate(raw: RawRecord) -> Record | None:
    """Check one parsed record; append problems to it and return the Record when clean."""
    where = (raw.file, raw.line)
    problems = raw.problems
    rec = raw.value
    if problems:
        return None
    if (problem := unfit(rec, where)) is not None:
        problems.append(problem)
        return None
    if not isinstance(rec, dict):
        problems.append(Problem(*where, "(record)", "must be an object with fields"))
        return None
    kind = rec.get("kind", "faq")
    if kind not in ("faq", "passage"):
        problems.append(Problem(*where, "kind", f"must be 'faq' or 'passage', got {kind!r}"))
        return None
    allowed = FAQ_FIELDS if kind == "faq" else PASSAGE_FIELDS
    for key in sorted(str(k) for k in set(rec) - allowed):
        problems.append(Problem(*where, key, f"unknown field for a {kind} record"))
    rid = rec.get("id")
    if rid is not None and (not isinstance(rid, str | int) or not str(rid).strip()):
        problems.append(Problem(*where, "id", "must be a non-empty string"))
    sources = _sources(rec, problems, where)
    tags = _str_list(rec, "tags", problems, where)
    topic = _text(rec, "topic", problems, where, required=kind == "faq")
    if kind == "faq":
        question = _text(rec, "question", problems, where, required=True)
        faq: FaqData = {
            "topic": topic,
            "question": question,
            "alternates": _str_list(rec, "alternates", problems, where),
            "answer": _text(rec, "answer", problems, where, required=True),
            "sources": sources,
            "related": _str_list(rec, "related", problems, where),
            "tags": tags,
        }
        rid = str(rid).strip() if rid is not None else (derive_id(question) if question else "")
        return None if problems else FaqRecord("faq", rid, faq, raw.file, raw.line)
    passage: PassageData = {
        "topic": topic or None,
        "title": _text(rec, "title", problems, where, required=False),
        "text": _text(rec, "text", problems, where, required=True),
        "sources": sources,
        "tags": tags,
    }
    if rid is None:
        problems.append(Problem(*where, "id", "is required for a passage"))
    rid = str(rid).strip() if rid is not None else ""
    return None if problems else PassageRecord("passage", rid, passage, raw.file, raw.line)


Links = list[tuple[str, int, str]]  # (file, line, topic) of each related topic a record names


def iter_records(
    paths: list[Path], problems: list[Problem], progress: Progress | None = None, links: Links | None = None
) -> Iterator[Record]:
    """Yield the valid records of files in order, one at a time, adding every other record's problems to `problems`.

    With `links`, every FAQ record's related topics are added to it, an invalid record's too: whether they exist
    is then reported with the record's other problems."""
    for path in paths:
        for raw in read_raw(path, progress):
            if links is not None:
                links.extend((raw.file, raw.line, t) for t in related_of(raw.value))
            rec = validate(raw)
            if rec is None:
                problems += raw.problems
                if len(problems) >= MAX_PROBLEMS:  # enough to fix first; reading on would only cost
                    return
            else:
                yield rec


def related_of(value: object) -> list[str]:
    """Return the related topics a parsed FAQ record names (the strings of its list, whatever else is wrong)."""
    if not isinstance(value, dict) or value.get("kind", "faq") != "faq":
        return []
    related = value.get("related")
    return [t for t in related if isinstance(t, str) and t.strip()] if isinstance(related, list) else []


def load_records(paths: list[Path], progress: Progress | None = None) -> list[Record]:
    """Parse and validate files; raise ImportFormatError listing every problem."""
    problems: list[Problem] = []
    records: list[Record] = []
    seen: dict[tuple[str, str], str] = {}
    for rec in iter_records(paths, problems, progress):
        key = (rec.kind, rec.id)
        if key in seen:
            problems.append(Problem(rec.file, rec.line, "id", f"duplicate id {rec.id!r} (first at {seen[key]})"))
            continue
        seen[key] = f"{rec.file}:{rec.line}"
        records.append(rec)
    if problems:
        raise ImportFormatError(problems)
    return records
