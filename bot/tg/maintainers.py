"""Maintainer handlers in Telegram: /review with one-tap phrasings, /stats, and document imports."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from rolebot.conversation.actions import (
    Action,
    ActionTooLong,
    AddPhrasing,
    ConfirmImport,
    NewEntry,
    ReviewPage,
    decode,
    encode,
    matches,
)
from rolebot.conversation.render import Button
from rolebot.conversation.review import Reviewer, draft_yaml
from rolebot.conversation.review_screen import PAGE, group_text, page_text
from rolebot.errors import ImportFormatError, RolebotError
from rolebot.kb.review import Cluster, format_stats
from rolebot.tg.context import FRESH, PRIVATE, BotServices, Handler
from rolebot.tg.http import AnswerTooLarge

log = logging.getLogger("rolebot")
IMPORTABLE = (".jsonl", ".json", ".yaml", ".yml", ".csv")
UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")  # control characters (NUL among them) and path separators


def safe_name(name: str, suffix: str) -> str:
    """Return a file name to keep a document under: no NUL, control character or separator, 100 characters at most."""
    stem = UNSAFE.sub("_", Path(name.replace("\x00", "")).name)[: -len(suffix) or None].strip(". ")
    return f"{stem[:100] or 'import'}{suffix}"


MAX_DOCUMENT = 20 * 1024 * 1024
REVIEW_DAYS = 30  # /review looks at the questions of the last 30 days
FOLDER_PREFIX = "rolebot-import-"


def short_key(text: str) -> str:
    """Return a 10-character key for a question, to fit callback data."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:10]


def fits(action: Action) -> bool:
    """Say whether an action's data fits a button."""
    try:
        encode(action)
    except ActionTooLong:
        return False
    return True


@dataclass(frozen=True)
class PendingImport:
    """A dry-run file waiting for its 确认导入 press."""

    folder: Path
    path: Path
    since: float


class PendingImports:
    """Dry runs waiting for confirmation: at most `limit`, each for `ttl` seconds, their folders removed after."""

    def __init__(
        self,
        root: Path | None = None,
        ttl: float = 15 * 60,
        limit: int = 20,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = root or Path(tempfile.gettempdir())
        self.ttl, self.limit, self.clock = ttl, limit, clock
        self.waiting: dict[str, PendingImport] = {}
        self.clean_stale()

    def folder(self) -> Path:
        """Make a private folder for one document."""
        return Path(tempfile.mkdtemp(prefix=FOLDER_PREFIX, dir=self.root))

    def add(self, folder: Path, path: Path) -> str:
        """Keep a dry run for confirmation and return its token; the oldest go when there are too many."""
        self.expire()
        while len(self.waiting) >= self.limit:
            self.discard(next(iter(self.waiting)))
        token = secrets.token_hex(6)
        self.waiting[token] = PendingImport(folder, path, self.clock())
        return token

    def take(self, token: str) -> PendingImport | None:
        """Return and forget a dry run that has not expired (its folder is the caller's to remove)."""
        self.expire()
        return self.waiting.pop(token, None)

    def discard(self, token: str) -> None:
        """Forget a dry run and remove its folder."""
        pending = self.waiting.pop(token, None)
        if pending is not None:
            remove(pending.folder)

    def expire(self) -> None:
        """Forget dry runs older than the time to live."""
        cutoff = self.clock() - self.ttl
        for token in [t for t, p in self.waiting.items() if p.since < cutoff]:
            self.discard(token)

    def clean_stale(self) -> None:
        """Remove import folders an earlier run left behind (a crash); younger ones may be another bot's."""
        cutoff = self.clock() - self.ttl
        for folder in self.root.glob(FOLDER_PREFIX + "*"):
            try:
                if folder.is_dir() and folder.stat().st_mtime < cutoff:
                    remove(folder)
            except OSError:
                continue


def remove(folder: Path) -> None:
    """Remove a temporary import folder; failing to is worth a log line, not an error."""
    try:
        shutil.rmtree(folder)
    except FileNotFoundError:
        pass
    except OSError as exc:
        log.warning("temporary import folder %s not removed: %s", folder, exc)


class Maintainers:
    """What ROLEBOT_MAINTAINERS can do in a private chat; everyone else sees nothing of it."""

    def __init__(self, shared: BotServices) -> None:
        self.shared = shared
        self.send = shared.sender
        self.pending = PendingImports()
        self._reviewer: Reviewer | None = None

    @property
    def reviewer(self) -> Reviewer:
        """Return the review's reader, made at the first /review (the service exists only after post_init)."""
        svc = self.shared.svc
        if self._reviewer is None or self._reviewer.store is not svc.store:
            self._reviewer = Reviewer(svc.store, svc.vocab, svc.engine.model)  # the engine's own aspect reader
        return self._reviewer

    def handlers(self) -> list[Handler]:
        """Return the maintainers' handlers; they go first, as anyone else falls through them."""
        maintainer = FRESH & PRIVATE & filters.User(user_id=self.shared.settings.maintainers)
        return [
            CommandHandler("review", self.on_review, filters=maintainer),
            CommandHandler("stats", self.on_stats, filters=maintainer),
            MessageHandler(maintainer & filters.Document.ALL, self.on_document),
            CallbackQueryHandler(self.on_add_phrasing, pattern=matches(AddPhrasing)),
            CallbackQueryHandler(self.on_new_entry, pattern=matches(NewEntry)),
            CallbackQueryHandler(self.on_review_page, pattern=matches(ReviewPage)),
            CallbackQueryHandler(self.on_confirm_import, pattern=matches(ConfirmImport)),
        ]

    def allowed(self, update: Update) -> bool:
        """Say whether the update comes from a maintainer in a private chat."""
        user, chat = update.effective_user, update.effective_chat
        return bool(user and chat and chat.type == ChatType.PRIVATE and user.id in self.shared.settings.maintainers)

    async def on_review(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """List the first page of unanswered groups with their one-tap adds and draft entries."""
        message = update.effective_message
        if message is None or not self.allowed(update):
            return
        await self.show_page(message, 0)

    async def on_review_page(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Show another page of the review."""
        query = update.callback_query
        if query is None:
            return
        act = decode(query.data)
        if not isinstance(act, ReviewPage):
            return
        if not self.allowed(update):
            await self.send.alert(query, "只有维护者可以这样做。")
            return
        await self.send.ack(query)
        if isinstance(query.message, Message):
            await self.show_page(query.message, act.page)

    async def show_page(self, message: Message, page: int) -> None:
        """Send one page of groups, each with its button: the add the CLI suggests, or its draft entry."""
        data = await asyncio.to_thread(self.reviewer.review, REVIEW_DAYS)
        groups = data["unanswered"]
        if not groups:
            await self.send.say(message, "最近没有答不上的问题 🎉")
            return
        pages = -(-len(groups) // PAGE)
        page = min(max(page, 0), pages - 1)
        for n, item in enumerate(groups[page * PAGE : (page + 1) * PAGE], page * PAGE + 1):
            await self.send.say(message, group_text(n, item), self.buttons(item))
        if pages > 1:
            rows = [[Button("下一页", encode(ReviewPage(page + 1)))]] if page + 1 < pages else None
            await self.send.say(message, page_text(page, pages, len(groups)), rows)

    def buttons(self, item: Cluster) -> list[list[Button]] | None:
        """Return a group's button: add as a phrasing where the review suggests it, else its draft as a file."""
        key = short_key(item["keys"][0])
        topic = item["suggestion"]  # None unless a topic answers this aspect of these roles, above SUGGEST_AT
        if topic is not None and fits(add := AddPhrasing(key, topic)):
            label = (self.shared.svc.topic_question(topic) or topic)[:24]
            return [[Button(f"加为「{label}」的问法", encode(add))]]
        if item["new_entry"] is not None:
            return [[Button(f"新建条目 {item['new_entry']['topic']}（YAML）"[:40], encode(NewEntry(key)))]]
        return None

    async def on_new_entry(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Send the maintainer the group's draft entry as a YAML file to fill in and send back."""
        query = update.callback_query
        if query is None:
            return
        act = decode(query.data)
        if not isinstance(act, NewEntry):
            return
        if not self.allowed(update):
            await self.send.alert(query, "只有维护者可以这样做。")
            return
        data = await asyncio.to_thread(self.reviewer.review, REVIEW_DAYS)
        item = next((g for g in data["unanswered"] if any(short_key(k) == act.key for k in g["keys"])), None)
        draft = item["new_entry"] if item else None
        if draft is None or not isinstance(query.message, Message):
            await self.send.alert(query, "这个问题已经处理过了。")
            return
        await self.send.ack(query)
        body = draft_yaml([draft]).encode("utf-8")
        caption = f"{draft['topic']}：写好 answer 和 sources 后把文件发回来，就会试导入。"
        await self.send.document(query.message, f"{draft['topic']}.yaml", body, caption)

    async def on_add_phrasing(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Add an unanswered question as a phrasing of the chosen topic."""
        query = update.callback_query
        if query is None:
            return
        act = decode(query.data)
        if not isinstance(act, AddPhrasing):
            return
        if not self.allowed(update):
            await self.send.alert(query, "只有维护者可以这样做。")
            return
        key, topic = act.key, act.topic
        keys = await asyncio.to_thread(self.shared.svc.unanswered_keys)
        match = next((k for k in keys if short_key(k) == key), None)
        actor = f"telegram:{query.from_user.id}"
        added = await self.shared.write(lambda: self.shared.svc.teach(match, topic, actor)) if match else None
        if added is None:
            await self.send.alert(query, "这个问题已经处理过了。")
            return
        await self.send.ack(query, "已添加")
        if isinstance(query.message, Message):
            await self.send.say(query.message, f"已把「{added}」加为 {topic} 的问法，现在就能回答了。")

    async def on_stats(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Show questions per day, answer rate, top topics and most disliked answers."""
        message = update.effective_message
        if message is None or not self.allowed(update):
            return
        stats = await asyncio.to_thread(self.shared.svc.stats)
        await self.send.say(message, format_stats(stats))

    async def on_document(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Validate a knowledge file and offer a dry-run summary with a 确认导入 button."""
        message = update.effective_message
        if message is None or message.document is None:
            return
        if not self.allowed(update):
            return
        doc = message.document
        suffix = Path(doc.file_name or "").suffix.lower()
        if suffix not in IMPORTABLE or (doc.file_size or 0) > MAX_DOCUMENT:
            await self.send.say(message, "只能导入 .jsonl、.yaml 或 .csv 文件（20 MB 以内）。")
            return
        folder = self.pending.folder()
        path = folder / safe_name(doc.file_name or "", suffix)
        try:
            file = await context.bot.get_file(doc.file_id)
            if (file.file_size or 0) > MAX_DOCUMENT:
                raise AnswerTooLarge("the file is over 20 MB")
            await file.download_to_drive(path)  # our HTTP client stops reading past 21 MB, declared size or not
            plan = await self.shared.write(lambda: self.shared.svc.import_file(path, True))
        except ImportFormatError as exc:
            remove(folder)
            lines = [str(p).replace(str(folder) + "/", "") for p in exc.problems[:20]]
            more = f"\n…以及另外 {len(exc.problems) - 20} 个问题" if len(exc.problems) > 20 else ""
            more += "（检查到此为止，可能还有更多）" if exc.stopped else ""
            await self.send.say(message, "文件有问题，没有导入：\n" + "\n".join(lines) + more)
            return
        except RolebotError as exc:
            remove(folder)
            await self.send.say(message, f"没有导入：{exc}")
            return
        except (AnswerTooLarge, BadRequest) as exc:
            remove(folder)
            if isinstance(exc, BadRequest) and "too big" not in exc.message.lower():
                raise
            # Telegram's own refusal ("File is too big") of a document that did not say its size, or our cut-off
            await self.send.say(message, "文件超过 20 MB，没有导入。")
            return
        except BaseException:
            remove(folder)  # only a dry run that can be confirmed keeps its file
            raise
        token = self.pending.add(folder, path)
        warn = "\n" + "\n".join(w.replace(str(folder) + "/", "") for w in plan.warnings[:5]) if plan.warnings else ""
        button = [[Button("确认导入", encode(ConfirmImport(token)))]]
        changes = "\n" + "\n".join(plan.describe(limit=10)) if plan.added or plan.updated else ""
        await self.send.say(message, f"试导入（还没写入）：{plan.summary()}{changes}{warn}", button)

    async def on_confirm_import(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Run the import a maintainer confirmed."""
        query = update.callback_query
        if query is None:
            return
        act = decode(query.data)
        if not isinstance(act, ConfirmImport):
            return
        token = act.token
        if not self.allowed(update):
            await self.send.alert(query, "只有维护者可以这样做。")
            return
        pending = self.pending.take(token)
        if pending is None or not pending.path.exists():
            await self.send.alert(query, "这个导入已经过期，请重新发送文件。")
            return
        try:
            plan = await self.shared.write(
                lambda: self.shared.svc.import_file(pending.path, False, f"telegram:{query.from_user.id}")
            )
        except RolebotError as exc:
            await self.send.alert(query, f"导入失败：{str(exc)[:150]}")
            return
        finally:
            remove(pending.folder)
        await self.send.ack(query, "已导入")
        if isinstance(query.message, Message):
            await self.send.say(query.message, f"已导入：{plan.summary()}")
