"""Logging for the running bot: redacted secrets everywhere, human-readable or JSON lines."""

from __future__ import annotations

import json
import logging
import os
import sys
import urllib.parse
from collections.abc import Iterable
from typing import TextIO

HUMAN_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class Redactor:
    """Replace a bot token, its secret half and other secrets (also URL-encoded) with placeholders."""

    def __init__(self, token: str, extra: Iterable[str | None] = ()) -> None:
        pairs: list[tuple[str, str]] = []
        if token:
            pairs.append((token, "<token>"))
            _, colon, secret = token.partition(":")
            # the half after the colon is the secret; the bot id before it is public
            if colon and secret:
                pairs.append((secret, "<token>"))
        for value in extra:
            if value:
                pairs.append((value, "<secret>"))
        quoted = [(urllib.parse.quote(v, safe=""), p) for v, p in pairs]
        # longest first, so the whole token goes before its secret half
        self.pairs = sorted({*pairs, *quoted}, key=lambda pair: -len(pair[0]))

    def __call__(self, text: str) -> str:
        """Return text with every secret replaced."""
        for value, placeholder in self.pairs:
            if value in text:
                text = text.replace(value, placeholder)
        return text


class RedactingFormatter(logging.Formatter):
    """Format a record as usual, then redact the whole result (message, arguments and traceback)."""

    def __init__(self, redact: Redactor, fmt: str = HUMAN_FORMAT) -> None:
        super().__init__(fmt)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and the traceback if any, redacted."""

    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, object] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        if record.exc_info:
            data["error"] = self.redact(self.formatException(record.exc_info))
        return json.dumps(data, ensure_ascii=False)


class RedactingStream:
    """A text stream that redacts secrets from everything written to it (wraps stderr and stdout)."""

    def __init__(self, stream: TextIO, redact: Redactor) -> None:
        self.stream = stream
        self.redact = redact

    def write(self, text: str) -> int:
        """Write the redacted text."""
        return self.stream.write(self.redact(text))

    def flush(self) -> None:
        """Flush the wrapped stream."""
        self.stream.flush()

    def isatty(self) -> bool:
        """Say whether the wrapped stream is a terminal."""
        return self.stream.isatty()

    def __getattr__(self, name: str) -> object:
        return getattr(self.stream, name)


def log_level() -> int:
    """Return the level named by ROLEBOT_LOG_LEVEL (debug, info, warning, error), INFO by default."""
    name = (os.environ.get("ROLEBOT_LOG_LEVEL") or "INFO").strip().upper()
    level = logging.getLevelNamesMapping().get(name)
    return level if level is not None else logging.INFO


def setup_logging(token: str, secrets: Iterable[str | None] = ()) -> Redactor:
    """Send logs to stderr, redacted, in the format of ROLEBOT_LOG_FORMAT (text or json); guard stdout/stderr."""
    redact = Redactor(token, secrets)
    if not isinstance(sys.stderr, RedactingStream):
        sys.stderr = RedactingStream(sys.stderr, redact)
    if not isinstance(sys.stdout, RedactingStream):
        sys.stdout = RedactingStream(sys.stdout, redact)
    handler = logging.StreamHandler(sys.stderr)
    fmt = (os.environ.get("ROLEBOT_LOG_FORMAT") or "text").strip().lower()
    handler.setFormatter(JsonFormatter(redact) if fmt == "json" else RedactingFormatter(redact))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    level = log_level()
    root.setLevel(level)
    # httpx logs every request URL, token included, at INFO; below DEBUG it is only noise
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING if level > logging.DEBUG else logging.DEBUG)
    if fmt not in ("text", "json"):
        logging.getLogger("rolebot").warning("ROLEBOT_LOG_FORMAT=%s is not text or json; using text", fmt)
    return redact
