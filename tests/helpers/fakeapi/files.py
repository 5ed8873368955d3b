"""Files: stored bytes, media messages from users, getFile, downloads and uploads."""

from __future__ import annotations

import mimetypes
from typing import TYPE_CHECKING, Any

from tests.helpers.fakeapi.entities import auto_entities
from tests.helpers.fakeapi.protocol import (
    DEFAULT_USER_ID,
    JSON,
    MAX_CAPTION,
    MAX_DOWNLOAD,
    Call,
    CallRecord,
    _bad,
    _json_bytes,
    _StoredFile,
    _Upload,
)

if TYPE_CHECKING:
    from tests.helpers.fakeapi.server import _Handler


class Files:
    """Files: stored bytes, media messages from users, getFile, downloads and uploads."""

    def add_file(
        self,
        content: bytes,
        file_name: str | None = None,
        *,
        kind: str = "documents",
        mime_type: str | None = None,
    ) -> JSON:
        """Store bytes for getFile and the file URL; returns file_id, file_unique_id, file_size."""
        with self._lock:
            n = next(self._file_counter)
            suffix = ""
            if file_name and "." in file_name:
                suffix = "." + file_name.rsplit(".", 1)[1]
            stored = _StoredFile(
                file_id=f"BQACAgIAAxkBAAI{n:06d}{self.bot_id}",
                file_unique_id=f"AgAD{n:06d}",
                file_path=f"{kind}/file_{n}{suffix}",
                content=bytes(content),
                mime_type=mime_type,
            )
            self._files[stored.file_id] = stored
            return {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.content),
            }

    def file_content(self, file_id: str) -> bytes:
        """Bytes of a stored or uploaded file."""
        with self._lock:
            return self._files[file_id].content

    def sticker(
        self,
        emoji: str = "👍",
        *,
        set_name: str | None = "TestPack",
        **who: Any,
    ) -> JSON:
        """A sticker message (who: user_id, chat_id, chat_type, first_name, ...)."""
        info = self.add_file(b"RIFF\x00\x00\x00\x00WEBPVP8 ", "sticker.webp", kind="stickers", mime_type="image/webp")
        sticker: JSON = {
            **info,
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        if set_name:
            sticker["set_name"] = set_name
        return self._compose({"sticker": sticker}, **self._who(who))

    def photo(
        self,
        content: bytes = b"\xff\xd8\xff\xe0fake-jpeg",
        *,
        caption: str | None = None,
        width: int = 1280,
        height: int = 960,
        **who: Any,
    ) -> JSON:
        """A photo message with two sizes (both downloadable) and an optional caption."""
        sizes = []
        for w, h in ((90, max(1, 90 * height // max(width, 1))), (width, height)):
            info = self.add_file(content, "photo.jpg", kind="photos", mime_type="image/jpeg")
            sizes.append({**info, "width": w, "height": h})
        message: JSON = {"photo": sizes}
        self._add_caption(message, caption)
        return self._compose(message, **self._who(who))

    def voice(
        self,
        content: bytes = b"OggS\x00fake-voice",
        *,
        duration: int = 3,
        mime_type: str = "audio/ogg",
        **who: Any,
    ) -> JSON:
        """A voice message whose file can be downloaded."""
        info = self.add_file(content, "voice.oga", kind="voice", mime_type=mime_type)
        return self._compose({"voice": {**info, "duration": duration, "mime_type": mime_type}}, **self._who(who))

    def document(
        self,
        file_name: str,
        content: bytes,
        *,
        mime_type: str | None = None,
        caption: str | None = None,
        **who: Any,
    ) -> JSON:
        """A document message; getFile + download serve content."""
        mime = mime_type or mimetypes.guess_type(file_name)[0] or "application/octet-stream"
        info = self.add_file(content, file_name, kind="documents", mime_type=mime)
        message: JSON = {"document": {**info, "file_name": file_name, "mime_type": mime}}
        self._add_caption(message, caption)
        return self._compose(message, **self._who(who))

    @staticmethod
    def _add_caption(message: JSON, caption: str | None) -> None:
        """Attach a caption with auto entities."""
        if caption:
            message["caption"] = caption
            found = auto_entities(caption)
            if found:
                message["caption_entities"] = found

    @staticmethod
    def _who(who: dict[str, Any]) -> dict[str, Any]:
        """Defaults for the sender/chat keywords of media helpers."""
        allowed = {
            "user_id",
            "chat_id",
            "first_name",
            "last_name",
            "username",
            "language_code",
            "chat_type",
            "chat_title",
            "reply_to",
            "date",
        }
        unknown = set(who) - allowed
        if unknown:
            raise TypeError(f"unexpected keyword arguments: {sorted(unknown)}")
        return {
            "user_id": DEFAULT_USER_ID,
            "chat_id": None,
            "first_name": None,
            "last_name": None,
            "username": None,
            "language_code": None,
            "chat_type": "private",
            "chat_title": None,
            "reply_to": None,
            "date": None,
            **who,
        }

    def _serve_file(self, handler: _Handler, rest: str) -> None:
        """Serve GET /file/bot{token}/{file_path}."""
        token, _, file_path = rest.partition("/")
        with self._lock:
            stored = next((f for f in self._files.values() if f.file_path == file_path), None)
        if token != self.token or stored is None:
            handler.reply(404, _json_bytes({"ok": False, "error_code": 404, "description": "Not Found"}))
            return
        with self._cond:
            self.log.append(CallRecord("download", {"file_path": file_path}, 200))
            self.calls.append(Call("download", {"file_path": file_path}))
            self._cond.notify_all()
        handler.reply(200, stored.content, stored.mime_type or "application/octet-stream")

    def _api_getFile(self, params: JSON) -> JSON:
        """getFile: file_path for a stored file (download from base_file_url)."""
        with self._lock:
            stored = self._files.get(str(params.get("file_id") or ""))
            if stored is None:
                raise _bad("invalid file_id")
            if len(stored.content) > MAX_DOWNLOAD:
                raise _bad("file is too big")
            return {
                "file_id": stored.file_id,
                "file_unique_id": stored.file_unique_id,
                "file_size": len(stored.content),
                "file_path": stored.file_path,
            }

    def _upload(self, params: JSON, uploads: dict[str, _Upload], key: str, kind: str) -> JSON:
        """Store an uploaded file part and return its file info."""
        upload = uploads.get(key)
        if upload is not None:
            info = self.add_file(upload.content, upload.filename, kind=kind, mime_type=upload.content_type)
            return {**info, "file_name": upload.filename, "mime_type": upload.content_type}
        raise _bad("wrong file identifier/HTTP URL specified")

    def _media_message(self, params: JSON, content: JSON) -> JSON:
        """The document message the bot sent: caption, chat checks, storing."""
        chat = self._chat_for_send(params.get("chat_id"))
        if params.get("caption"):
            caption, entities = self._formatted(params, "caption", MAX_CAPTION, "caption_entities")
            if caption:
                content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        return self._bot_message(chat, params, content)

    def _api_sendDocument(self, params: JSON, uploads: dict[str, _Upload]) -> JSON:
        """sendDocument: multipart upload or file_id."""
        with self._lock:
            info = self._upload(params, uploads, "document", "documents")
            return self._media_message(params, {"document": info})
