"""The `rolebot` command: ask, chat, import, export, review, run and health."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from functools import wraps
from pathlib import Path
from typing import IO, Any, TypeVar

import click

from rolebot.config import resolve_db_path
from rolebot.errors import ImportFormatError, RolebotError

F = TypeVar("F", bound=Callable[..., Any])
MAX_LINE = 2000  # characters of one question from `ask -`; longer lines are skipped, not read whole
db_option = click.option(
    "--db", "db", metavar="PATH", help="SQLite database (default: $ROLEBOT_DB, else the user data dir)."
)


class OutputError(RolebotError):
    """Standard output cannot be written (a full disk, a closed terminal)."""


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so the flush at exit does not fail a second time (Python's BrokenPipe advice)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test's buffer)
        pass


def echo_out(text: str) -> None:
    """Print a line on stdout; a failed write becomes OutputError (a closed pipe stays BrokenPipeError)."""
    try:
        click.echo(text)
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write the output: {exc.strerror or exc}") from None


def edge(fn: F) -> F:
    """Translate rolebot errors into one line on stderr and a non-zero exit."""

    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            result = fn(*args, **kwargs)
            _flush_stdout()
            return result
        except BrokenPipeError:
            # the reader left (`rolebot export | head`): nothing to say, as for any Unix filter
            _silence_stdout()
            sys.exit(1)
        except OutputError as exc:
            _silence_stdout()
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except ImportFormatError as exc:
            for problem in exc.problems:
                click.echo(f"error: {problem}", err=True)
            if exc.stopped:  # a file of garbage: the first ones are enough to fix, the rest was not read
                click.echo(
                    f"{len(exc.problems):,} problems and maybe more (the check stopped there); nothing was imported",
                    err=True,
                )
            else:
                click.echo(f"{len(exc.problems)} problem(s); nothing was imported", err=True)
            sys.exit(1)
        except RolebotError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def _flush_stdout() -> None:
    """Flush stdout now, so a full disk shows as one line here rather than a traceback at exit."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise OutputError(f"cannot write the output: {exc.strerror or exc}") from None


def stdin_questions(stream: IO[bytes], limit: int = MAX_LINE) -> Iterator[str]:
    """Yield stdin's lines as questions; a line over `limit` characters is skipped with a warning, unread.

    Lines are read in bounded pieces, so one 10-million-character line costs neither memory nor time.
    """
    cap = limit * 4 + 2  # UTF-8 bytes of `limit` characters at most, plus the line end
    number = 0
    while chunk := stream.readline(cap):
        number += 1
        if not chunk.endswith(b"\n") and len(chunk) == cap:
            size = len(chunk)
            while not chunk.endswith(b"\n") and (chunk := stream.readline(1 << 16)):
                size += len(chunk)
            click.echo(f"warning: line {number}: {size:,} bytes, over the {limit:,}-character limit; skipped", err=True)
            continue
        try:
            text = chunk.decode("utf-8").rstrip("\r\n")
        except UnicodeDecodeError:
            raise RolebotError(f"line {number} of stdin is not UTF-8 text: give questions as text") from None
        if len(text) > limit:
            click.echo(f"warning: line {number}: {len(text):,} characters, over the {limit:,} limit; skipped", err=True)
            continue
        yield text


class ProgressBars:
    """Draw a tqdm bar per stage of a long import from its progress callbacks (on a terminal only)."""

    MIN_TOTAL = 2000  # small imports finish before a bar would help

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bars: dict[str, Any] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total < self.MIN_TOTAL:
            return
        from tqdm import tqdm  # only maintainers' imports pay for it

        bar = self.bars.get(stage)
        if bar is None:
            # files are checked line by line, as they are read; records are counted as they are written
            unit = "line" if stage.startswith("checking") else "rec"
            bar = self.bars[stage] = tqdm(total=total, desc=stage, unit=unit, leave=False)
        bar.update(done - bar.n)

    def __enter__(self) -> ProgressBars:
        return self

    def __exit__(self, *exc: object) -> None:
        for bar in self.bars.values():
            bar.close()


class LazyAnswerer:
    """Answer an import's new questions with an engine built at the first one: a large import asks none."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.service: Any = None

    def __call__(self, question: str) -> tuple[str, int] | None:
        if self.service is None:
            from rolebot.conversation.service import Service

            self.service = Service(self.store)
        result: tuple[str, int] | None = self.service.confident_topic(question)
        return result


def _service(db: str | None) -> Any:
    from rolebot.conversation.service import Service
    from rolebot.kb.knowledge import open_store

    return Service(open_store(resolve_db_path(db)))


def _reading(db: str | None) -> Any:
    """Open the store for a command that only reads: read-only when this user cannot write the database or its folder."""
    from rolebot.kb.knowledge import open_store
    from rolebot.store.db import cannot_write

    path = resolve_db_path(db)
    return open_store(path, read_only=cannot_write(path))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rolebot")
def main() -> None:
    """rolebot: explains how 营销, 销售, 市场 and 运营 differ, with sources."""


@main.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
@click.option("--log", "log", is_flag=True, help="Count the question and keep it for review if unanswered.")
@db_option
@edge
def ask(question: str, as_json: bool, log: bool, db: str | None) -> None:
    """Answer one question; '-' reads one question per line from stdin (lines over 2,000 characters skipped).

    Example: rolebot ask "营销和销售有什么区别" --json
    """
    from rolebot.conversation.render import render_json
    from rolebot.conversation.service import Service, render_plain

    # a one-shot command: jieba's dictionary loads only if a question is not answered word for word
    service = Service(_reading(db), lazy=True)
    if log and service.store.read_only:
        click.echo("warning: the database is read-only: questions are answered but not counted", err=True)
        log = False
    lines: Iterable[str] = stdin_questions(sys.stdin.buffer) if question == "-" else [question]
    for text in lines:
        # a maintainer trying entries out is not a user: only --log puts it among the review's questions
        answer = service.ask(text, chat_type="cli", record=log)
        if as_json:
            echo_out(json.dumps(render_json(answer.result), ensure_ascii=False))
        else:
            echo_out(render_plain(answer.reply) + ("\n" if question == "-" else ""))


@main.command()
@db_option
@edge
def chat(db: str | None) -> None:
    """Talk to the bot in the terminal; buttons appear as numbered choices.

    Example: rolebot chat   (type a question, a number to press a button, or q to quit)
    """
    from rolebot.terminal.chat import run_chat

    run_chat(_service(db))


@main.command("import")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--allow-unknown-related", is_flag=True, help="Warn about, rather than refuse, links to unknown topics.")
@db_option
@edge
def import_(files: tuple[Path, ...], dry_run: bool, allow_unknown_related: bool, db: str | None) -> None:
    """Import FAQ entries and passages from JSONL, YAML or CSV files (all or nothing).

    Example: rolebot import new.jsonl --dry-run
    """
    import getpass

    from rolebot.kb.knowledge import import_files, open_store

    store = open_store(resolve_db_path(db))
    with ProgressBars(enabled=sys.stderr.isatty()) as bars:
        plan = import_files(
            store,
            list(files),
            dry_run=dry_run,
            actor=f"cli:{getpass.getuser()}",
            answerer=LazyAnswerer(store),
            progress=bars,
            allow_unknown_related=allow_unknown_related,
        )
    for warning in plan.warnings:
        click.echo(f"warning: {warning}", err=True)
    if dry_run:
        for line in plan.describe():
            click.echo(f"would {line}")
        click.echo(f"dry run: would be {plan.summary()}")
    else:
        click.echo(f"imported: {plan.summary()}")


@main.command()
@db_option
@edge
def export(db: str | None) -> None:
    """Print every entry and passage as JSONL (import it again to restore).

    Example: rolebot export > backup.jsonl
    """
    from rolebot.kb.knowledge import export_records

    for line in export_records(_reading(db)):
        echo_out(line)


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--since", type=float, default=None, metavar="DAYS", help="Only the last DAYS days.")
@click.option(
    "--drafts",
    type=click.Path(dir_okay=False, writable=True),
    default=None,
    metavar="FILE",
    help="Write the suggested new entries to FILE (YAML), to fill in and import.",
)
@db_option
@edge
def review(as_json: bool, since: float | None, drafts: str | None, db: str | None) -> None:
    """Show what users asked that the bot could not answer, grouped by what they ask, and feedback per topic.

    Example: rolebot review --since 7 --drafts new.yaml
    """
    from rolebot.conversation.review import Reviewer, draft_yaml
    from rolebot.conversation.review_screen import format_review
    from rolebot.kb.review import build_stats, format_trend

    store = _reading(db)
    data = Reviewer(store).review(since_days=since)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        click.echo(format_trend(build_stats(store, days=14)))
        click.echo(format_review(data))
    if drafts:
        found = [g["new_entry"] for g in data["unanswered"] if g["new_entry"] is not None]
        Path(drafts).write_text(draft_yaml(found), encoding="utf-8")
        click.echo(f"已把 {len(found)} 个新条目草稿写到 {drafts}", err=as_json)


@main.command()
@click.option(
    "--webhook-url",
    envvar="ROLEBOT_WEBHOOK_URL",
    default=None,
    help="Use a webhook at this public URL instead of polling.",
)
@click.option("--port", type=int, default=8443, show_default=True, help="Port for the webhook server.")
@click.option("--listen", default="0.0.0.0", show_default=True, help="Address the webhook and health servers bind.")
@click.option(
    "--secret",
    envvar="ROLEBOT_WEBHOOK_SECRET",
    default=None,
    help="Secret token Telegram sends with each webhook call.",
)
@click.option(
    "--health-port",
    type=int,
    default=None,
    help="Serve GET /healthz on this port (default 8080 with a webhook; 0: off).",
)
@db_option
@edge
def run(
    webhook_url: str | None, port: int, listen: str, secret: str | None, health_port: int | None, db: str | None
) -> None:
    """Start the Telegram bot (needs TELEGRAM_BOT_TOKEN); logs go to stderr (ROLEBOT_LOG_FORMAT=json, ROLEBOT_LOG_LEVEL).

    Example: TELEGRAM_BOT_TOKEN=123:abc rolebot run
    """
    from rolebot.config import Settings

    settings = Settings.from_env(db)
    if not settings.token:
        click.echo(
            "TELEGRAM_BOT_TOKEN is not set: get a token from @BotFather in Telegram "
            "(/newbot), or try the same answers offline with `rolebot chat`.",
            err=True,
        )
        sys.exit(2)
    # the one place an edge reaches the other: this command starts the Telegram edge (imported here, lazily)
    from rolebot.tg.startup import RunOptions, run_bot

    run_bot(settings, RunOptions(webhook_url, port, secret, listen, health_port))


@main.command()
@click.option("--max-age", type=float, default=150.0, show_default=True, help="Seconds since the bot's last progress.")
@db_option
@edge
def health(max_age: float, db: str | None) -> None:
    """Check a running bot: its database opens, a bot holds its lock, and it made progress lately; exit 1 when not.

    Example: rolebot health --db /data/rolebot.db   (a container HEALTHCHECK)
    """
    from rolebot.store.heartbeat import Heartbeat, check_health, heartbeat_path

    path = resolve_db_path(db)
    result = check_health(path, Heartbeat(heartbeat_path(path)), max_age)
    click.echo(result.line(), err=not result.ok)
    sys.exit(0 if result.ok else 1)
