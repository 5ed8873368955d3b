"""`rolebot run`: check everything a start needs, start the bot, and say in one line what runs or what is wrong."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import signal
import socket
import urllib.parse
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

from telegram import Bot, Update
from telegram.error import InvalidToken, NetworkError, TelegramError, TimedOut
from telegram.ext import Application

from rolebot.config import Settings
from rolebot.errors import RolebotError, StoreError
from rolebot.kb.knowledge import open_store
from rolebot.store.db import damage
from rolebot.store.inbox import inbox_path
from rolebot.store.lock import DatabaseBusy, DatabaseLock
from rolebot.tg.app import build_application, webhook_options
from rolebot.tg.delivery import ServingStopped
from rolebot.tg.health import HealthServer, Heartbeat, HeartbeatRequest, heartbeat_path, keep_alive, watch_database
from rolebot.tg.http import AiohttpRequest
from rolebot.tg.logs import setup_logging
from rolebot.tg.profile import sync_profile
from rolebot.tg.webhook import WebhookServer

STARTED = "rolebot.started"  # bot_data key of the start-up line, said once the bot takes updates
log = logging.getLogger("rolebot")
TOKEN_SHAPE = re.compile(r"\d+:[A-Za-z0-9_-]+")
SECRET_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,256}")  # what Telegram allows in secret_token


class StartupError(RolebotError):
    """The bot cannot start; the message says what is wrong and what to do."""


@dataclass(frozen=True)
class RunOptions:
    """How `rolebot run` receives updates: polling, or a webhook server (with /healthz beside it)."""

    webhook_url: str | None = None
    port: int = 8443
    secret: str | None = None
    listen: str = "0.0.0.0"
    health_port: int | None = None  # None: 8080 in webhook mode, off when polling
    secret_generated: bool = False  # no --secret given: a random one for this run

    @property
    def health(self) -> int | None:
        """Return the port of the /healthz server, or None when there is none."""
        if self.health_port is not None:
            return self.health_port or None
        return 8080 if self.webhook_url else None


@dataclass(frozen=True)
class KnowledgeSummary:
    """What the database holds at start-up."""

    db_path: Path
    entries: int
    topics: int
    version: str


def bot_id(token: str) -> str:
    """Return the public half of a token (the bot's id), never the secret after the colon."""
    head = token.partition(":")[0]
    return head if head.isdigit() else "?"


def check_settings(settings: Settings, opts: RunOptions) -> None:
    """Reject a malformed token, base URL, webhook URL, secret or port before anything connects."""
    if not TOKEN_SHAPE.fullmatch(settings.token):
        raise StartupError(
            "TELEGRAM_BOT_TOKEN does not look like a bot token (digits, a colon, then letters): copy it again from @BotFather"
        )
    base = urllib.parse.urlsplit(settings.base_url)
    if base.scheme not in ("http", "https") or not base.netloc or not base.path.endswith("/bot"):
        raise StartupError(
            f"TELEGRAM_BASE_URL must be a URL ending in /bot, like https://api.telegram.org/bot (got {settings.base_url!r})"
        )
    if settings.base_file_url and not settings.base_file_url.rstrip("/").endswith("/file/bot"):
        raise StartupError(f"TELEGRAM_BASE_FILE_URL must end in /file/bot (got {settings.base_file_url!r})")
    if opts.webhook_url is not None:
        hook = urllib.parse.urlsplit(opts.webhook_url)
        if hook.scheme not in ("http", "https") or not hook.hostname:
            raise StartupError("--webhook-url must be a full URL, like https://bot.example.org/telegram")
        if opts.secret is not None and not SECRET_SHAPE.fullmatch(opts.secret):
            raise StartupError("--secret may only hold letters, digits, _ and - (1 to 256 of them)")
        check_port(opts.listen, opts.port, "--port")
    if opts.health is not None:
        check_port(opts.listen, opts.health, "--health-port")


def check_port(host: str, port: int, option: str) -> None:
    """Make sure the port can be listened on now, so a taken port is one line, not a traceback later."""
    if not 1 <= port <= 65535:
        raise StartupError(f"{option} {port} is not a port number (1-65535)")
    try:
        with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as exc:
        raise StartupError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}): choose another {option} or stop what uses it"
        ) from None


def open_knowledge(db_path: Path) -> KnowledgeSummary:
    """Open (creating or refreshing) the database once, so an unusable one fails before Telegram is asked."""
    inbox = inbox_path(db_path)
    if not db_path.exists() and inbox.exists():
        # a fresh database would silently drop every taught phrasing, setting and vote; say so instead
        raise StartupError(
            f"database {db_path} is missing, but {inbox.name} beside it shows a bot ran on it: restore the database "
            f"(or point --db / ROLEBOT_DB at where it is now); to start afresh, delete {inbox} as well"
        )
    if (problem := damage(db_path)) is not None:
        # answering from damaged pages would give users the generic apology, question after question
        raise StartupError(
            f"database {db_path} is damaged (quick_check: {problem}): restore it from a backup, "
            "or move it away to start with the shipped knowledge only"
        )
    store = open_store(db_path)
    try:
        entries = store.counts()["entries"]
        topics = len(store.topics())
        fingerprint = store.get_meta("shipped_fingerprint") or "none"
    finally:
        store.close()
    return KnowledgeSummary(db_path, entries, topics, fingerprint[:12])


async def ask_telegram(settings: Settings) -> str:
    """Call getMe once with the token, so a rejected token or an unreachable API is caught before PTB starts."""
    # our own client, so that an error page from a proxy reads as an unreachable API, not a rejected token
    request = AiohttpRequest(connect_timeout=10.0, read_timeout=10.0)
    bot = Bot(settings.token, base_url=settings.base_url, request=request, get_updates_request=request)
    await request.initialize()
    try:
        me = await bot.get_me()
    finally:
        await request.shutdown()
    return me.username or ""


def public_url(url: str) -> str:
    """Return a URL without user info, query or fragment (where secrets hide)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))


ALL_INTERFACES = ("0.0.0.0", "::", "")


def with_secret(opts: RunOptions) -> RunOptions:
    """Give a webhook without --secret a random one for this run: setWebhook tells Telegram, forgeries lack it."""
    if opts.webhook_url is None or opts.secret:
        return opts
    return replace(opts, secret=secrets.token_urlsafe(32), secret_generated=True)


def exposure_warning(opts: RunOptions) -> str | None:
    """Say what listening on every interface means, or None when the servers listen on one address."""
    if opts.listen not in ALL_INTERFACES or (opts.webhook_url is None and opts.health is None):
        return None
    return (
        f"listening on all interfaces ({opts.listen or '*'}): anyone who reaches the port can post to the webhook "
        "(only updates carrying the secret are taken) and read /healthz; behind a proxy use --listen 127.0.0.1"
    )


def describe_mode(opts: RunOptions) -> str:
    """Say how updates arrive, for the start-up line."""
    if not opts.webhook_url:
        mode = "polling"
    else:
        mode = f"webhook {public_url(opts.webhook_url)} (listening on {opts.listen}:{opts.port})"
        if opts.secret_generated:
            mode += ", a random secret for this run (none given)"
    if opts.health is not None:
        mode += f", /healthz on port {opts.health}"
    return mode


def explain(exc: BaseException, settings: Settings, opts: RunOptions) -> str:
    """Turn what stopped the start into one line saying what is wrong and what to do."""
    api = public_url(settings.base_url)
    if isinstance(exc, InvalidToken):
        return (
            f"Telegram rejected the token of bot {bot_id(settings.token)}: "
            "set TELEGRAM_BOT_TOKEN to the current token from @BotFather (/token)"
        )
    if isinstance(exc, TimedOut):
        return f"the Bot API at {api} did not answer in time: check the network (or TELEGRAM_BASE_URL) and start again"
    if isinstance(exc, NetworkError):
        return f"cannot reach the Bot API at {api} ({exc.message}): check the network or TELEGRAM_BASE_URL"
    if isinstance(exc, TelegramError):
        return f"the Bot API refused to start the bot: {exc.message}"
    if isinstance(exc, OSError):
        where = f" ({exc.filename})" if exc.filename else ""
        return f"cannot start: {exc.strerror or exc}{where}: check the folders and ports it needs are free and writable"
    if isinstance(exc, RolebotError):
        return str(exc)
    return f"unexpected {type(exc).__name__} at start-up: {exc} (ROLEBOT_LOG_LEVEL=debug shows where)"


def attach(
    app: Application[Any, Any, Any, Any, Any, Any], opts: RunOptions, summary: KnowledgeSummary
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Add the profile texts, keep-alive, /healthz and the start-up line to the app's life cycle."""
    inner_init, inner_shutdown = app.post_init, app.post_shutdown
    request = app.bot.request
    heartbeat = (
        request.heartbeat if isinstance(request, HeartbeatRequest) else Heartbeat(heartbeat_path(summary.db_path))
    )
    if opts.webhook_url and isinstance(request, HeartbeatRequest):
        request.beats = True  # a webhook bot's progress: Telegram answering (getMe at least every minute)
    delivery = app.bot_data["rolebot"].delivery
    server = HealthServer(summary.db_path, heartbeat, serving=delivery.problem)
    tasks: list[asyncio.Task[None]] = []

    async def post_init(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        if inner_init is not None:
            await inner_init(app)
        if (warning := exposure_warning(opts)) is not None:
            log.warning("%s", warning)
        changed = await sync_profile(app.bot)
        if opts.health is not None:
            await server.start(opts.listen, opts.health)
        tasks.append(asyncio.get_running_loop().create_task(keep_alive(app, heartbeat)))
        tasks.append(asyncio.get_running_loop().create_task(watch_database(summary.db_path, delivery.fail)))
        # said by serve() once the webhook is set (or removed for polling): "started" must be true when printed
        app.bot_data[STARTED] = lambda: log.info(
            "rolebot %s started: bot @%s, %s, database %s, %d entries in %d topics, knowledge %s%s",
            version("rolebot"),
            app.bot.username,
            describe_mode(opts),
            summary.db_path,
            summary.entries,
            summary.topics,
            summary.version,
            f"; updated {', '.join(changed)}" if changed else "",
        )

    async def post_shutdown(app: Application[Any, Any, Any, Any, Any, Any]) -> None:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await server.stop()
        if inner_shutdown is not None:
            await inner_shutdown(app)

    app.post_init = post_init
    app.post_shutdown = post_shutdown
    return app


async def serve(app: Application[Any, Any, Any, Any, Any, Any], opts: RunOptions) -> None:
    """Run the bot until SIGTERM or SIGINT: resume the inbox, take updates, then stop within a few seconds.

    PTB's run_polling would confirm updates as soon as they are fetched, and on SIGTERM drain every
    fetched update before exiting; our Delivery keeps them in the inbox instead.
    """
    delivery = app.bot_data["rolebot"].delivery
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    failure: str | None = None
    webhook: WebhookServer | None = None
    async with app:  # initialize, and shutdown at the end
        try:
            if app.post_init is not None:
                await app.post_init(app)
            if not opts.webhook_url:
                await app.bot.delete_webhook()  # getUpdates is refused while a webhook is set
            await app.start()
            await delivery.start(poll=not opts.webhook_url)
            if opts.webhook_url:
                options = webhook_options(opts.webhook_url, opts.port, opts.secret, listen=opts.listen)
                webhook = WebhookServer(delivery, options["url_path"], options["secret_token"])
                await webhook.start(options["listen"], options["port"])
                await app.bot.set_webhook(
                    options["webhook_url"], secret_token=options["secret_token"], allowed_updates=Update.ALL_TYPES
                )
            app.bot_data.pop(STARTED, lambda: None)()
            stopping = asyncio.ensure_future(stop.wait())
            await asyncio.wait([stopping, delivery.failure], return_when=asyncio.FIRST_COMPLETED)
            stopping.cancel()
            if delivery.failure.done():
                failure = delivery.failure.result()
            else:
                log.info("stopping: no more updates taken; finishing the answers in flight")
        finally:
            if webhook is not None:
                await webhook.stop()  # no more updates taken; Telegram keeps the rest until the next start
            await delivery.stop()
            stats = app.bot_data["rolebot"].sender.stats
            log.info(
                "sends: %d retried (not received), %d timed out or cut off after going out (%d sent once more), "
                "%d not delivered; %d updates answered",
                stats.retried,
                stats.unsure,
                stats.unsure_retried,
                stats.failed,
                delivery.answered,
            )
            if app.updater is not None and app.updater.running:
                await app.updater.stop()
            if app.running:
                await app.stop()
            if app.post_stop is not None:
                await app.post_stop(app)
    if app.post_shutdown is not None:
        await app.post_shutdown(app)
    if failure is not None:
        # a live process serving nothing is worse than a dead one: systemd and Docker restart a dead one
        raise ServingStopped(f"{failure}; the bot stopped (exit 1) so that its service manager starts it again")


def run_bot(settings: Settings, opts: RunOptions) -> None:
    """Run the bot until stopped; any start-up failure becomes one StartupError line, token redacted."""
    opts = with_secret(opts)
    redact = setup_logging(settings.token, [opts.secret])
    lock = DatabaseLock(settings.db_path)
    try:
        check_settings(settings, opts)
        lock.acquire()  # before the database is opened: two cold starts at once must not race its creation
        summary = open_knowledge(settings.db_path)
        asyncio.run(ask_telegram(settings))
        app = attach(build_application(settings), opts, summary)
        asyncio.run(serve(app, opts))
    except (StartupError, DatabaseBusy, ServingStopped) as exc:
        raise StartupError(redact(str(exc))) from None
    except StoreError as exc:
        raise StartupError(
            redact(f"{exc}: check that the folder exists and is writable, or set --db / ROLEBOT_DB")
        ) from None
    except Exception as exc:
        log.debug("start-up failed", exc_info=exc)
        raise StartupError(redact(explain(exc, settings, opts))) from None
    finally:
        lock.release()
