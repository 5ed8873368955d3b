"""Read knowledge files (JSONL, YAML, CSV) as a stream of parsed records, one at a time, their encoding checked first."""

from __future__ import annotations

import codecs
import csv
import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import yaml

from rolebot.errors import ImportFormatError, Problem
from rolebot.store.schema import LIST_KEYS

# told (stage, done, total) now and then during long work; the CLI draws a bar from it
Progress = Callable[[str, int, int], None]

# a record is at most file → entries → record → sources → source → text deep; anything deeper is no record
MAX_DEPTH = 10
MAX_NODES = 5000  # values in one YAML record (a record holds a few dozen): a list bomb is refused while read
MAX_LINE = 1 << 20  # characters of one JSONL line: a record is a few KB
BLOCK = 1 << 16  # bytes read at a time while checking a file's encoding
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


@dataclass
class RawRecord:
    """A record as parsed, before validation, with where it came from."""

    file: str
    line: int
    value: Any
    problems: list[Problem] = field(default_factory=list)


def json_message(exc: json.JSONDecodeError) -> str:
    """Return a JSON error as one clean phrase: "Unterminated string starting at column 52" (its message ends in "at")."""
    return f"{exc.msg.removesuffix(' at')} at column {exc.colno}"


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


def _scan(path: Path, encoding: str, skip: int) -> tuple[int, bool]:
    """Decode a file block by block, keeping nothing; return its number of lines and True, or the line of its
    first byte that is not of the encoding and False."""
    decoder = codecs.getincrementaldecoder(encoding)("strict")
    lines = 0
    with path.open("rb") as f:
        f.seek(skip)
        while True:
            block = f.read(BLOCK)
            try:
                lines += decoder.decode(block, final=not block).count("\n")
            except UnicodeDecodeError as exc:
                data = exc.object if isinstance(exc.object, bytes) else block
                return lines + data.count(b"\n", 0, exc.start) + 1, False
            if not block:
                return lines + 1, True


def open_text(path: Path, newline: str) -> tuple[IO[str], int]:
    """Open a knowledge file as text, after checking its encoding end to end; return it and its number of lines.

    UTF-8 (and UTF-16/32 with a BOM) is read as a stream, never whole. A file that is not UTF-8 goes to the
    detector, which needs all of it: legacy encodings are for the small files of people's own tools.
    """
    name = str(path)
    with path.open("rb") as f:
        head = f.read(4)
    encoding, skip = "utf-8", 0
    for bom, enc in BOMS:
        if head.startswith(bom):
            encoding, skip = enc, len(bom)
            break
    lines, decodes = _scan(path, encoding, skip)
    if not decodes and skip:
        raise ImportFormatError([Problem(name, lines, "(encoding)", f"starts like {encoding} but is not")])
    if not decodes:
        text = decode(path.read_bytes(), name)
        return io.StringIO(text, newline=newline), text.count("\n") + 1
    f = path.open("rb")
    f.seek(skip)
    return io.TextIOWrapper(f, encoding=encoding, newline=newline), lines


def _lines(stream: IO[str], limit: int = MAX_LINE) -> Iterator[str | None]:
    """Yield a stream's lines, and None for a line over `limit` characters (skipped in pieces, never held whole)."""
    while line := stream.readline(limit + 1):
        if len(line) > limit and not line.endswith("\n"):
            while (rest := stream.readline(1 << 16)) and not rest.endswith("\n"):
                pass
            yield None
            continue
        yield line


def _jsonl(stream: IO[str], name: str) -> Iterator[RawRecord]:
    # lines end at \n only (the stream is opened so): JSON strings may hold U+2028 and friends raw
    for no, line in enumerate(_lines(stream), 1):
        if line is None:
            problem = f"a line over {MAX_LINE:,} characters; a record is a few KB"
            yield RawRecord(name, no, None, [Problem(name, no, "(json)", problem)])
            continue
        line = line.rstrip("\n").rstrip("\r")
        if not line.strip():
            continue
        try:
            yield RawRecord(name, no, json.loads(line))
        except json.JSONDecodeError as exc:
            yield RawRecord(name, no, None, [Problem(name, no, "(json)", f"bad JSON: {json_message(exc)}")])
        except RecursionError:
            problem = f"bad JSON: nested deeper than {MAX_DEPTH} levels; records are flat"
            yield RawRecord(name, no, None, [Problem(name, no, "(json)", problem)])
        except ValueError as exc:  # an integer of more than 4300 digits, say
            yield RawRecord(name, no, None, [Problem(name, no, "(json)", f"bad JSON: {exc}")])


class KnowledgeLoader(yaml.SafeLoader):
    """SafeLoader without aliases and with a nesting limit: a 400-byte alias bomb expands to gigabytes."""

    def __init__(self, stream: str | IO[str]) -> None:
        super().__init__(stream)
        self.depth = 0
        self.nodes = 0  # composed in the current record

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        """Compose a node, refusing aliases and nesting deeper than records go."""
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        mark = cast(yaml.error.Mark, event.start_mark)
        if isinstance(event, yaml.AliasEvent):
            problem = f"an alias (*{event.anchor}); knowledge files may not use aliases"
            raise yaml.composer.ComposerError(None, None, problem, mark)
        self.nodes += 1
        if self.nodes > MAX_NODES:  # checked as it is read: the rest of a list bomb is never scanned
            problem = f"a record of more than {MAX_NODES:,} values; records hold a few dozen"
            raise yaml.composer.ComposerError(None, None, problem, mark)
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                problem = f"nested deeper than {MAX_DEPTH} levels; records are flat"
                raise yaml.composer.ComposerError(None, None, problem, mark)
            return super().compose_node(parent, index)
        finally:
            self.depth -= 1

    def at(self, kind: type[yaml.Event]) -> bool:
        """Say whether the next event is of a kind."""
        return bool(self.check_event(kind))

    def skip_event(self) -> yaml.Event:
        """Take the next event."""
        return cast(yaml.Event, self.get_event())  # type: ignore[no-untyped-call]

    def items(self, depth: int) -> Iterator[yaml.Node]:
        """Compose the items of the sequence that starts here one by one, as deep as they are in the document."""
        self.skip_event()
        self.depth = depth  # the sequence's own depth: items are one deeper, as when the whole document is composed
        index = 0
        while not self.at(yaml.SequenceEndEvent):
            self.nodes = 0
            node = self.compose_node(None, index)
            assert node is not None
            yield node
            index += 1
        self.skip_event()


def _yaml_nodes(loader: KnowledgeLoader, name: str) -> Iterator[tuple[str, yaml.Node] | RawRecord]:
    """Yield (kind, node) per record of a YAML document, item by item, or a RawRecord for what is no list of records."""
    loader.skip_event()  # the stream's start
    if loader.at(yaml.StreamEndEvent):
        return
    loader.skip_event()  # the document's start
    if loader.at(yaml.SequenceStartEvent):
        for node in loader.items(depth=1):
            yield "", node
    elif loader.at(yaml.MappingStartEvent):
        loader.skip_event()
        while not loader.at(yaml.MappingEndEvent):
            loader.depth = 1
            key = loader.compose_node(None, 0)
            assert key is not None
            kind = {"entries": "faq", "passages": "passage"}.get(str(key.value))
            if kind is not None and loader.at(yaml.SequenceStartEvent):
                for node in loader.items(depth=2):
                    yield kind, node
                continue
            loader.compose_node(None, 0)  # the value, checked as any node and left
            line = key.start_mark.line + 1
            problem = "expected a list of records, or top-level 'entries:' / 'passages:'"
            yield RawRecord(name, line, None, [Problem(name, line, str(key.value), problem)])
        loader.skip_event()
    else:
        loader.compose_node(None, 0)
        yield RawRecord(name, 1, None, [Problem(name, 1, "(yaml)", "expected a list of records")])
        return
    loader.depth = 0
    loader.skip_event()  # the document's end
    if not loader.at(yaml.StreamEndEvent):
        mark = loader.peek_event().start_mark  # type: ignore[no-untyped-call]
        raise yaml.composer.ComposerError(
            "expected a single document in the stream", None, "but found another document", mark
        )


def _yaml(stream: IO[str], name: str) -> Iterator[RawRecord]:
    loader: KnowledgeLoader | None = None
    try:
        loader = KnowledgeLoader(stream)  # reads the first block already, and may refuse it
        for item in _yaml_nodes(loader, name):
            if isinstance(item, RawRecord):
                yield item
                continue
            kind, node = item
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
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        yield RawRecord(name, line, None, [Problem(name, line, "(yaml)", f"bad YAML: {problem}")])
    finally:
        if loader is not None:
            loader.dispose()


def _csv_cell(column: str, cell: str) -> Any:
    """Turn a CSV cell into a value: JSON for lists and sources, '|'-separated lists too."""
    cell = cell.strip()
    if column in LIST_KEYS or column == "sources":
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


def _csv(stream: IO[str], name: str) -> Iterator[RawRecord]:
    reader = csv.DictReader(stream)
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


# each format's reader, and how its lines end: JSONL at \n only, CSV as the csv module wants (it reads \r\n itself)
READERS: dict[str, tuple[Callable[[IO[str], str], Iterator[RawRecord]], str]] = {
    "jsonl": (_jsonl, "\n"),
    "json": (_jsonl, "\n"),
    "yaml": (_yaml, "\n"),
    "yml": (_yaml, "\n"),
    "csv": (_csv, ""),
}


def format_of(path: Path) -> str:
    """Return the format named by a file's ending."""
    return path.suffix.lower().lstrip(".")


def read_raw(path: Path, progress: Progress | None = None) -> Iterator[RawRecord]:
    """Yield a file's records as parsed, one at a time; a file that cannot be read yields its problem as a record."""
    name = str(path)
    try:
        fmt = format_of(path)
        reader, newline = READERS.get(fmt, (None, "\n"))
        stream, lines = open_text(path, newline)
    except OSError as exc:
        yield RawRecord(name, 0, None, [Problem(name, 0, "(file)", exc.strerror or "cannot be read")])
        return
    except ImportFormatError as exc:
        yield RawRecord(name, exc.problems[0].line, None, exc.problems)
        return
    with stream:
        if reader is None:
            yield RawRecord(
                name, 1, None, [Problem(name, 1, "(format)", f"unknown format '{fmt}'; use .jsonl, .yaml or .csv")]
            )
            return
        stage = f"checking {path.name}"
        try:
            for done, raw in enumerate(reader(stream, name), 1):
                if progress is not None and done % 1000 == 0:
                    progress(stage, min(raw.line, lines), lines)
                yield raw
        except OSError as exc:  # the file went away or broke while it was read
            yield RawRecord(name, 0, None, [Problem(name, 0, "(file)", exc.strerror or "cannot be read")])
        except UnicodeDecodeError:  # it changed since its encoding was checked
            yield RawRecord(name, 0, None, [Problem(name, 0, "(encoding)", "changed while it was read; try again")])
        if progress is not None:
            progress(stage, lines, lines)
