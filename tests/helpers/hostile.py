"""Stand-in Bot APIs that misbehave: missing methods, malformed updates, error pages, slow drips."""

from __future__ import annotations

import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from tests.helpers.fakeapi import JSON, FakeBotAPI
from tests.helpers.fakeapi.protocol import CallRecord

HTML_404 = b"<html><head><title>404 Not Found</title></head><body><h1>404 Not Found</h1><hr>nginx</body></html>"


@dataclass
class RawAnswer:
    """An answer given instead of the API's: any status and body (an HTML page from a proxy, say)."""

    method: str
    status: int
    body: bytes
    times: int


class HostileAPI(FakeBotAPI):
    """The stand-in, plus what a broken proxy or an attacker in the middle might send.

    - `poison(raw)`: an update that cannot be parsed, in the queue between the good ones (it takes the
      next update id; `with_id=False` leaves the id out, as for an update that is a list);
    - `answer_raw(method, status, body)`: the next calls answered with that body (not recorded as calls);
    - `drip(method, every)`: the next call answered one byte every `every` seconds.
    """

    def __init__(self, *args: Any, missing: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.missing = {m.lower() for m in missing}  # methods this Bot API does not have: 404 method not found
        self._poison: list[tuple[int, Any]] = []
        self._raw: list[RawAnswer] = []
        self._drips: dict[str, float] = {}
        self.raw_answered: list[tuple[str, int]] = []
        self.dripping = threading.Event()  # set while a drip is being answered

    # -- malformed updates ---------------------------------------------------------------------------

    def poison(self, raw: Any, *, with_id: bool = True) -> int:
        """Queue a malformed update after the updates queued so far; return the update id it takes."""
        with self._cond:
            slot = next(self._update_ids)
            if with_id and isinstance(raw, dict):
                raw = {"update_id": slot, **raw}
            self._poison.append((slot, raw))
            self._cond.notify_all()
            return slot

    def _api_getUpdates(self, params: JSON) -> list[JSON]:
        offset = int(params.get("offset") or 0)
        with self._cond:  # an offset confirms poison below it, as it does the good updates
            self._poison = [(slot, raw) for slot, raw in self._poison if slot >= offset]
        return super()._api_getUpdates(params)

    def _deliverable(self) -> list[JSON]:
        good = [(u["update_id"], u) for u in super()._deliverable()]
        return [item for _, item in sorted([*good, *self._poison], key=lambda pair: pair[0])]

    def _post_update(self, url: str, update: Any, secret: str | None) -> int:  # type: ignore[override]
        status = FakeBotAPI._post_update(url, update, secret)
        if 200 <= status < 300:  # a webhook's 2xx confirms a poison update as it does a good one
            with self._cond:
                self._poison = [(slot, raw) for slot, raw in self._poison if raw is not update]
        return status

    # -- answers that are not the Bot API's ----------------------------------------------------------

    def answer_raw(self, method: str, status: int = 404, body: bytes = HTML_404, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with this status and body."""
        with self._lock:
            self._raw.append(RawAnswer(method.lower(), status, body, times))

    def drip(self, method: str, every: float = 0.5) -> None:
        """Answer the next call of `method` one byte every `every` seconds (until the stand-in stops)."""
        with self._lock:
            self._drips[method.lower()] = every

    def _dispatch(self, method: str, params: JSON, uploads: Any) -> tuple[int, bytes]:
        if method.lower() in self.missing:
            self._record(CallRecord(method, params, 404, error="Not Found: method not found"))
            return 404, b'{"ok":false,"error_code":404,"description":"Not Found: method not found"}'
        with self._lock:
            raw = next((r for r in self._raw if r.method == method.lower()), None)
            if raw is not None:
                raw.times -= 1
                if raw.times <= 0:
                    self._raw.remove(raw)
        if raw is not None:
            with self._cond:
                self.raw_answered.append((method, raw.status))
                self._cond.notify_all()
            return raw.status, raw.body
        return super()._dispatch(method, params, uploads)

    def _handle_http(self, handler: Any) -> None:
        m = re.fullmatch(r"/bot[^/]*/([A-Za-z0-9_]*)", handler.path.partition("?")[0])
        every = None
        if m:
            with self._lock:
                every = self._drips.pop(m.group(1).lower(), None)
        if every is None:
            super()._handle_http(handler)
            return
        length = int(handler.headers.get("Content-Length") or 0)
        if length:
            handler.rfile.read(length)
        body = b'{"ok":true,"result":[]}' + b" " * 10_000
        self.dripping.set()
        try:
            handler.wfile.write(
                f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
            )
            for byte in body:
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
                if self._stop_event.wait(every):
                    break
        except OSError:
            pass
        finally:
            self.dripping.clear()
            handler.close_connection = True
            try:
                handler.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    async def wait_raw(self, method: str, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until `count` calls of `method` were given a raw answer."""
        import asyncio

        deadline = time.monotonic() + timeout
        while sum(m == method for m, _ in self.raw_answered) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{method}: {self.raw_answered}")
            await asyncio.to_thread(self._wait_change, 0.2)

    def _wait_change(self, timeout: float) -> None:
        with self._cond:
            self._cond.wait(timeout)
