"""What a command works on: ``--app module:attr``, a database URL, or the demo.

Shared by ``serve``, ``actions``, ``call`` and ``runs``, so all resolve their target the same
way. The command's options never change the user's object: they travel as overrides to the
runtime the command opens (the app's lifespan then shares that runtime).
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import sys
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from litestar import Litestar

from flexorm.database import require_sqlite_file
from flexorm.exceptions import ConfigurationError
from flexorm.plugin import FlexormPlugin
from flexorm.reflection import Progress
from flexorm.runtime import Purpose, Runtime, RuntimeHost
from flexorm.settings import Settings

__all__ = ["DEMO_DATABASE", "Target", "load_target"]

DEMO_DATABASE = "flexorm-demo.db"
"""The demo's SQLite file, created in the current directory on first run."""

_DEMO_APP = "flexorm._demo.shop:app"


@dataclass(frozen=True)
class Target:
    """What a command serves or runs."""

    plugin: FlexormPlugin
    """The ``Flex`` (or, for a bare URL, a plugin of no actions) whose runtime is opened."""
    app: Litestar | None
    """The Litestar app to serve, when ``--app`` named one (else ``plugin.app`` is built)."""
    demo: bool = False
    """The bundled demo shop (its database is created on first run)."""
    overrides: Mapping[str, Any] = field(default_factory=dict)
    """Settings given on the command line, over the host's."""

    @property
    def host(self) -> RuntimeHost:
        return self.plugin.host

    @property
    def settings(self) -> Settings:
        """The settings the command runs with: the host's, with the overrides."""
        if not self.overrides:
            return self.host.settings
        return self.host.settings.with_(**self.overrides)

    def with_overrides(self, **changes: Any) -> Target:
        """The same target with more settings overridden."""
        return dataclasses.replace(self, overrides={**self.overrides, **changes})

    def runtime(self, progress: Progress | None = None, *,
                purpose: Purpose = "serve") -> AbstractAsyncContextManager[Runtime]:
        """Open the runtime with the command's settings (shared with the app's lifespan when
        it starts in the same event loop), calling ``progress`` as reflection goes
        (``purpose``: what for, see :data:`flexorm.runtime.Purpose`)."""
        return self.host.runtime(self.overrides, progress=progress, purpose=purpose)

    def server_app(self) -> Litestar:
        return self.app if self.app is not None else self.plugin.app

    def prepare(self) -> None:
        """Create the demo's database on first run; nothing for a user's database."""
        if self.demo:
            from flexorm._demo.schema import create_database

            create_database(self.settings.database_url or "")


def _import(path: str) -> Any:
    module_name, sep, attribute = path.partition(":")
    if not sep or not module_name or not attribute:
        raise ConfigurationError(f"--app must look like module:attribute, not {path!r}")
    cwd = os.getcwd()
    if cwd not in sys.path:
        sys.path.insert(0, cwd)
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == module_name or module_name.startswith(missing + "."):
            raise ConfigurationError(f"cannot import {module_name!r} (from {cwd})") from None
        raise ConfigurationError(f"{module_name!r} imports {missing!r}, which is not "
                                 "installed or not found") from None
    try:
        value = module
        for part in attribute.split("."):
            value = getattr(value, part)
    except AttributeError:
        raise ConfigurationError(f"module {module_name!r} has no attribute {attribute!r}") from None
    return value


def _plugin_of(value: Any, path: str) -> tuple[FlexormPlugin, Litestar | None]:
    if isinstance(value, FlexormPlugin):
        return value, None
    if isinstance(value, Litestar):
        for plugin in value.plugins:
            if isinstance(plugin, FlexormPlugin):
                return plugin, value
        raise ConfigurationError(f"{path} is a Litestar app without flexorm: add "
                                 "plugins=[flex], or name the Flex object")
    kind = type(value).__name__
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    raise ConfigurationError(f"{path} must name a Flex object or the Litestar app it built, "
                             f"not {article} {kind}")


def load_target(
    url: str | None,
    app_path: str | None,
    overrides: Mapping[str, Any] | None = None,
) -> Target:
    """Resolve a command's target and apply command-line settings to it.

    - ``--app``: the named ``Flex`` (or Litestar app); ``url``, if given, replaces its URL;
    - a URL (argument or ``FLEXORM_DATABASE_URL``) alone: a ``Flex`` serving that database, with
      no actions of its own;
    - neither: the demo shop, on ``./flexorm-demo.db``.

    Args:
        url: the database URL argument.
        app_path: ``module:attribute``.
        overrides: settings given on the command line; ``None`` and empty values are ignored.

    Raises:
        ConfigurationError: an app path that does not import or names the wrong thing, a bad
            URL.
        DatabaseError: a SQLite file that does not exist.
    """
    changes = {k: v for k, v in (overrides or {}).items() if v not in (None, (), [], False)}
    demo = False
    if app_path is not None:
        plugin, app = _plugin_of(_import(app_path), app_path)
        demo = app_path == _DEMO_APP  # the demo on a database of the user's: created there too
    else:
        url = url or Settings.from_env().database_url
        if url:
            plugin, app = FlexormPlugin(RuntimeHost(Settings.from_env())), None
        else:
            plugin, app = _plugin_of(_import(_DEMO_APP), _DEMO_APP)
            demo = True
            url = f"sqlite:///{Path.cwd() / DEMO_DATABASE}"
    if url:
        changes["database_url"] = url
    target = Target(plugin=plugin, app=app, demo=demo, overrides=changes)
    if not demo and target.settings.database_url:
        require_sqlite_file(target.settings.database_url)
    return target
