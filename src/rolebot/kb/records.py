"""Read and validate knowledge records from JSONL, YAML and CSV files."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import yaml

from rolebot.errors import ImportFormatError, Problem
from rolebot.store.schema import (
    FAQ_KEYS,
    LIST_KEYS,
    PASSAGE_KEYS,
    SOURCE_KEYS,
    FaqData,
    FaqExport,
    PassageData,
    PassageExport,
    Source,
)

# told (stage, done, total) now and then during long work; the CLI draws a bar from it
Progress = Callable[[str, int, int], None]

# what a knowledge file may write, from the stored schema
FAQ_FIELDS = {"id", "kind", *FAQ_KEYS}
PASSAGE_FIELDS = {"id", "kind", *PASSAGE_KEYS}
SOURCE_FIELDS = set(SOURCE_KEYS)
LIST_FIELDS = LIST_KEYS


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


@dataclass
class RawRecord:
    """A record as parsed, before validation, with where it came from."""

    file: str
    line: int
    value: Any
    problems: list[Problem] = field(default_factory=list)


def derive_id(question: str) -> str:
    """Return a stable id for a record that has none, from its question."""
    norm = unicodedata.normalize("NFKC", question).strip().lower()
    return "faq-" + hashlib.sha1(norm.encode("utf-8")).hexdigest()[:12]


# Chinese legacy encodings we read when a detector is sure; anything else is refused, never guessed:
# GB18030 alone accepts almost any bytes, so "not UTF-8 → GB18030" would store Big5 as gibberish
LEGACY_CHINESE = {"gb18030", "gbk", "gb2312", "cp936", "big5", "big5hkscs", "cp950"}
BOMS = (
    (b"\xef\xbb\xbf", "utf-8"),
    (b"\xff\xfe\x00\x00", "utf-32-le"),
    (b"\x00\x00\xfe\xff", "utf-32-be"),
    (b"\xff\xfe", "utf-16-le"),
    (b"\xfe\xff", "utf-16-be"),
)


def decode(raw: bytes, name: str) -> str:
    """Decode UTF-8 or UTF-16/32 with a BOM; read GBK/GB18030 or Big5 when detected; refuse anything else."""
    for bom, encoding in BOMS:
        if raw.startswith(bom):
            try:
                return raw[len(bom) :].decode(encoding)
            except UnicodeDecodeError as exc:
                line = raw.count(b"\n", 0, exc.start) + 1
                raise ImportFormatError(
                    [Problem(name, line, "(encoding)", f"starts like {encoding} but is not")]
                ) from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    from charset_normalizer import from_bytes

    best = from_bytes(raw).best()
    if best is None:
        raise ImportFormatError([Problem(name, 1, "(encoding)", "not text in any known encoding; save it as UTF-8")])
    encoding = best.encoding.lower().replace("_", "-")
    if encoding.replace("-", "") in LEGACY_CHINESE:
        try:
            return raw.decode(best.encoding)
        except UnicodeDecodeError:
            pass
    raise ImportFormatError(
        [Problem(name, 1, "(encoding)", f"not UTF-8: it looks like {best.encoding}; save the file as UTF-8")]
    )


# a record is at most file → entries → record → sources → source → text deep; anything deeper is no record
MAX_DEPTH = 10
# what a \ud800-style escape leaves behind alone: half of a UTF-16 pair, no character, and no UTF-8 for it
SURROGATE = re.compile("[\ud800-\udfff]")


def unfit(value: object, where: tuple[str, int]) -> Problem | None:
    """Return the first value no record can hold (nested too deeply, a lone surrogate), or None."""
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


def _jsonl(text: str, name: str) -> Iterator[RawRecord]:
    # split on \n only: str.splitlines() also breaks on U+2028 and friends, which JSON strings may hold raw
    for no, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        try:
            yield RawRecord(name, no, json.loads(line))
        except json.JSONDecodeError as exc:
            yield RawRecord(name, no, None, [Problem(name, no, "(json)", f"bad JSON: {exc.msg} at column {exc.colno}")])
        except RecursionError:
            problem = f"bad JSON: nested deeper than {MAX_DEPTH} levels; records are flat"
            yield RawRecord(name, no, None, [Problem(name, no, "(json)", problem)])
        except ValueError as exc:  # an integer of more than 4300 digits, say
            yield RawRecord(name, no, None, [Problem(name, no, "(json)", f"bad JSON: {exc}")])


class KnowledgeLoader(yaml.SafeLoader):
    """SafeLoader without aliases and with a nesting limit: a 400-byte alias bomb expands to gigabytes."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Compose a node, refusing aliases and nesting deeper than records go."""
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        mark = cast(yaml.error.Mark, event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            problem = f"an alias (*{event.anchor}); knowledge files may not use aliases"
            raise yaml.composer.ComposerError(None, None, problem, mark)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                problem = f"nested deeper than {MAX_DEPTH} levels; records are flat"
                raise yaml.composer.ComposerError(None, None, problem, mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1


def _yaml(text: str, name: str) -> Iterator[RawRecord]:
    try:
        loader = KnowledgeLoader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return
            items: list[tuple[str, yaml.Node]] = []
            if isinstance(root, yaml.SequenceNode):
                items = [("", n) for n in root.value]
            elif isinstance(root, yaml.MappingNode):
                for key, val in root.value:
                    kind = {"entries": "faq", "passages": "passage"}.get(str(key.value))
                    if kind is None or not isinstance(val, yaml.SequenceNode):
                        yield RawRecord(
                            name,
                            key.start_mark.line + 1,
                            None,
                            [
                                Problem(
                                    name,
                                    key.start_mark.line + 1,
                                    str(key.value),
                                    "expected a list of records, or top-level 'entries:' / 'passages:'",
                                )
                            ],
                        )
                        continue
                    items += [(kind, n) for n in val.value]
            else:
                yield RawRecord(name, 1, None, [Problem(name, 1, "(yaml)", "expected a list of records")])
                return
            for kind, node in items:
                line = node.start_mark.line + 1
                try:
                    value = loader.construct_document(node)
                except (ValueError, TypeError, OverflowError) as exc:
                    # PyYAML turns 2020-13-45 into a date and 0x_ into an int, and fails while doing it
                    yield RawRecord(name, line, None, [Problem(name, line, "(yaml)", f"bad value: {exc}")])
                    continue
                if kind and isinstance(value, dict):
                    value.setdefault("kind", kind)
                yield RawRecord(name, line, value)
        finally:
            loader.dispose()
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        yield RawRecord(name, line, None, [Problem(name, line, "(yaml)", f"bad YAML: {problem}")])


def _csv_cell(column: str, cell: str) -> Any:
    """Turn a CSV cell into a value: JSON for lists and sources, '|'-separated lists too."""
    cell = cell.strip()
    if column in LIST_FIELDS or column == "sources":
        if not cell:
            return []
        if cell.startswith(("[", "{")):
            try:
                return json.loads(cell)
            except json.JSONDecodeError:
                return cell  # reported by validation as a wrong type
        parts = [p.strip() for p in cell.split("|") if p.strip()]
        return [{"title": p} for p in parts] if column == "sources" else parts
    return cell


def _csv(text: str, name: str) -> Iterator[RawRecord]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        for row in reader:
            no = reader.line_num
            if None in row:
                yield RawRecord(name, no, None, [Problem(name, no, "(csv)", "more cells than header columns")])
                continue
            value = {k.strip(): _csv_cell(k.strip(), v or "") for k, v in row.items() if k and (v or "").strip()}
            yield RawRecord(name, no, value)
    except csv.Error as exc:
        yield RawRecord(name, reader.line_num, None, [Problem(name, reader.line_num, "(csv)", str(exc))])


def parse_text(text: str, name: str, fmt: str) -> list[RawRecord]:
    """Parse one file's text in the given format (jsonl, yaml or csv)."""
    reader = {"jsonl": _jsonl, "json": _jsonl, "yaml": _yaml, "yml": _yaml, "csv": _csv}.get(fmt)
    if reader is None:
        raise ImportFormatError([Problem(name, 1, "(format)", f"unknown format '{fmt}'; use .jsonl, .yaml or .csv")])
    return list(reader(text, name))


def format_of(path: Path) -> str:
    """Return the format named by a file's ending."""
    return path.suffix.lower().lstrip(".")


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


def load_records(paths: list[Path], progress: Progress | None = None) -> list[Record]:
    """Parse and validate files; raise ImportFormatError listing every problem."""
    problems: list[Problem] = []
    records: list[Record] = []
    seen: dict[tuple[str, str], str] = {}
    for path in paths:
        name = str(path)
        try:
            raw_bytes = path.read_bytes()
        except OSError as exc:
            problems.append(Problem(name, 0, "(file)", exc.strerror or "cannot be read"))
            continue
        try:
            raws = parse_text(decode(raw_bytes, name), name, format_of(path))
        except ImportFormatError as exc:
            problems += exc.problems
            continue
        for done, raw in enumerate(raws, 1):
            if progress is not None and (done % 1000 == 0 or done == len(raws)):
                progress(f"checking {path.name}", done, len(raws))
            rec = validate(raw)
            if rec is None:
                problems += raw.problems
                continue
            key = (rec.kind, rec.id)
            if key in seen:
                problems.append(Problem(name, raw.line, "id", f"duplicate id {rec.id!r} (first at {seen[key]})"))
                continue
            seen[key] = f"{name}:{raw.line}"
            records.append(rec)
    if problems:
        raise ImportFormatError(problems)
    return records
