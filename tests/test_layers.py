"""The package's folders are its layers: each imports only the layers below it."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "bot"

# a layer may import the layers of a lower rank; siblings of one rank never import each other
RANK = {
    "config": 0,
    "errors": 0,
    "store": 1,
    "language": 2,
    "kb": 3,
    "engine": 3,
    "conversation": 4,
    "tg": 5,
    "terminal": 6,  # the process entry: `rolebot run` starts the Telegram edge
}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "rolebot" or len(parts) < 2:
        return None
    return parts[1]


def _imports(path: Path) -> list[tuple[int, str]]:
    """Return (line, module) for every absolute or relative import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.append((node.lineno, mod))
            found += [(node.lineno, f"{mod}.{a.name}") for a in node.names if mod == "rolebot"]
    return found


def _modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__main__.py")


def test_every_module_belongs_to_a_known_layer() -> None:
    for path in _modules():
        rel = path.relative_to(PACKAGE)
        if rel.parts == ("__init__.py",):
            continue
        name = rel.parts[0].removesuffix(".py")
        assert name in RANK, f"{rel}: not in a layer; add it to RANK and the README's architecture"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path) -> None:
    rel = path.relative_to(PACKAGE)
    own = rel.parts[0].removesuffix(".py") if rel.parts != ("__init__.py",) else None
    problems = []
    for line, module in _imports(path):
        top = module.split(".")[0]
        if top == "telegram" and own != "tg":
            problems.append(f"{rel}:{line}: imports telegram outside tg/")
        layer = _layer(module)
        if own is None or layer is None or layer == own or layer not in RANK:
            continue
        if RANK[layer] >= RANK[own]:
            problems.append(f"{rel}:{line}: {own} (rank {RANK[own]}) imports {module} (rank {RANK[layer]})")
    assert not problems, "\n".join(problems)
