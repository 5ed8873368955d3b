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
    "terminal": 5,
}
# the one crossing between the edges: the command line's `run` starts the Telegram edge, imported in its body
EDGE_CROSSINGS = {("terminal/cli.py", "run", "tg")}


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "rolebot" or len(parts) < 2:
        return None
    return parts[1]


def _functions(tree: ast.AST) -> dict[int, str]:
    """Return, for each import node's id, the name of the function whose body holds it (top level: absent)."""
    inside: dict[int, str] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    inside.setdefault(id(node), fn.name)
    return inside


def _imports(path: Path) -> list[tuple[int, str, str | None]]:
    """Return (line, module, enclosing function or None) for every absolute or relative import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    package = list(rel.parts[:-1]) if rel.name != "__init__" else list(rel.parts[:-1])
    inside = _functions(tree)
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name, inside.get(id(node))) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            found.append((node.lineno, mod, inside.get(id(node))))
            found += [(node.lineno, f"{mod}.{a.name}", inside.get(id(node))) for a in node.names if mod == "rolebot"]
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
    for line, module, function in _imports(path):
        top = module.split(".")[0]
        if top == "telegram" and own != "tg":
            problems.append(f"{rel}:{line}: imports telegram outside tg/")
        layer = _layer(module)
        if own is None or layer is None or layer == own or layer not in RANK:
            continue
        if (rel.as_posix(), function, layer) in EDGE_CROSSINGS:
            continue
        if RANK[layer] >= RANK[own]:
            problems.append(f"{rel}:{line}: {own} (rank {RANK[own]}) imports {module} (rank {RANK[layer]})")
    assert not problems, "\n".join(problems)


def test_the_one_edge_crossing_is_lazy_and_still_there() -> None:
    """`rolebot run` imports tg inside its body only, so no other command (or `import rolebot.terminal`) loads telegram."""
    cli = PACKAGE / "terminal" / "cli.py"
    crossings = [(line, fn) for line, module, fn in _imports(cli) if _layer(module) == "tg"]
    assert crossings and all(fn == "run" for _, fn in crossings), crossings
