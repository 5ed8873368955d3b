"""Delivery: take updates into the inbox before Telegram learns they are taken, answer them fairly, mark them done.

Polling is ours rather than PTB's Updater, because the Updater confirms a batch (moves the getUpdates
offset) as soon as it has fetched it: a crash then loses whatever was fetched and not yet answered.
Here a batch is in the inbox before the next getUpdates confirms it, only a bounded number of updates
wait in memory (we stop fetching, Telegram keeps the rest), and a stop leaves what is left in the inbox.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from functools import partial
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.error import InvalidToken, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application

from rolebot.errors import RolebotError
from rolebot.store import inbox
from rolebot.store.heartbeat import Heartbeat
from rolebot.store.worker import Worker
from rolebot.tg.processor import ChatTurns, chat_key
from rolebot.tg.sending import RECEIPT, Receipt, RetryWaits

log = logging.getLogger("rolebot")
App = Application[Any, Any, Any, Any, Any, Any]
RETRY_DELAYS = (5.0, 20.0, 60.0)  # an answer Telegram never received is tried again after these pauses
MAX_TRIES = 5  # starts after which an update that still cannot be answered is given up
READ_SLACK = 5.0  # a long poll's answer may come this long after its `timeout`
LAST_WRITES = 1.0  # seconds a stop gives the inbox's last writes (another process may hold its lock)
DEADLINE_SLACK = 15.0  # a getUpdates not done this long after its `timeout` is given up: a slow drip must not stall us


class ServingStopped(RolebotError):
    """A task the bot serves with ended while the bot was not stopping: the process must end (and be restarted)."""


def update_kind(raw: dict[str, Any]) -> str:
    """Return what an update carries (message, callback_query …), for a log line that must not show its body."""
    return next((str(k)[:40] for k in raw if k != "update_id"), "nothing")


def seconds(value: float | timedelta) -> float:
    """Return a duration PTB may give as a number or a timedelta, in seconds."""
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class Delivery:
    """Take updates (polling, or from the webhook through InboxQueue), keep them in the inbox until answered."""

    def __init__(
        self,
        app: App,
        path: Path,
        *,
        slots: int = 32,
        backlog: int = 1000,
        grace: float = 5.0,
        poll_timeout: int = 10,
        retry_delays: tuple[float, ...] = RETRY_DELAYS,
        waits: RetryWaits | None = None,
        heartbeat: Heartbeat | None = None,
    ) -> None:
        self.app = app
        self.heartbeat = heartbeat  # progress: a getUpdates taken in, an update answered
        self.path = path
        self.turns = ChatTurns(slots)
        self.worker = Worker(lambda: inbox.open_inbox(path), "rolebot-inbox")
        self.progress = GroupCommit(self.worker)  # updates done or tried
        self.backlog = backlog  # updates in memory (taken, not yet answered) before we stop fetching
        self.grace = grace  # seconds a stop gives the answers being made
        self.poll_timeout = poll_timeout
        self.retry_delays = retry_delays
        self.waits = waits or RetryWaits()  # the sends' retry waits too: a stop gives them up at once
        self.tasks: dict[int, asyncio.Task[None]] = {}  # update id → the task answering it
        self.offset: int | None = None
        self.deadline_slack = DEADLINE_SLACK
        self.skipped = 0  # malformed updates confirmed and recorded done without an answer
        self.failure: asyncio.Future[str] | None = None  # set (with why) when a serving task ends unasked
        self.closing = False
        self.answered = 0
        self.resumed = 0
        self._room = asyncio.Event()
        self._poller: asyncio.Task[None] | None = None
        self._writes: set[asyncio.Task[Any]] = set()
        self._more_in_inbox = False  # the inbox held more unfinished updates than memory may: load them before fetching
        self._resumed_upto = -1
        self._pruned = time.monotonic()

    async def start(self, poll: bool = True) -> int:
        """Answer what the inbox holds from an earlier run first, then (when polling) fetch; return how many resumed."""
        self.closing = False
        self._resumed_upto = -1
        if self.failure is None:  # a failure told before the start (the database gone already) stays told
            self.failure = asyncio.get_running_loop().create_future()
        self.worker.start()
        try:
            await self.worker.run(inbox.prune)
        except sqlite3.Error as exc:  # a damaged or unreadable inbox: one line at start, not a dead thread later
            raise InboxError(
                f"the inbox {self.path} cannot be used ({exc}): move it away to start without the updates it holds"
            ) from None
        last = await self.worker.run(inbox.last_update_id)
        self.offset = last + 1 if last is not None else None
        self.resumed = await self._resume()
        if self.resumed:
            log.info("resuming %d updates taken before the last stop", self.resumed)
        if poll:
            self._poller = asyncio.create_task(self._poll(), name="rolebot-poll")
            self._poller.add_done_callback(self._poller_ended)
        return self.resumed

    def _poller_ended(self, task: asyncio.Task[None]) -> None:
        if self.closing:
            return
        if task.cancelled():
            self.fail("polling was cancelled")
        elif (exc := task.exception()) is not None:
            self.fail(f"polling failed: {exc if isinstance(exc, RolebotError) else f'{type(exc).__name__}: {exc}'}")
        else:
            self.fail("polling ended")

    def fail(self, why: str) -> None:
        """Say that serving cannot go on: `rolebot run` stops and exits non-zero with this line."""
        if self.failure is None:
            self.failure = asyncio.get_running_loop().create_future()
        if not self.failure.done():
            self.failure.set_result(why)

    def problem(self) -> str | None:
        """Return what keeps the bot from serving (a task ended, the inbox's thread gone), or None."""
        if self.failure is not None and self.failure.done():
            return self.failure.result()
        if self._poller is not None and self._poller.done() and not self.closing:
            return "polling ended"
        if self.worker.started and not self.worker.alive:
            return "the inbox's thread ended"
        return None

    def progressed(self) -> None:
        """Note progress for the heartbeat."""
        if self.heartbeat is not None:
            self.heartbeat.beat()

    async def _resume(self) -> int:
        """Load unfinished updates from the inbox (at most what memory may hold), oldest first."""
        room = self.backlog - len(self.tasks)
        rows = await self.worker.run(lambda c: inbox.unfinished(c, room, after=self._resumed_upto))
        self._more_in_inbox = len(rows) >= room
        if rows:
            self._resumed_upto = rows[-1].update_id
        loaded = 0
        for row in rows:
            if row.tries >= MAX_TRIES:
                log.warning("giving up update %d after %d tries", row.update_id, row.tries)
                await self.worker.run(partial(inbox.finish, update_ids=[row.update_id]))
                continue
            try:
                update = Update.de_json(json.loads(row.body), self.app.bot)
            except (ValueError, TypeError, KeyError) as exc:
                log.warning("unreadable update %d in the inbox (%s): dropped", row.update_id, exc)
                await self.worker.run(partial(inbox.finish, update_ids=[row.update_id]))
                continue
            if row.update_id not in self.tasks:
                self._dispatch(update, row.sent)
                loaded += 1
        return loaded

    async def receive(self, updates: list[Update], skipped: list[int] | None = None) -> None:
        """Write updates to the inbox, then start answering the new ones (Telegram may be told they are taken after).

        `skipped` are the ids of malformed updates: recorded as done, so that they are confirmed and never answered.
        """
        skipped = skipped or []
        if not updates and not skipped:
            return
        rows = [(u.update_id, chat_key(u), json.dumps(u.to_dict(), ensure_ascii=False)) for u in updates]
        new = await self.worker.run(lambda c: inbox.add(c, rows, skipped=skipped))
        self.offset = max(self.offset or 0, max([u.update_id for u in updates] + skipped) + 1)
        for update in updates:
            if update.update_id in new and update.update_id not in self.tasks and not self.closing:
                self._dispatch(update, 0)

    async def wait_for_room(self) -> None:
        """Wait until fewer than `backlog` updates are in memory."""
        while len(self.tasks) >= self.backlog:
            self._room.clear()
            await self._room.wait()

    async def _poll(self) -> None:
        """Fetch while there is room; each batch is in the inbox before the next call confirms it."""
        delay = 1.0
        while not self.closing:
            await self.wait_for_room()
            if self._more_in_inbox:
                await self._resume()
                continue
            try:
                raw = await self._get_updates()
            except InvalidToken as exc:  # 401/404 with Telegram's own JSON: the token was revoked
                raise ServingStopped(f"Telegram rejected the token: {exc.message}") from None
            except RetryAfter as exc:
                await asyncio.sleep(seconds(exc.retry_after) + 0.5)
                continue
            except TelegramError as exc:
                log.warning("getUpdates failed (%s): trying again in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 1.5, 30.0)
                continue
            delay = 1.0
            updates, skipped = self.parse(raw)
            try:
                await self.receive(updates, skipped)
            except Exception as exc:  # a full disk, say: Telegram keeps them, as they are not confirmed
                log.error("cannot write updates to the inbox (%s): trying again in 5 s", exc)
                await asyncio.sleep(5.0)
                continue
            self.skipped += len(skipped)
            self.progressed()
            if time.monotonic() - self._pruned > 3600:
                self._pruned = time.monotonic()
                self._spawn(self.worker.run(inbox.prune))

    async def _get_updates(self) -> list[Any]:
        """Call getUpdates for the raw list, within a total deadline (a read timeout alone lets a drip stall us).

        Raw, not Bot.get_updates: that parses the whole batch at once, so one malformed update would fail
        every update with it (and PTB logs the whole batch, bodies and all).
        """
        call = self.app.bot._post(
            "getUpdates",
            {
                "offset": self.offset,
                "timeout": self.poll_timeout,
                "limit": max(1, min(100, self.backlog - len(self.tasks))),
                "allowed_updates": Update.ALL_TYPES,
            },
            read_timeout=self.poll_timeout + READ_SLACK,
        )
        deadline = self.poll_timeout + self.deadline_slack
        try:
            raw = await asyncio.wait_for(call, timeout=deadline)
        except TimeoutError:
            raise TimedOut(f"getUpdates not done within {deadline:.0f} s") from None
        if not isinstance(raw, list):
            raise TelegramError(f"getUpdates answered a {type(raw).__name__}, not a list of updates")
        return raw

    def parse(self, raw: list[Any]) -> tuple[list[Update], list[int]]:
        """Return the updates that parse, and the ids of those that do not (each logged once: id and reason, no body)."""
        updates: list[Update] = []
        skipped: list[int] = []
        for item in raw:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                # without an id it cannot be confirmed by itself; the next good update's id confirms it
                log.warning("skipped an update without an update_id (a %s)", type(item).__name__)
                continue
            try:
                update = Update.de_json(item, self.app.bot)
                chat_key(update)
            except Exception as exc:  # whatever the parsing met: the one update is skipped, not the loop
                log.warning(
                    "skipped update %d: its %s cannot be read (%s); confirmed, not answered",
                    update_id,
                    update_kind(item),
                    type(exc).__name__,
                )
                skipped.append(update_id)
                continue
            updates.append(update)
        return updates, skipped

    def _dispatch(self, update: Update, sent: int) -> None:
        """Start answering one update; the task is kept until it is done."""
        update_id = update.update_id
        task = asyncio.create_task(self._handle(update, sent), name=f"rolebot-update-{update_id}")
        self.tasks[update_id] = task
        task.add_done_callback(lambda _: self._forget(update_id))

    def _forget(self, update_id: int) -> None:
        self.tasks.pop(update_id, None)
        if len(self.tasks) < self.backlog:
            self._room.set()

    async def _handle(self, update: Update, sent: int) -> None:
        """Answer an update in its chat's turn; mark it done once delivered, or keep it for a later try."""
        key = chat_key(update)
        for pause in (0.0, *self.retry_delays):
            if pause:
                await self.waits.sleep(pause)  # holding neither the chat's turn nor a slot
            receipt = await self.turns.run(key, partial(self._process, update, sent))
            if receipt is None:
                return  # stopping: it waits in the inbox
            if not receipt.failed:
                self.answered += 1
                self.progressed()
                await self._record(partial(inbox.finish, update_ids=[update.update_id]))
                return
            sent = receipt.sent
            await self._record(partial(inbox.tried, update_id=update.update_id))
        log.warning("update %d: reply still not delivered; it waits in the inbox for the next start", update.update_id)

    async def _process(self, update: Update, sent: int) -> Receipt | None:
        """Run the handlers for one update with its receipt, unless we are stopping."""
        if self.closing:
            return None
        receipt = Receipt(update.update_id, skip=sent, on_sent=self._sent)
        token = RECEIPT.set(receipt)
        try:
            await self.app.process_update(update)
        finally:
            RECEIPT.reset(token)
        return receipt

    async def _record(self, job: Callable[[sqlite3.Connection], None], at_once: bool = False) -> None:
        """Write an update's progress; if the inbox cannot take it, the update is answered again next start."""
        try:
            await (self.worker.run(job) if at_once else self.progress.write(job))
        except sqlite3.Error as exc:
            log.warning("inbox not updated (%s): that update may be answered again after a restart", exc)

    def _sent(self, update_id: int, sent: int) -> None:
        """Record a delivered reply, so that a replay of its update does not send it again."""
        # at once, not with the next group: a reply that went out and is not recorded goes out again
        # after a kill, so this one must not wait for the transaction in progress
        self._spawn(self._record(partial(inbox.mark_sent, update_id=update_id, sent=sent), at_once=True))

    def _spawn(self, job: Awaitable[Any]) -> None:
        async def run() -> None:
            await job

        task = asyncio.create_task(run())
        self._writes.add(task)
        task.add_done_callback(self._writes.discard)

    async def stop(self) -> None:
        """Stop fetching, give the answers in flight `grace` seconds, leave the rest in the inbox."""
        self.closing = True
        # an answer waiting out a retry (a 60 s retry_after, a backoff) would outlast the grace: it waits in the inbox
        if given_up := self.waits.give_up():
            log.info("stopping: gave up %d retry waits; their updates wait in the inbox", given_up)
        if not self.worker.started:
            return
        if self._poller is not None:
            self._poller.cancel()
            # one that ended on its own has told `failure` why already
            await asyncio.gather(self._poller, return_exceptions=True)
            self._poller = None
        # updates still waiting for their turn return at once (closing); those being answered get the grace
        tasks = list(self.tasks.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
            if late:
                log.warning("stopped %d answers in flight; their updates wait in the inbox", len(late))
        try:  # another process holding the inbox's write lock must not hold up the exit (docker stop kills at 10 s)
            left = await asyncio.wait_for(self._last_writes(), timeout=LAST_WRITES)
        except TimeoutError:
            left = 0
            log.warning(
                "stopping: the inbox stayed locked by another process; the updates answered since its last write "
                "may be answered again at the next start"
            )
        await asyncio.to_thread(self.worker.close, LAST_WRITES / 2)
        if left:
            log.info("stopped with %d updates waiting in the inbox", left)

    async def _last_writes(self) -> int:
        """Write what is queued for the inbox; return how many updates are left unanswered in it."""
        await asyncio.gather(*self._writes, return_exceptions=True)
        await self.progress.drain()
        return (await self.worker.run(inbox.counts))[0] if self.worker.alive else 0


class InboxError(RolebotError):
    """The inbox file cannot be opened or read."""


class GroupCommit:
    """Writes on a worker, those that come while one is being written put together in the next transaction.

    Under a burst every answered update is marked done: one transaction, one thread hop and one wake-up
    of the event loop for all that came meanwhile, instead of for each. In order: a write never overtakes
    one queued before it. (A reply's "sent" mark goes at once: it is what keeps a replay from sending twice.)
    """

    def __init__(self, worker: Worker) -> None:
        self.worker = worker
        self._jobs: list[Callable[[sqlite3.Connection], None]] = []
        self._next: asyncio.Future[None] | None = None
        self._writer: asyncio.Task[None] | None = None

    def write(self, job: Callable[[sqlite3.Connection], None]) -> asyncio.Future[None]:
        """Queue a write; the future is done once its transaction is committed (or failed, with the error)."""
        self._jobs.append(job)
        if self._next is None:
            self._next = asyncio.get_running_loop().create_future()
            # a writer cancelled at a stop never looks: asyncio would log the error as never retrieved
            self._next.add_done_callback(lambda f: f.cancelled() or f.exception())
        if self._writer is None:
            self._writer = asyncio.create_task(self._write(), name="rolebot-inbox-writes")
        return self._next

    async def _write(self) -> None:
        try:
            while self._jobs:
                jobs, done = self._jobs, self._next
                self._jobs, self._next = [], None
                assert done is not None
                try:
                    await self.worker.run(partial(_run_all, jobs))
                except Exception as exc:  # every writer of the batch learns of it
                    if not done.done():  # (a writer cancelled at a stop cancels the future it awaited)
                        done.set_exception(exc)
                else:
                    if not done.done():
                        done.set_result(None)
        finally:
            self._writer = None

    async def drain(self) -> None:
        """Wait until every queued write is written."""
        while self._writer is not None:
            await asyncio.shield(self._writer)


def _run_all(jobs: list[Callable[[sqlite3.Connection], None]], conn: sqlite3.Connection) -> None:
    for job in jobs:
        job(conn)


class InboxQueue(asyncio.Queue[object]):
    """PTB's update queue, for webhook mode: an update is in the inbox before the webhook answers Telegram 200."""

    def __init__(self) -> None:
        super().__init__()
        self.delivery: Delivery | None = None

    async def put(self, item: object) -> None:
        """Hand updates to the delivery (after waiting for room); anything else (PTB's stop signal) is queued."""
        if isinstance(item, Update) and self.delivery is not None:
            await self.delivery.wait_for_room()
            await self.delivery.receive([item])
            return
        await super().put(item)
