"""The webhook side: setWebhook/deleteWebhook and POSTing pending updates to the bot."""

from __future__ import annotations

import http.client
import re
import urllib.parse

from tests.helpers.fakeapi.protocol import (
    DEFAULT_ALLOWED,
    JSON,
    _bad,
    _json_bytes,
)


class Webhook:
    """The webhook side: setWebhook/deleteWebhook and POSTing pending updates to the bot."""

    @property
    def webhook(self) -> JSON | None:
        """Current webhook settings, or None when polling."""
        with self._lock:
            return dict(self._webhook) if self._webhook else None

    def _api_deleteWebhook(self, params: JSON) -> bool:
        """deleteWebhook: remove the webhook; drop_pending_updates clears the queue."""
        with self._cond:
            self._webhook = None
            if params.get("drop_pending_updates"):
                self._updates.clear()
            self._cond.notify_all()
        return True

    def _api_setWebhook(self, params: JSON) -> bool:
        """setWebhook: empty url removes it; updates are then POSTed to url (http allowed)."""
        url = params.get("url") or ""
        with self._cond:
            if params.get("drop_pending_updates"):
                self._updates.clear()
            if not url:
                self._webhook = None
                return True
            if not re.match(r"^https?://", url):
                raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
            secret = params.get("secret_token")
            if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
                raise _bad("secret token contains unallowed characters")
            self._webhook = {
                "url": url,
                "secret_token": secret,
                "max_connections": params.get("max_connections", 40),
                "allowed_updates": params.get("allowed_updates"),
            }
            if params.get("allowed_updates") is not None:
                self._allowed = frozenset(params["allowed_updates"]) or DEFAULT_ALLOWED
            self._cond.notify_all()
        return True

    def _webhook_worker(self) -> None:
        """POST pending updates one at a time to the webhook URL; confirm on 2xx."""
        while True:
            with self._cond:
                while not self._stop_event.is_set() and not (self._webhook and self._deliverable()):
                    self._cond.wait(0.5)
                if self._stop_event.is_set():
                    return
                assert self._webhook is not None
                url = self._webhook["url"]
                secret = self._webhook.get("secret_token")
                update = self._deliverable()[0]
            status = self._post_update(url, update, secret)
            with self._cond:
                self.webhook_deliveries.append((update["update_id"], status))
                if 200 <= status < 300:
                    self._updates = [u for u in self._updates if u["update_id"] != update["update_id"]]
                    self._cond.notify_all()
                    continue
            self._stop_event.wait(0.2)

    @staticmethod
    def _post_update(url: str, update: JSON, secret: str | None) -> int:
        """POST one update as JSON; 0 when the connection fails."""
        parts = urllib.parse.urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=5)
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        try:
            conn.request("POST", parts.path or "/", body=_json_bytes(update), headers=headers)
            response = conn.getresponse()
            response.read()
            return response.status
        except OSError:
            return 0
        finally:
            conn.close()
