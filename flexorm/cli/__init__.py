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
    from flexorm.cli.actions import actions_command, call_command
    from flexorm.cli.db import db_command
    from flexorm.cli.inspect import inspect_command
    from flexorm.cli.runs import runs_command
    from flexorm.cli.serve import serve_command
    from flexorm.cli.worker import worker_command

    for command in (inspect_command, serve_command, actions_command, call_command, runs_command,
                    worker_command, db_command):
        main.add_command(command)


_register()
