"""The terminal chat: the same replies as Telegram, buttons as numbered choices."""

from __future__ import annotations

from collections.abc import Callable

from rolebot.conversation.actions import Browse, More, NoneOfThese, ShowTopic, Vote, decode
from rolebot.conversation.render import Button, Reply, render_plain
from rolebot.conversation.service import Service
from rolebot.language.script import SIMPLIFIED_READER, Reader


def press(service: Service, button: Button, reader: Reader) -> Reply | None:
    """Do what a button does, as the Telegram bot would."""
    match decode(button.action):
        case ShowTopic(topic):
            answer = service.topic(topic, reader)
            return answer.reply if answer else None
        case More(entry_id):
            return service.more(entry_id, reader)
        case Browse(category):
            return service.browse(category, reader)
        case Vote(entry_id, up):
            service.feedback(entry_id, 1 if up else -1, "terminal", "cli")
            return Reply("谢谢反馈！", "谢谢反馈！")
        case NoneOfThese():
            return service.welcome(reader)
    return None


def run_chat(service: Service, read: Callable[[str], str] = input, write: Callable[[str], None] = print) -> None:
    """Read questions until EOF or q (quit, exit, /quit); a number presses a button of the last reply."""
    reply = service.welcome()
    reader = SIMPLIFIED_READER
    write(render_plain(reply))
    while True:
        try:
            line = read("\n你> ").strip()
        except EOFError:
            write("")
            return
        if line.lower() in {"q", "quit", "exit", "/quit"}:
            return
        if not line:
            continue
        buttons = reply.flat_buttons()
        if line.isdigit() and 1 <= int(line) <= len(buttons):
            button = buttons[int(line) - 1]
            new = press(service, button, reader) if button.action else Reply(button.url, button.url)
            if new is None:
                write("这个选项已经失效了，请重新提问。")
                continue
            reply = new
        elif line.isdigit() and len(line) <= 2:
            # a mistyped button number is not a question: say so, and keep it out of the review
            write(
                f"没有这个选项：请输入 1–{len(buttons)}，或者直接提问。"
                if buttons
                else "没有这个选项：现在没有可选的按钮，请直接提问。"
            )
            continue
        elif line == "/start":
            reply = service.welcome(reader)
        elif line == "/topics":
            reply = service.topics(reader)
        elif line == "/help":
            reply = service.help(reader, terminal=True)
        else:
            answer = service.ask(line, chat_type="cli", context=("cli", 0))
            reader = answer.result.reader
            reply = answer.reply
        write(render_plain(reply))
