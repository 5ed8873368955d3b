"""Button presses and inline queries, and answering each exactly once."""

from __future__ import annotations

from tests.helpers.fakeapi.entities import format_text
from tests.helpers.fakeapi.protocol import (
    DEFAULT_USER_ID,
    JSON,
    MAX_INLINE_RESULTS,
    QUERY_TOO_OLD,
    _bad,
)


class Buttons:
    """Button presses and inline queries, and answering each exactly once."""

    def callback(
        self,
        data: str,
        *,
        message: JSON | None = None,
        user_id: int = DEFAULT_USER_ID,
        first_name: str | None = None,
        language_code: str | None = None,
        check: bool = True,
    ) -> JSON:
        """A button press on a bot message (default: the bot's last message to user_id)."""
        with self._cond:
            user = self._user_dict(user_id, first_name, language_code=language_code)
            query_id = str(next(self._query_ids))
            query: JSON = {"id": query_id, "from": user, "data": data}
            if message is None:
                message = self.last_bot_message(user_id)
            message = message.get("message", message)
            key = (message["chat"]["id"], message["message_id"])
            current = self._messages.get(key)
            if current is None:
                raise ValueError(f"unknown message {key}")
            if check:
                offered = [
                    b.get("callback_data")
                    for row in current.get("reply_markup", {}).get("inline_keyboard", [])
                    for b in row
                ]
                if data not in offered:
                    raise ValueError(
                        f"message {key} has no button with callback_data {data!r} "
                        f"(offered: {offered}); pass check=False to send it anyway"
                    )
            query["message"] = self._public(current)
            query["chat_instance"] = str(abs(key[0]) * 7919 % 10**12 + 10**12)
            self._callback_queries[query_id] = False
            return self._enqueue("callback_query", query)

    def inline_query(
        self,
        query: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        first_name: str | None = None,
        language_code: str | None = None,
        offset: str = "",
        chat_type: str | None = "sender",
    ) -> JSON:
        """An inline_query update (the bot must support inline mode)."""
        if len(query) > 256:
            raise ValueError("inline queries are at most 256 characters")
        with self._cond:
            user = self._user_dict(user_id, first_name, language_code=language_code)
            query_id = str(next(self._query_ids))
            payload: JSON = {"id": query_id, "from": user, "query": query, "offset": offset}
            if chat_type:
                payload["chat_type"] = chat_type
            self._inline_queries[query_id] = False
            return self._enqueue("inline_query", payload)

    def _api_answerCallbackQuery(self, params: JSON) -> bool:
        """answerCallbackQuery: each query id can be answered once."""
        with self._lock:
            query_id = str(params.get("callback_query_id") or "")
            if self._callback_queries.get(query_id, True):
                raise _bad(QUERY_TOO_OLD)
            text = params.get("text")
            if text is not None and len(str(text)) > 200:
                raise _bad("MESSAGE_TOO_LONG")
            self._callback_queries[query_id] = True
            return True

    def _api_answerInlineQuery(self, params: JSON) -> bool:
        """answerInlineQuery: ≤ 50 results with unique ids, each query answered once."""
        with self._lock:
            query_id = str(params.get("inline_query_id") or "")
            if self._inline_queries.get(query_id, True):
                raise _bad(QUERY_TOO_OLD)
            results = params.get("results")
            if not isinstance(results, list):
                raise _bad("can't parse inline query results JSON object")
            if len(results) > MAX_INLINE_RESULTS:
                raise _bad("RESULTS_TOO_MUCH")
            seen: set[str] = set()
            for result in results:
                rid = str(result.get("id", ""))
                if not result.get("type") or not 1 <= len(rid.encode("utf-8")) <= 64:
                    raise _bad("RESULT_ID_INVALID")
                if rid in seen:
                    raise _bad("RESULT_ID_DUPLICATE")
                seen.add(rid)
                self._check_markup(result.get("reply_markup"))
                content = result.get("input_message_content")
                if isinstance(content, dict) and "message_text" in content:
                    format_text(content["message_text"], content.get("parse_mode"), content.get("entities"))
            if len(str(params.get("next_offset") or "").encode("utf-8")) > 64:
                raise _bad("NEXT_OFFSET_INVALID")
            self._inline_queries[query_id] = True
            return True
