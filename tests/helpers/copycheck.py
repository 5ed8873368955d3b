"""Find text in knowledge files copied verbatim from the source articles."""

from __future__ import annotations

import os
import re
import unicodedata
from pathlib import Path

import yaml

RUN = 24
_SKIP = re.compile(r"[\s，。、：；！？,.:;!?“”\"'‘’（）()《》「」【】\-—*#·•>\[\]]+")


# Names a paraphrase has to keep: roles, departments, the 4P and 12 items, channels, companies, books.
TERMS = sorted(
    """市场营销 营销 销售 市场 运营 用户运营 内容运营 活动运营 产品运营 新媒体运营 社区运营 市场运营 服务运营
    平台活动运营 活动执行 短视频运营 节日营销 事件营销 会议营销 销售员 销售经理 销售总监 销售副总 产品 价格 渠道
    促销 推广 公关 人员 政府权力 探查 分割 优先 定位 员工 广告 展览 服务 市场调研 市场推广 品牌策划 品牌 策划
    拉新 留存 促活 转化 文案 战略 策划部 市场推广部 企划部 品牌推广部 销售部 市场部 营销部 从CMO到CGO 等 和 与 及""".split(),
    key=len,
    reverse=True,
)
_TERM_RUN = re.compile("^(?:[A-Za-z0-9+]+|" + "|".join(map(re.escape, TERMS)) + ")+$")


def is_term_run(run: str) -> bool:
    """Tell whether a copied run is made only of names (a list of terms, not a copied sentence)."""
    return _TERM_RUN.match(run) is not None


def _flatten(text: str) -> str:
    """Drop whitespace and punctuation so reflowed copies are still caught."""
    return _SKIP.sub("", unicodedata.normalize("NFKC", text))


def seeds_dir() -> Path | None:
    """Locate shared/seeds beside the checkout, or where ROLEBOT_SEEDS points."""
    env = os.environ.get("ROLEBOT_SEEDS")
    candidates = [Path(env)] if env else []
    root = Path(__file__).resolve().parents[2]  # the checkout: tests/helpers/ is two below it
    candidates += [root.parent / "shared" / "seeds", root / "shared" / "seeds"]
    return next((c for c in candidates if c.is_dir()), None)


def load_seed_text() -> str | None:
    """Return all seed articles flattened into one string, or None when absent."""
    folder = seeds_dir()
    if folder is None:
        return None
    return "\n".join(_flatten(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.txt")))


def copied_runs(text: str, seeds: str, run: int = RUN) -> list[str]:
    """Return maximal runs of `run`+ characters of `text` that occur in `seeds`."""
    flat = _flatten(text)
    found: list[str] = []
    i = 0
    while i + run <= len(flat):
        if flat[i : i + run] in seeds:
            j = i + run
            while j < len(flat) and flat[i : j + 1] in seeds:
                j += 1
            found.append(flat[i:j])
            i = j
        else:
            i += 1
    return found


def find_copied_runs(path: Path, seeds: str, run: int = RUN) -> list[tuple[str, str]]:
    """Check every answer, passage text and claim (text and phrasings) in one knowledge file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    out: list[tuple[str, str]] = []
    for kind, fields in (("entries", ("answer",)), ("passages", ("text",)), ("claims", ("text", "asks"))):
        for rec in data.get(kind) or []:
            for field in fields:
                value = rec.get(field, "")
                for text in value if isinstance(value, list) else [value]:
                    for found in copied_runs(str(text), seeds, run):
                        out.append((str(rec.get("id")), found))
    return out
