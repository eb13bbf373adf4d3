"""The ``flexorm`` command line: ``inspect``, ``serve``, ``actions``, ``call``."""

from __future__ import annotations

import click

__all__ = ["main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="flexorm")
def main() -> None:
    """Jet Admin FlexActions for any SQLAlchemy database."""


def _register() -> None:
    # Each command lives in its own module; they are added here, in help order.
    import importlib

    for module, attribute in [
        ("flexorm.cli.inspect", "inspect_command"),
        ("flexorm.cli.serve", "serve_command"),
        ("flexorm.cli.actions", "actions_command"),
        ("flexorm.cli.actions", "call_command"),
        ("flexorm.cli.runs", "runs_command"),
        ("flexorm.cli.db", "db_command"),
    ]:
        try:
            command = getattr(importlib.import_module(module), attribute)
        except ModuleNotFoundError as exc:  # a command still being written
            if exc.name != module:
                raise
            continue
        main.add_command(command)


_register()
