"""Start, stop and the HTTP entry point: parse a request, apply faults, dispatch, record."""

from __future__ import annotations

import email.parser
import email.policy
import re
import socket
import threading
import urllib.parse
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from tests.helpers.fakeapi.protocol import (
    _STATUS_TEXT,
    _TOKEN_SHAPE,
    JSON,
    Call,
    CallRecord,
    TelegramAPIError,
    _bad,
    _decode_value,
    _json_bytes,
    _phrase,
    _Upload,
)


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that tracks its connections and handler threads for a clean stop."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, api: HTTPSide) -> None:
        """Bind an ephemeral port on 127.0.0.1."""
        super().__init__(("127.0.0.1", 0), _Handler)
        self.api = api
        self.open_sockets: set[socket.socket] = set()
        self.threads: list[threading.Thread] = []
        self.track_lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        """Serve each connection in a tracked daemon thread."""
        with self.track_lock:
            self.open_sockets.add(request)
            self.threads = [t for t in self.threads if t.is_alive()]
            thread = threading.Thread(
                target=self.process_request_thread,
                args=(request, client_address),
                name="fakeapi-conn",
                daemon=True,
            )
            self.threads.append(thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        """Forget the connection, then close it."""
        with self.track_lock:
            self.open_sockets.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Keep connection-level errors (client went away) off stderr."""

    def close_connections(self) -> None:
        """Wake handler threads blocked on keep-alive reads and wait for them to end."""
        with self.track_lock:
            sockets = list(self.open_sockets)
            threads = list(self.threads)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in threads:
            thread.join(timeout=2)


class _Handler(BaseHTTPRequestHandler):
    """Routes every request to FakeBotAPI._handle_http."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: the stand-in records calls itself."""

    def do_POST(self) -> None:
        """Handle a Bot API call."""
        self.server.api._handle_http(self)

    def do_GET(self) -> None:
        """Handle a Bot API call by query string, or a file download."""
        self.server.api._handle_http(self)

    def setup(self) -> None:
        """Disable Nagle: small request/response pairs would otherwise stall ~40 ms each."""
        super().setup()
        try:
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass

    def reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        """Write a complete response in one segment, ignoring a client that already left."""
        try:
            phrase = _STATUS_TEXT.get(status) or _phrase(status)
            head = (
                f"{self.protocol_version} {status} {phrase}\r\n"
                f"Server: FakeBotAPI\r\nContent-Type: {content_type}\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode("latin-1")
            self.wfile.write(head + body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True


class HTTPSide:
    """Start, stop and the HTTP entry point: parse a request, apply faults, dispatch, record."""

    def start(self) -> Self:
        """Start listening (already bound when this returns) and serving in background threads."""
        if self._server is not None:
            return self
        self._stop_event.clear()
        self._server = _Server(self)
        self._serve_thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fakeapi-serve",
            daemon=True,
        )
        self._serve_thread.start()
        self._webhook_thread = threading.Thread(target=self._webhook_worker, name="fakeapi-webhook", daemon=True)
        self._webhook_thread.start()
        return self

    def stop(self, check: bool = True) -> None:
        """Stop serving, release long polls and delays, close sockets; raise on internal errors."""
        server = self._server
        if server is None:
            return
        with self._cond:
            self._stop_event.set()
            self._cond.notify_all()
        server.shutdown()
        server.close_connections()
        server.server_close()
        for thread in (self._serve_thread, self._webhook_thread):
            if thread is not None:
                thread.join(timeout=5)
        self._server = None
        self._serve_thread = None
        self._webhook_thread = None
        if check and self.internal_errors:
            raise RuntimeError("FakeBotAPI internal errors:\n" + "\n".join(self.internal_errors))

    def __enter__(self) -> Self:
        """Start on entering a with-block."""
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving a with-block."""
        self.stop(check=exc is None)

    async def __aenter__(self) -> Self:
        """Start on entering an async with-block."""
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop on leaving an async with-block."""
        self.stop(check=exc is None)

    @property
    def port(self) -> int:
        """The TCP port the stand-in listens on."""
        if self._server is None:
            raise RuntimeError("FakeBotAPI is not started")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """Value for ApplicationBuilder.base_url (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Value for ApplicationBuilder.base_file_url (PTB appends the token)."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    def _handle_http(self, handler: _Handler) -> None:
        """Parse one request, apply faults, dispatch, record and answer."""
        parsed = urllib.parse.urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        path = urllib.parse.unquote(parsed.path)

        if path.startswith("/file/bot"):
            self._serve_file(handler, path[len("/file/bot") :])
            return
        m = re.fullmatch(r"/bot([^/]*)/([A-Za-z0-9_]*)", path)
        if not m:
            handler.reply(404, _json_bytes({"ok": False, "error_code": 404, "description": "Not Found"}))
            return
        token, raw_method = m.groups()
        if token != self.token:
            status = 401 if _TOKEN_SHAPE.match(token) else 404
            handler.reply(status, _json_bytes({"ok": False, "error_code": status, "description": _STATUS_TEXT[status]}))
            return
        try:
            params = self._parse_params(handler.headers.get("Content-Type", ""), body, parsed.query)
        except Exception as exc:
            handler.reply(400, _json_bytes(_bad(f"can't parse request: {exc}").body()))
            return
        uploads: dict[str, _Upload] = params.pop("\x00uploads", {})
        method = self._canonical(raw_method)

        fault = self._take_fault(method, params)
        if fault is not None:
            if fault.kind == "drop":
                self._record_fault(method, params, "drop", None)
                handler.close_connection = True
                try:
                    handler.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                return
            if fault.kind == "fail":
                self._record_fault(method, params, "fail", fault.status)
                handler.reply(fault.status, self._fault_body(fault))
                return
            self._record_fault(method, params, "delay", None)
            self._stop_event.wait(fault.seconds)

        status, payload = self._dispatch(method, params, uploads)
        handler.reply(status, payload)

    def _canonical(self, raw: str) -> str:
        """Canonical camelCase name for a case-insensitive method name."""
        for name in self._builtin_methods():
            if name.lower() == raw.lower():
                return name
        return raw

    @classmethod
    def _builtin_methods(cls) -> list[str]:
        """Names of the Bot API methods implemented as _api_<name>."""
        return [n[len("_api_") :] for n in dir(cls) if n.startswith("_api_")]

    def _parse_params(self, content_type: str, body: bytes, query: str) -> JSON:
        """Decode query string plus form or multipart body into typed params."""
        raw: dict[str, str] = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
        uploads: dict[str, _Upload] = {}
        ctype = content_type.lower()
        if ctype.startswith("multipart/form-data"):
            header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
            msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(header + body)
            for part in msg.iter_parts():
                name = part.get_param("name", header="content-disposition")
                filename = part.get_filename()
                payload = part.get_payload(decode=True)
                content = payload if isinstance(payload, bytes) else b""
                if filename is not None:
                    uploads[str(name)] = _Upload(filename, content, part.get_content_type())
                else:
                    raw[str(name)] = content.decode("utf-8")
        elif body:
            raw.update(urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        params = {k: _decode_value(k, v) for k, v in raw.items()}
        params["\x00uploads"] = uploads
        return params

    def _dispatch(
        self,
        method: str,
        params: JSON,
        uploads: dict[str, _Upload],
    ) -> tuple[int, bytes]:
        """Run a method, record it, and build (status, body)."""
        impl: Callable[..., Any] | None = getattr(self, f"_api_{method}", None)
        try:
            if impl is None:
                raise TelegramAPIError(404, "Not Found: method not found")
            elif method == "sendDocument":
                result = impl(params, uploads)
            else:
                result = impl(params)
        except TelegramAPIError as exc:
            self._record(CallRecord(method, params, exc.status, error=exc.description))
            return exc.status, _json_bytes(exc.body())
        except Exception as exc:
            import traceback

            trace = traceback.format_exc()
            with self._lock:
                self.internal_errors.append(f"{method}: {exc!r}\n{trace}")
            self._record(CallRecord(method, params, 500, error=repr(exc)))
            return 500, _json_bytes(
                {"ok": False, "error_code": 500, "description": f"Internal Server Error: fake: {exc!r}"}
            )
        self._record(CallRecord(method, params, 200, result=result))
        return 200, _json_bytes({"ok": True, "result": result})

    def _record(self, record: CallRecord) -> None:
        """Store a handled call and wake waiters."""
        with self._cond:
            self.log.append(record)
            self.calls.append(Call(record.method, record.params))
            self._cond.notify_all()
