"""The bot's profile texts (what Telegram shows before /start), set only when they differ."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from telegram import Bot
from telegram.error import TelegramError

from rolebot.language.normalize import to_traditional

log = logging.getLogger("rolebot.profile")

DESCRIPTION = (
    "你好！我专门解答营销、销售、市场、运营这几类岗位有什么区别，"
    "也讲用户运营、内容运营、活动运营、产品经理、推销、分销、4P、STP 和职业选择。"
    "直接发问题给我，例如「营销和销售有什么区别？」，我会给出简短的回答、出处和可以接着看的问题。"
    "在群里请用 /ask 提问。"
)
SHORT_DESCRIPTION = "解答营销、销售、市场、运营等岗位的区别，附出处。直接发问题即可。"


@dataclass(frozen=True)
class Profile:
    """The description (≤ 512 characters) and short description (≤ 120) for one language code."""

    language_code: str  # "" is the default for every language without its own text
    description: str
    short_description: str


def profiles() -> list[Profile]:
    """Return the Simplified default and the Traditional text for zh-hant."""
    return [
        Profile("", DESCRIPTION, SHORT_DESCRIPTION),
        Profile("zh-hant", to_traditional(DESCRIPTION), to_traditional(SHORT_DESCRIPTION)),
    ]


async def sync_profile(bot: Bot) -> list[str]:
    """Set each description that differs from what Telegram has; return what was changed.

    The profile is a courtesy: a Bot API without these methods (a self-hosted or older server), a refusal
    or a reply that is not what the API documents logs one warning, and the bot serves without it.
    """
    changed: list[str] = []
    for profile in profiles():
        lang = profile.language_code or None
        label = profile.language_code or "default"
        try:
            current = await bot.get_my_description(language_code=lang)
            if (current.description or "") != profile.description:
                await bot.set_my_description(profile.description, language_code=lang)
                changed.append(f"description ({label})")
            current_short = await bot.get_my_short_description(language_code=lang)
            if (current_short.short_description or "") != profile.short_description:
                await bot.set_my_short_description(profile.short_description, language_code=lang)
                changed.append(f"short description ({label})")
        except (TelegramError, TypeError, ValueError, KeyError, AttributeError) as exc:
            # a malformed reply fails inside PTB's parsing (TypeError, KeyError …): as optional as a refusal
            log.warning("bot description not set (%s): %s: %s", label, type(exc).__name__, short(exc))
            break  # the other language would fail the same way: one warning, not one per call
    return changed


def short(exc: BaseException, limit: int = 200) -> str:
    """Return an error's message cut to one short line (a malformed reply's message may quote all of it)."""
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
