"""Entity parsing (parse_mode) as Telegram does it, and auto-detected entities in users' text."""

from __future__ import annotations

import re

from tests.helpers.fakeapi.protocol import (
    JSON,
    _bad,
    utf16_len,
)


class _ParseError(Exception):
    """An entity parse error; becomes 'Bad Request: can't parse entities: ...'."""


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


_TAG_RE = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z_:-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)"
    r"\s*(/?)>"
)


_ATTR_RE = re.compile(r"([a-zA-Z_:-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>]+))?")


_CHARREF_RE = re.compile(r"&(lt|gt|amp|quot|#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6});")


_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _byte_offset(src: str, index: int) -> int:
    """UTF-8 byte offset of a character index, as Telegram reports in parse errors."""
    return len(src[:index].encode("utf-8"))


def _unescape_charref(match: re.Match[str]) -> str:
    """Decode one HTML character reference Telegram supports."""
    ref = match.group(1)
    if ref in _NAMED_REFS:
        return _NAMED_REFS[ref]
    code = int(ref[2:], 16) if ref[1] in "xX" else int(ref[1:])
    return chr(code) if 0 < code < 0x110000 else ""


def parse_html(src: str) -> tuple[str, list[JSON]]:
    """Parse Telegram-flavoured HTML into plain text and entities, strict like Telegram."""
    out: list[str] = []
    pos = 0
    entities: list[JSON] = []
    stack: list[tuple[str, int, dict[str, str], int]] = []
    i = 0
    while i < len(src):
        ch = src[i]
        if ch == "<":
            m = _TAG_RE.match(src, i)
            if not m:
                name_m = re.match(r"</?([^\s>]*)", src[i:])
                name = name_m.group(1) if name_m else ""
                raise _ParseError(f'Unsupported start tag "{name}" at byte offset {_byte_offset(src, i)}')
            closing, name, attr_text, self_closing = m.groups()
            name = name.lower()
            if not closing:
                if name not in _HTML_TAGS or self_closing:
                    raise _ParseError(f'Unsupported start tag "{name}" at byte offset {_byte_offset(src, i)}')
                attrs = {
                    a.group(1).lower(): _CHARREF_RE.sub(_unescape_charref, (a.group(2) or "").strip("\"'"))
                    for a in _ATTR_RE.finditer(attr_text)
                }
                if name == "span" and attrs.get("class") != "tg-spoiler":
                    raise _ParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(src, i)}')
                stack.append((name, pos, attrs, i))
            else:
                if not stack:
                    raise _ParseError(f"Unexpected end tag at byte offset {_byte_offset(src, i)}")
                open_name, start, attrs, _ = stack.pop()
                if open_name != name:
                    raise _ParseError(
                        f"Unmatched end tag at byte offset {_byte_offset(src, i)}, "
                        f'expected "</{open_name}>", found "</{name}>"'
                    )
                _close_html_entity(open_name, start, pos, attrs, stack, entities)
            i = m.end()
            continue
        if ch == "&":
            m = _CHARREF_RE.match(src, i)
            if m:
                text = _unescape_charref(m)
                out.append(text)
                pos += utf16_len(text)
                i = m.end()
                continue
        out.append(ch)
        pos += utf16_len(ch)
        i += 1
    if stack:
        raise _ParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), entities


def _close_html_entity(
    name: str,
    start: int,
    end: int,
    attrs: dict[str, str],
    stack: list[tuple[str, int, dict[str, str], int]],
    entities: list[JSON],
) -> None:
    """Turn a closed HTML tag into an entity (code inside pre sets the pre language)."""
    if end <= start:
        return
    kind = _HTML_TAGS[name]
    if name == "code" and stack and stack[-1][0] == "pre" and stack[-1][1] == start:
        language = attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1][2]["language"] = language[len("language-") :]
            return
    entity: JSON = {"type": kind, "offset": start, "length": end - start}
    if kind == "text_link":
        href = attrs.get("href")
        if not href:
            return
        user = re.fullmatch(r"tg://user\?id=(\d+)", href)
        if user:
            entity = {
                "type": "text_mention",
                "offset": start,
                "length": end - start,
                "user": {"id": int(user.group(1)), "is_bot": False, "first_name": "User"},
            }
        else:
            entity["url"] = href
    elif kind == "pre" and attrs.get("language"):
        entity["language"] = attrs["language"]
    elif kind == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    entities.append(entity)


_MD2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")


_MD2_NAMES = {"*": "Bold", "_": "Italic", "__": "Underline", "~": "Strikethrough", "||": "Spoiler", "[": "TextUrl"}


_MD2_TYPES = {"*": "bold", "_": "italic", "__": "underline", "~": "strikethrough", "||": "spoiler"}


def _md_scan_until(src: str, i: int, closer: str, escapable: str) -> tuple[str, int]:
    """Read literal text up to an unescaped closer; returns (text, index after closer)."""
    buf: list[str] = []
    while i < len(src):
        if src[i] == "\\" and i + 1 < len(src) and src[i + 1] in escapable:
            buf.append(src[i + 1])
            i += 2
            continue
        if src.startswith(closer, i):
            return "".join(buf), i + len(closer)
        buf.append(src[i])
        i += 1
    raise _ParseError("Can't find end of the entity")


def parse_markdown_v2(src: str) -> tuple[str, list[JSON]]:
    """Parse MarkdownV2 into plain text and entities, rejecting unescaped reserved characters."""
    out: list[str] = []
    pos = 0
    entities: list[JSON] = []
    stack: list[tuple[str, int, int]] = []
    quote_start: int | None = None
    i = 0
    n = len(src)

    def emit(text: str) -> None:
        nonlocal pos
        out.append(text)
        pos += utf16_len(text)

    while i < n:
        ch = src[i]
        line_start = i == 0 or src[i - 1] == "\n"
        if ch == "\\":
            if i + 1 < n and 0 < ord(src[i + 1]) < 127:
                emit(src[i + 1])
                i += 2
                continue
            raise _ParseError("Character '\\' is reserved and must be escaped with the preceding '\\'")
        if ch == "`":
            start = pos
            if src.startswith("```", i):
                j = i + 3
                language = ""
                newline = src.find("\n", j)
                first = src[j:newline] if newline != -1 else ""
                if newline != -1 and first and not re.search(r"\s|`", first):
                    language = first
                    j = newline + 1
                body, i = _md_scan_until(src, j, "```", "`\\")
                emit(body)
                if pos > start:
                    entity: JSON = {"type": "pre", "offset": start, "length": pos - start}
                    if language:
                        entity["language"] = language
                    entities.append(entity)
                continue
            body, i = _md_scan_until(src, i + 1, "`", "`\\")
            emit(body)
            if pos > start:
                entities.append({"type": "code", "offset": start, "length": pos - start})
            continue
        if ch in "*_~" or src.startswith("||", i):
            marker = "__" if src.startswith("__", i) else "||" if ch == "|" else ch
            if stack and stack[-1][0] == marker:
                _, start, _ = stack.pop()
                if pos > start:
                    entities.append({"type": _MD2_TYPES[marker], "offset": start, "length": pos - start})
            else:
                stack.append((marker, pos, i))
            i += len(marker)
            continue
        if ch == "[":
            stack.append(("[", pos, i))
            i += 1
            continue
        if ch == "]" and stack and stack[-1][0] == "[" and src.startswith("(", i + 1):
            _, start, _ = stack.pop()
            url, i = _md_scan_until(src, i + 2, ")", ")\\")
            if pos > start:
                user = re.fullmatch(r"tg://user\?id=(\d+)", url)
                if user:
                    entities.append(
                        {
                            "type": "text_mention",
                            "offset": start,
                            "length": pos - start,
                            "user": {"id": int(user.group(1)), "is_bot": False, "first_name": "User"},
                        }
                    )
                else:
                    entities.append({"type": "text_link", "offset": start, "length": pos - start, "url": url})
            continue
        if ch == ">" and line_start:
            if quote_start is None:
                quote_start = pos
            i += 1
            continue
        if ch == "\n" and quote_start is not None and not src.startswith(">", i + 1):
            if pos > quote_start:
                entities.append({"type": "blockquote", "offset": quote_start, "length": pos - quote_start})
            quote_start = None
        if ch in _MD2_RESERVED:
            raise _ParseError(f"Character '{ch}' is reserved and must be escaped with the preceding '\\'")
        emit(ch)
        i += 1
    if quote_start is not None and pos > quote_start:
        entities.append({"type": "blockquote", "offset": quote_start, "length": pos - quote_start})
    if stack:
        marker, _, index = stack[0]
        raise _ParseError(f"Can't find end of {_MD2_NAMES[marker]} entity at byte offset {_byte_offset(src, index)}")
    return "".join(out), entities


def _strip_entities(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Trim surrounding whitespace like Telegram does, shifting and clipping entities."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    kept: list[JSON] = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def format_text(
    text: str,
    parse_mode: str | None,
    entities: list[JSON] | None,
) -> tuple[str, list[JSON]]:
    """Apply parse_mode (or explicit entities) the way Telegram does before storing a message."""
    if entities is not None:
        parsed, found = text, list(entities)
    elif parse_mode:
        mode = parse_mode.lower()
        parsers = {"html": parse_html, "markdownv2": parse_markdown_v2}
        if mode not in parsers:
            raise _bad(f"unsupported parse_mode {parse_mode}")
        try:
            parsed, found = parsers[mode](text)
        except _ParseError as exc:
            raise _bad(f"can't parse entities: {exc}") from None
    else:
        parsed, found = text, []
    parsed, found = _strip_entities(parsed, found)
    found.sort(key=lambda e: (e["offset"], -e["length"]))
    return parsed, found


_AUTO_ENTITY_RES = (
    ("bot_command", re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![A-Za-z0-9_@/])")),
    ("url", re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)\]}'，。！？]")),
    ("mention", re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}(?![A-Za-z0-9_])")),
    ("hashtag", re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
)


def auto_entities(text: str) -> list[JSON]:
    """Entities Telegram adds to a user's text by itself: /commands, @mentions, URLs, #hashtags."""
    spans: list[tuple[int, int, str]] = []
    for kind, pattern in _AUTO_ENTITY_RES:
        for m in pattern.finditer(text):
            if not any(s < m.end() and m.start() < e for s, e, _ in spans):
                spans.append((m.start(), m.end(), kind))
    spans.sort()
    return [{"type": kind, "offset": utf16_len(text[:s]), "length": utf16_len(text[s:e])} for s, e, kind in spans]
