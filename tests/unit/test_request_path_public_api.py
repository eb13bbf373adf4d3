"""The request path uses only public Litestar and SQLAlchemy API.

A private name (``_encoded_cookies``, ``ScopeState``, a dialect's ``_reflect_type``...) can
change in any patch release and silently turn a feature off; here any use of one on the modules
a request runs through fails the suite. flexorm's own private names (``self._x``) are its
business; SQLAlchemy's ``Row`` spells some public methods with an underscore so that they
cannot clash with column names (``_asdict``, ``_mapping``...), and those are allowed.
"""

from __future__ import annotations

import ast
from pathlib import Path

import flexorm

ROOT = Path(flexorm.__file__).parent

REQUEST_PATH = ("server", "mcp", "operations", "calls", "actions", "protocol", "auth", "journal",
                "runtime.py", "database.py",
                "settings.py", "exceptions.py", "flex.py")
FRAMEWORKS = ("litestar", "sqlalchemy")

ROW_API = frozenset({"_asdict", "_mapping", "_fields", "_t", "_tuple"})
"""``sqlalchemy.engine.Row``'s public methods and attributes, named with an underscore."""

NOT_FRAMEWORKS = frozenset({"sys._getframe"})
"""Documented underscore names of the standard library (a declaration's calling frame)."""

KNOWN_PRIVATE = ("ScopeState", "_encoded_cookies", "is_connected", "_reflect_type",
                 "info_cache", "ischema_names", "litestar.utils.scope", "_connection_state")
"""Private names flexorm once used: not even a string of them may come back."""


def _files() -> list[Path]:
    found: list[Path] = []
    for part in REQUEST_PATH:
        path = ROOT / part
        found.extend(sorted(path.rglob("*.py")) if path.is_dir() else [path])
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _offences(path: Path, root: Path = ROOT) -> list[str]:
    text = path.read_text()
    where = path.relative_to(root.parent)
    found = [f"{where}: {name}" for name in KNOWN_PRIVATE if name in text]
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module:
            parts = node.module.split(".")
            if parts[0] in FRAMEWORKS and (any(_private(p) for p in parts)
                                           or any(_private(a.name) for a in node.names)):
                found.append(f"{where}:{node.lineno}: from {node.module} import ...")
        elif isinstance(node, ast.Import):
            found.extend(f"{where}:{node.lineno}: import {alias.name}" for alias in node.names
                         if alias.name.split(".")[0] in FRAMEWORKS
                         and any(_private(p) for p in alias.name.split(".")))
        elif isinstance(node, ast.Attribute) and _private(node.attr):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if node.attr in ROW_API or ast.unparse(node) in NOT_FRAMEWORKS:
                continue
            found.append(f"{where}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_the_scan_sees_the_request_path():
    names = {path.relative_to(ROOT).as_posix() for path in _files()}
    assert {"server/routes.py", "server/incoming.py", "server/raw.py",
            "actions/_runner.py"} <= names


def test_the_scan_catches_a_private_name(tmp_path):
    sample = tmp_path / "flexorm" / "sample.py"
    sample.parent.mkdir()
    sample.write_text("from litestar.utils.scope.state import ScopeState\n"
                      "def f(response):\n    response._encoded_cookies = ()\n")
    found = _offences(sample, sample.parent)
    assert any("ScopeState" in f for f in found)
    assert any("response._encoded_cookies" in f for f in found)


def test_no_private_litestar_or_sqlalchemy_name_on_the_request_path():
    offences = [offence for path in _files() for offence in _offences(path)]
    assert offences == []
