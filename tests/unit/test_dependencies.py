"""Every package flexorm imports is declared in ``pyproject.toml``, not borrowed from what
another dependency happens to install."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import flexorm

ROOT = Path(flexorm.__file__).parent
PYPROJECT = ROOT.parent / "pyproject.toml"


def _imported() -> set[str]:
    names: set[str] = set()
    for path in ROOT.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.add(node.module.split(".")[0])
    return {n for n in names if n != "flexorm" and n not in sys.stdlib_module_names}


def _declared() -> set[str]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        requirements.extend(extra)
    return {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower().replace("_", "-")
            for r in requirements}


def test_every_imported_package_is_declared():
    distributions = packages_distributions()
    missing = sorted(
        f"{module} ({', '.join(distributions.get(module, ['?']))})"
        for module in _imported()
        if not {d.lower().replace("_", "-") for d in distributions.get(module, [])}
        & _declared())
    assert missing == []
