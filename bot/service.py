"""What a conversation can do, independent of where it happens (Telegram or the terminal)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .engine import Engine, Result
from .render import (Reply, render_help, render_passages, render_plain, render_result, render_topic_list,
                     render_welcome)
from .store import Store
from .vocabulary import Vocabulary, vocabulary

__all__ = ["Service", "Answer", "render_plain"]


@dataclass(frozen=True)
class Answer:
    """An engine result and the reply rendered from it."""

    result: Result
    reply: Reply


class Service:
    """Answers, browsing, passages and feedback over one store."""

    def __init__(self, store: Store, vocab: Vocabulary | None = None, salt: str = "") -> None:
        self.store = store
        self.vocab = vocab or vocabulary()
        self.engine = Engine(store, self.vocab)
        self.salt = salt or (store.get_meta("salt") or self._new_salt())

    def _new_salt(self) -> str:
        salt = hashlib.sha256(str(id(self)).encode() + str(self.store.path).encode()).hexdigest()[:16]
        self.store.set_meta("salt", salt)
        return salt

    @property
    def categories(self) -> list[str]:
        """Return the browse categories."""
        return list(self.vocab.browse)

    def ask(self, text: str, *, chat_type: str = "private", short: bool = False,
            deep_link: str | None = None, record: bool = True) -> Answer:
        """Answer a question and remember it when we could not."""
        result = self.engine.ask(text)
        if record and not result.answered and result.kind != "empty" and result.normalized:
            self.store.record_unanswered(result.normalized, text.strip()[:300], chat_type, result.candidates[:3])
        link = deep_link.format(topic=result.topic) if deep_link and result.topic else None
        return Answer(result, render_result(result, short=short, deep_link=link, browse=self.categories))

    def topic(self, topic: str, script: str = "simplified", *, short: bool = False,
              deep_link: str | None = None) -> Answer | None:
        """Show one topic's answer (a follow-up or deep link), or None when unknown."""
        result = self.engine.show_topic(topic, script)
        if not result.answered:
            return None
        link = deep_link.format(topic=topic) if deep_link else None
        return Answer(result, render_result(result, short=short, deep_link=link))

    def more(self, entry_id: str, script: str = "simplified") -> Reply | None:
        """Show the passage digests behind an entry."""
        entry = self.store.entry(entry_id)
        if entry is None:
            return None
        return render_passages(self.store.topic_passages(entry["topic"]), script)

    def browse(self, category: str, script: str = "simplified") -> Reply | None:
        """List the questions under a browse category."""
        topics = self.vocab.browse.get(category)
        if topics is None:
            return None
        questions = self.engine.topic_questions()
        return render_topic_list(category, [(t, questions[t]) for t in topics if t in questions], script)

    def welcome(self, script: str = "simplified") -> Reply:
        """Return the welcome with the browse menu."""
        return render_welcome(self.categories, script)

    def help(self, script: str = "simplified") -> Reply:
        """Return the help text."""
        return render_help(script)

    def user_hash(self, user_id: int | str) -> str:
        """Return a salted hash, so feedback is counted once per user without storing who."""
        return hashlib.sha256(f"{self.salt}:{user_id}".encode()).hexdigest()[:16]

    def feedback(self, entry_id: str, vote: int, user_id: int | str, chat_type: str = "private") -> bool:
        """Record a 👍 or 👎 on an entry; False when the entry is unknown."""
        entry = self.store.entry(entry_id)
        if entry is None:
            return False
        self.store.record_feedback(entry["topic"], entry_id, 1 if vote > 0 else -1, chat_type,
                                   self.user_hash(user_id))
        return True
