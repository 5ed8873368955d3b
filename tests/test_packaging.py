"""The wheel carries every data file the package reads (a plain, non-editable install must work)."""

from __future__ import annotations

import fnmatch
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_data_file_in_the_package_is_declared_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    declared: dict[str, list[str]] = config["tool"]["setuptools"]["package-data"]
    package = ROOT / "bot"
    missing = []
    for path in package.rglob("*"):
        if not path.is_file() or path.suffix in {".py", ".pyc"} or "__pycache__" in path.parts:
            continue
        module = ".".join(("rolebot", *path.parent.relative_to(package).parts))
        if not any(fnmatch.fnmatch(path.name, pattern) for pattern in declared.get(module, [])):
            missing.append(str(path.relative_to(ROOT)))
    assert not missing, f"not in [tool.setuptools.package-data], so left out of the wheel: {missing}"
