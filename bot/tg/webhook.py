"""The webhook server: the secret checked from the headers before any of the body is read, the body capped.

Ours rather than PTB's (tornado) server, which reads a whole body (up to 100 MB) before it looks at the
secret, logs every malformed update's body at CRITICAL and answers it 400, so Telegram sends it again and
again. Here an update goes to the inbox (Delivery.receive) before Telegram gets its 200, as with polling;
one that cannot be read is logged once (id and why), kept done, and answered 200 so it is not sent again.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web

from rolebot.tg.delivery import Delivery

log = logging.getLogger("rolebot")

MAX_BODY = 1 << 20  # an update is a few KB (a message of 4,096 characters with its entities): 1 MiB is ample
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class WebhookServer:
    """Take updates Telegram posts to `path` carrying `secret`, into the delivery's inbox."""

    def __init__(self, delivery: Delivery, path: str, secret: str, max_body: int = MAX_BODY) -> None:
        if not secret:
            raise ValueError("a webhook needs a secret token")  # without one, anyone could post an update
        self.delivery = delivery
        self.path = "/" + path.strip("/")
        self.secret = secret.encode()
        self.max_body = max_body
        self.refused = 0  # posts without the secret, or too large
        self._runner: web.AppRunner | None = None

    async def start(self, host: str, port: int) -> None:
        """Listen on host:port."""
        app = web.Application(client_max_size=self.max_body)
        app.router.add_post(self.path, self._take)
        if self.path != "/":
            app.router.add_post(self.path + "/", self._take)
        # a stop gives a post in flight a moment: its update is in the inbox or Telegram sends it again
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _take(self, request: web.Request) -> web.Response:
        # the headers are all that has been read so far: a post without the secret costs us nothing more
        if not hmac.compare_digest(request.headers.get(SECRET_HEADER, "").encode(), self.secret):
            self.refused += 1
            return web.Response(status=403, text="forbidden")
        if request.content_length is not None and request.content_length > self.max_body:
            self.refused += 1
            return web.Response(status=413, text="too large")
        try:
            body = await request.read()  # at most client_max_size, whatever the headers said
        except web.HTTPRequestEntityTooLarge:
            self.refused += 1
            return web.Response(status=413, text="too large")
        try:
            data = json.loads(body)
        except ValueError:
            log.warning("webhook: a post that is not JSON (%d bytes): ignored", len(body))
            return web.Response(status=400, text="not JSON")
        updates, skipped = self.delivery.parse([data])
        if not updates and not skipped:
            return web.Response(text="")  # no update_id: nothing to take or to confirm
        if self.delivery.closing:
            return web.Response(status=503, text="stopping")  # Telegram sends it again after the restart
        await self.delivery.wait_for_room()
        try:
            await self.delivery.receive(updates, skipped)
        except Exception as exc:  # a full disk, say: not taken, so Telegram must send it again
            log.error("cannot write an update to the inbox (%s): Telegram will send it again", exc)
            return web.Response(status=500, text="not taken")
        self.delivery.progressed()
        return web.Response(text="")
