"""The review screen in Chinese for maintainers (topic ids as they are): the terminal's and Telegram's."""

from __future__ import annotations

from rolebot.conversation.render import MISSING_NAMES
from rolebot.kb.review import Cluster, Review

PAGE = 5  # groups per Telegram page
INTENT_NAMES = {
    "definition": "是什么、做什么",
    "difference": "区别",
    "ability": "需要什么能力",
    "career": "职业发展和选择",
    "process": "流程",
    "relation": "关系和配合",
    "structure": "部门设置",
    "translation": "译名",
}
MORE_NAMES = {"life": "工作以外的生活", "word-sense": "这个词的别的意思", "covered": "资料里有的内容"}
DRAFTS_HINT = "rolebot review --drafts 草稿.yaml"


def asks(item: Cluster) -> str:
    """Return what a group asks: "运营的薪资（…）——资料里没有", "营销：需要什么能力", or what it is about."""
    roles = "、".join(item["roles"])
    aspect = item["aspect"]
    if item["missing"]:
        name = MISSING_NAMES.get(aspect) or MORE_NAMES.get(aspect) or aspect
        return f"{roles}的{name}——资料里没有这方面的内容"
    name = INTENT_NAMES.get(aspect, aspect) or "没读出问的是哪一方面"
    if roles:
        return f"{roles}：{name}"
    about = "、".join(f"「{w}」" for w in item["about"][:3])
    return f"{about}{'：' if about else ''}{name}（没有提到营销、销售、市场或运营，多半不在范围内）"


def advice(item: Cluster, *, cli: bool) -> str:
    """Return what the maintainer can do with a group."""
    best = next((c for c in item["candidates"] if c["topic"] == item["suggestion"]), None)
    if item["suggestion"] and best is not None:
        return f"加为 {item['suggestion']} 的问法（分数 {best['score']}）"
    draft = item["new_entry"]
    if draft is not None:
        where = f"（{DRAFTS_HINT} 写出草稿，写好答案后 rolebot import）" if cli else "（点下面的按钮拿草稿文件）"
        return f"新建条目 {draft['topic']}{where}"
    return "不用处理，或者先在知识里加上这些岗位"


def format_review(data: Review, limit: int = 30) -> str:
    """Render the review for the terminal, in Chinese."""
    groups = data["unanswered"]
    lines = [f"答不上的问题：按问的内容分成 {len(groups)} 组"]
    for n, item in enumerate(groups[:limit], 1):
        lines.append(
            f"{n:>3}. {item['question']}   问了 {item['count']} 次（最近 {item['last_seen'].replace('T', ' ')}）"
        )
        lines.append(f"     问的是：{asks(item)}")
        others = [v for v in item["variants"] if v != item["question"]]
        if others:
            lines.append(f"     同组问法：{' / '.join(others)[:120]}")
        lines.append(f"     建议：{advice(item, cli=True)}")
    if not groups:
        lines.append("  （没有）")
    elif len(groups) > limit:
        lines.append(f"  ……还有 {len(groups) - limit} 组（--json 列出全部）")
    lines.append("")
    lines.append("每个话题的反馈（👍 / 👎）：")
    for f in data["feedback"]:
        lines.append(f"  {f['topic']:<45} {f['up']:>4} 👍 {f['down']:>4} 👎")
    if not data["feedback"]:
        lines.append("  （没有）")
    return "\n".join(lines)


def group_text(n: int, item: Cluster) -> str:
    """Render one group as a Telegram message (its buttons are the edge's)."""
    lines = [f"{n}. {item['question']}（问了 {item['count']} 次）", f"问的是：{asks(item)}"]
    others = [v for v in item["variants"] if v != item["question"]]
    if others:
        lines.append(f"同组问法：{' / '.join(others)[:200]}")
    lines.append(f"建议：{advice(item, cli=False)}")
    return "\n".join(lines)


def page_text(page: int, pages: int, groups: int) -> str:
    """Render the line after a page of groups."""
    return f"第 {page + 1}/{pages} 页，共 {groups} 组"
