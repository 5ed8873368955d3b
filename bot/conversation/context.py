"""What each chat asked last, and follow-ups read against it (那运营呢, 那运营和销售呢, 详细说说)."""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from functools import lru_cache

from rolebot.engine.result import Result
from rolebot.language import segment
from rolebot.language.normalize import Normalized, normalize
from rolebot.language.script import Reader
from rolebot.language.understand import CONNECTORS
from rolebot.language.vocabulary import Vocabulary

TTL = 600.0  # a follow-up ten minutes later is a new conversation
LIMIT = 10_000  # chats remembered at once; the least recently active are forgotten first
# asking for more of the last answer (after particles are dropped)
MORE = frozenset(
    {
        "详细说说", "详细讲讲", "详细点", "详细一点", "再详细点", "再详细一点", "详细说一下", "详细讲一下", "具体说说",
        "具体讲讲", "具体点", "展开讲讲", "展开说说", "展开讲", "展开说", "展开", "多说点", "多讲点", "再说说",
        "为什么", "为啥", "怎么说", "更多", "说详细点", "详细些", "长一点", "再长一点",
    }
)  # fmt: skip
_PUNCT = re.compile(r"[?!.,。，？！、~\s]+")
_PARTICLES = re.compile(r"[呢吗吧呀啊哈嘛哦]+$")
_LEAD = re.compile(r"^(那么|那要是|那如果是|如果是|要是|换成|还有|那)")
_TAIL = re.compile(r"(的话呢|的话|怎么样|又如何|又是|呢)$")


@dataclass(frozen=True)
class Turn:
    """The last question a chat got an answer to."""

    text: str  # normalised, so its role words are the canonical ones
    entry_id: str | None
    reader: Reader  # who asked: the script and words their follow-ups are answered in
    at: float
    roles: tuple[str, ...] = ()  # the roles of the question or, when it named none, of the answer (它们, 前者)
    result: Result | None = None  # the answer itself, for requests about it (再简单点, 换成繁体说一遍)


@dataclass(frozen=True)
class FollowUp:
    """A message that only makes sense after the previous one: `more`, or `swap` the roles for `core`."""

    kind: str  # "more" | "swap"
    core: str = ""  # the roles the follow-up names, as typed after normalising ("运营和销售", "市场 部门")
    roles: tuple[str, ...] = ()


class Contexts:
    """The last turn per chat and user, in memory, bounded, expiring; safe across worker threads."""

    def __init__(self, ttl: float = TTL, limit: int = LIMIT, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.limit = limit
        self.clock = clock
        self._turns: OrderedDict[Hashable, Turn] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Turn | None:
        """Return the chat's last turn, or None when there is none or it is too old."""
        with self._lock:
            turn = self._turns.get(key)
            if turn is None:
                return None
            if self.clock() - turn.at > self.ttl:
                del self._turns[key]
                return None
            return turn

    def put(
        self,
        key: Hashable,
        text: str,
        entry_id: str | None,
        reader: Reader,
        roles: tuple[str, ...] = (),
        result: Result | None = None,
    ) -> None:
        """Remember what a chat was just answered."""
        with self._lock:
            self._turns[key] = Turn(text, entry_id, reader, self.clock(), roles, result)
            self._turns.move_to_end(key)
            while len(self._turns) > self.limit:
                self._turns.popitem(last=False)

    def __len__(self) -> int:
        return len(self._turns)


@lru_cache(maxsize=4)
def _role_pattern(vocab: Vocabulary) -> re.Pattern[str]:
    """Match any role word, longest first."""
    return re.compile("|".join(re.escape(r) for r in sorted(vocab.roles, key=len, reverse=True)) or r"(?!)")


def read_follow_up(text: str, vocab: Vocabulary, normalized: Normalized | None = None) -> FollowUp | None:
    """Say whether a message is elliptical: a request for more, or only roles (那运营呢, 运营和销售呢); `normalized`:
    the message already normalised."""
    norm = (normalized or normalize(text, vocab)).text
    bare = _PARTICLES.sub("", _PUNCT.sub("", norm))
    if bare in MORE or _LEAD.sub("", bare) in MORE:
        return FollowUp("more")
    core = norm.strip(" ?!.,。，？！~")
    lead = _LEAD.search(core)
    core = _LEAD.sub("", core)
    tail = _TAIL.search(core)
    core = _TAIL.sub("", core).strip()
    if not (lead or tail) or not core:
        return None  # "运营" alone is a question of its own
    words = segment.words(core)
    allowed = vocab.role_suffixes | CONNECTORS | {"的", "这个", "那个"}
    roles = tuple(w for w in words if w in vocab.roles)
    if not roles or any(w not in vocab.roles and w not in allowed for w in words):
        return None
    return FollowUp("swap", core, roles)


def swap_roles(previous: str, follow: FollowUp, vocab: Vocabulary) -> str | None:
    """Ask the previous question about the follow-up's roles instead, or None when it named no role.

    One role replaces the previous question's last role (营销和销售的区别 + 那运营呢 → 营销和运营的区别);
    several replace everything from its first role to its last.
    """
    found = list(_role_pattern(vocab).finditer(previous))
    if not found:
        return None
    if len(follow.roles) == 1:
        start, end = found[-1].span()
    else:
        start, end = found[0].start(), found[-1].end()
    return previous[:start] + follow.core + previous[end:]
