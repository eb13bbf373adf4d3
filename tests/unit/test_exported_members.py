"""flexorm's public surface is deliberate: this list changes only on purpose."""

from __future__ import annotations

import subprocess
import sys

import flexorm

PUBLIC = [
    "ActionContext",
    "ActionError",
    "Caller",
    "Code",
    "ConfigurationError",
    "Flex",
    "FlexormError",
    "NotAuthenticated",
    "Param",
    "PermissionDenied",
    "Settings",
    "Sql",
    "Text",
    "Translatable",
    "ValidationError",
    "action",
    "all_of",
    "any_of",
    "authenticated",
    "can_read",
    "can_write",
    "include_object",
    "owner",
    "super_group",
    "users",
]


def test_public_names_are_exactly_these():
    assert flexorm.__all__ == PUBLIC
    for name in PUBLIC:
        assert getattr(flexorm, name) is not None


def test_all_is_sorted():
    assert flexorm.__all__ == sorted(flexorm.__all__, key=lambda n: (not n[0].isupper(), n))


def test_importing_flexorm_loads_neither_alembic_uvicorn_nor_the_cli():
    # an app that imports flexorm pays only for what serving needs
    code = ("import sys, flexorm; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'uvicorn') "
            "or m.startswith('flexorm.cli')))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout.strip()
    assert loaded == "[]"
