"""The bot's HTTP client: PTB's BaseRequest over aiohttp, whose C parser costs a fifth of httpx's per call.

Measured on our 2-core machine against a loopback server: httpx 0.28 / httpcore 1.0 spends ~1.1 ms of CPU
per POST (its pool scans every connection with getpeername and poll at each request and each response,
and writes headers and body apart), aiohttp ~0.2 ms. Under a burst the event loop spent 60 % of its time
in httpx: it bounded the answers per second.

Errors become PTB's, as HTTPXRequest makes them (TimedOut, NetworkError), with aiohttp's exception as the
cause, so that `sending.was_sent` can tell a request that never left (no connection) from one that may
have arrived (timed out or cut off after it went out).
"""

from __future__ import annotations

import json
import ssl
import urllib.parse
import urllib.request

import aiohttp
import certifi
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

MAX_ANSWER = (
    21 * 1024 * 1024
)  # bytes of one answer: Telegram serves files of 20 MB at most, API answers are far smaller


class AnswerTooLarge(NetworkError):
    """An answer (a file download, say) went past MAX_ANSWER bytes: it was cut off, not read whole."""


# a request that failed before it could leave: no connection was made (refused, DNS, connect or pool timeout)
NOT_SENT: tuple[type[BaseException], ...] = (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError)


class AiohttpRequest(BaseRequest):
    """Bot API calls over one aiohttp session: keep-alive connections, at most `connection_pool_size` at once."""

    def __init__(
        self,
        connection_pool_size: int = 8,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self.pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._write_timeout = write_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._media_write_timeout = media_write_timeout
        self.max_answer = MAX_ANSWER
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        """Return the default read timeout (PTB adds getUpdates' long-poll timeout to it)."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (on the running loop, as aiohttp wants)."""
        if self._session is None or self._session.closed:
            # the CA bundle httpx (and so PTB) uses, rather than whatever the system has
            context = ssl.create_default_context(cafile=certifi.where())
            connector = aiohttp.TCPConnector(limit=self.pool_size, ssl=context)
            # not trust_env: with it aiohttp reads the proxy variables and ~/.netrc on a worker thread at
            # every request (two thread hops a call); the proxy is looked up once per host instead
            self._session = aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar())

    def proxy(self, url: str) -> str | None:
        """Return the proxy the environment names for a URL (HTTPS_PROXY, ALL_PROXY, NO_PROXY …), as httpx did."""
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            found = urllib.request.getproxies_environment()
            bypass = bool(urllib.request.proxy_bypass(key[1])) if key[1] else True
            self._proxies[key] = None if bypass else (found.get(key[0]) or found.get("all"))
        return self._proxies[key]

    async def shutdown(self) -> None:
        """Close the session and its connections."""
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Make one call; return Telegram's status and body."""
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        files = request_data.multipart_data if request_data else None
        fields = request_data.json_parameters if request_data else None
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        default_write = self._media_write_timeout if files else self._write_timeout
        write = default_write if isinstance(write_timeout, DefaultValue) else write_timeout
        # aiohttp's `connect` covers waiting for a pooled connection and opening one; it has no write
        # timeout (a small body goes to the socket's buffer at once), so a slow upload ends with `total`
        waiting = None if pool is None or connect is None else pool + connect
        total = None if not files or write is None or read is None else write + read + (waiting or 0.0)
        timeout = aiohttp.ClientTimeout(total=total, connect=waiting, sock_connect=connect, sock_read=read)
        data: aiohttp.FormData | dict[str, str] | None = fields
        if files:
            form = aiohttp.FormData(quote_fields=False)  # a file name in UTF-8, as httpx sends it
            for name, value in (fields or {}).items():
                form.add_field(name, value)
            for name, (filename, content, mime) in files.items():
                form.add_field(name, content, filename=filename, content_type=mime)
            data = form
        try:
            async with self._session.request(
                method,
                url,
                data=data,
                headers={"User-Agent": self.USER_AGENT},
                timeout=timeout,
                proxy=self.proxy(url),
            ) as response:
                status, body = response.status, await read_capped(response, self.max_answer)
        except NOT_SENT as err:
            if isinstance(err, TimeoutError):
                raise TimedOut(
                    "Pool or connect timeout: the request was *not* sent to Telegram. "
                    "Consider adjusting the connection pool size or the pool timeout."
                ) from err
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
        except TimeoutError as err:
            raise TimedOut from err
        except aiohttp.ClientError as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {err}") from err
        if not 200 <= status <= 299 and not is_api_answer(body):
            # an error page from a proxy or load balancer (HTML 404, 502 …) is not Telegram refusing us: PTB
            # would read a 401/404 as a rejected token and stop; it is the way to Telegram failing, to retry
            raise NetworkError(f"the Bot API answered HTTP {status} with something not its own (an error page?)")
        return status, body


async def read_capped(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """Read an answer's body, at most `limit` bytes whatever its headers claim (a document without file_size)."""
    if response.content_length is not None:
        if response.content_length > limit:
            raise AnswerTooLarge(f"the answer is {response.content_length:,} bytes, over the {limit:,} read")
        return await response.read()  # aiohttp reads exactly the declared length
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            raise AnswerTooLarge(f"the answer went past {limit:,} bytes: not read further")
        chunks.append(chunk)
    return b"".join(chunks)


def is_api_answer(body: bytes) -> bool:
    """Say whether an answer is the Bot API's own JSON ({"ok": …}), not an error page from something between."""
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and "ok" in data
