"""``flexorm actions`` lists the actions; ``flexorm call`` runs one, as the endpoint would."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import click

from flexorm.auth.caller import Caller
from flexorm.cli._console import data_console
from flexorm.cli._errors import one_line_errors
from flexorm.cli._target import Target, load_target
from flexorm.protocol.encoding import encode_json
from flexorm.protocol.execute import parse_execute

if TYPE_CHECKING:  # rich is imported when rendering, not at every CLI start
    from rich.table import Table

__all__ = ["actions_command", "call_command"]

CLI_CALLER = Caller(kind="cli")
"""Who runs actions from the command line."""

_LOAD_FAILED = 2
_CALL_FAILED = 1

_app_option = click.option(
    "--app", "app_path", metavar="MODULE:ATTR",
    help="A Flex object, or the Litestar app it built (imported from the current directory).",
)


async def _action_list(target: Target, as_json: bool) -> bytes | list[dict[str, Any]]:
    async with target.runtime(purpose="list") as runtime:
        if as_json:
            return runtime.actions.action_list_json(CLI_CALLER)
        return runtime.actions.action_list(CLI_CALLER)


def _scope(descriptor: dict[str, Any]) -> tuple[str, str]:
    model_action = descriptor.get("model_action")
    if model_action is None:
        return "", "common"
    if not model_action.get("for_instance"):
        return str(model_action["model"]), "collection"
    return str(model_action["model"]), "bulk" if model_action.get("bulk") else "record"


def _params(descriptor: dict[str, Any]) -> str:
    shown = []
    for param in descriptor.get("params") or []:
        optional = "" if param.get("required", True) else "?"
        shown.append(f"{param['name']}{optional}: {param['field']}")
    return ", ".join(shown)


def _table(descriptors: Sequence[dict[str, Any]]) -> Table:
    from rich.table import Table

    table = Table(title=f"{len(descriptors)} actions")
    for column in ("action", "collection", "runs on", "parameters"):
        table.add_column(column, overflow="fold")
    for descriptor in descriptors:
        model, kind = _scope(descriptor)
        table.add_row(descriptor["name"], model, kind, _params(descriptor))
    return table


@click.command("actions")
@click.argument("database_url", required=False)
@_app_option
@click.option("--json", "as_json", is_flag=True,
              help="Print exactly the get_action_list answer.")
def actions_command(database_url: str | None, app_path: str | None, as_json: bool) -> None:
    """List the actions Jet Admin will see (the demo shop's with no URL and no --app)."""
    with one_line_errors(_LOAD_FAILED):
        target = load_target(database_url, app_path)
        target.prepare()
        listing = asyncio.run(_action_list(target, as_json))
    if isinstance(listing, bytes):
        click.echo(listing.decode("utf-8"))
    else:
        data_console().print(_table(listing))


def _param_value(text: str) -> tuple[str, Any]:
    name, sep, value = text.partition("=")
    if not sep or not name.strip():
        raise click.BadParameter(f"{text!r} is not name=value", param_hint="--param")
    # Strings as typed (validation coerces them to numbers, dates...); JSON for objects/lists.
    if value.lstrip().startswith(("{", "[")):
        try:
            return name.strip(), json.loads(value)
        except json.JSONDecodeError as exc:
            raise click.BadParameter(f"{name}: not JSON ({exc.msg})",
                                     param_hint="--param") from None
    return name.strip(), value


async def _execute(target: Target, message: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """The answer, and whether it is a queued background run."""
    request = parse_execute(message)
    async with target.runtime(purpose="call") as runtime:
        answer = await runtime.actions.execute(request, caller=CLI_CALLER)
        bound = runtime.actions.find(request.action, request.model)
        return answer, bound.declaration.background and not request.dry_run


@click.command("call")
@click.argument("action")
@_app_option
@click.option("--url", "database_url", metavar="DATABASE_URL",
              help="The database (default FLEXORM_DATABASE_URL, else the demo shop).")
@click.option("--model", help="The collection, when the action serves several.")
@click.option("--id", "record_id", metavar="ID", help="Run on this record.")
@click.option("--ids", metavar="1,2,3", help="Run on these records (comma-separated).")
@click.option("--inverse", is_flag=True, help="Run on every record except --ids.")
@click.option("--param", "params", multiple=True, metavar="NAME=VALUE",
              help="A parameter value (repeatable); JSON for objects and lists.")
@click.option("--dry-run", is_flag=True,
              help="Run, print what it would change, and roll everything back.")
@click.option("--preview-token", metavar="TOKEN",
              help="A dry run's token: save only if the run changes what it showed.")
@click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
def call_command(
    action: str,
    app_path: str | None,
    database_url: str | None,
    model: str | None,
    record_id: str | None,
    ids: str | None,
    inverse: bool,
    params: tuple[str, ...],
    dry_run: bool,
    preview_token: str | None,
    as_json: bool,
) -> None:
    """Run ACTION through the same path as execute_action, and print its result (with
    --dry-run, the whole answer: result, changes and preview token)."""
    if record_id is not None and (ids is not None or inverse):
        raise click.UsageError("--id cannot be combined with --ids or --inverse")
    values = dict(_param_value(p) for p in params)
    message: dict[str, Any] = {"name": action, "model": model, "params": values}
    if record_id is not None:
        message["id"] = record_id
    if ids is not None:
        message["ids"] = ids
    if inverse:
        message["inverseIds"] = True
    if dry_run:
        message["dry_run"] = True
    if preview_token is not None:
        message["preview_token"] = preview_token
    with one_line_errors(_LOAD_FAILED):
        target = load_target(database_url, app_path)
        target.prepare()
    with one_line_errors(_CALL_FAILED, failures_of="the action"):
        answer, queued = asyncio.run(_execute(target, message))
    if as_json:
        click.echo(encode_json(answer).decode("utf-8"))
    else:
        from rich.console import Console

        shown = answer if answer.get("dry_run") else answer["result"]
        Console(file=sys.stdout).print_json(encode_json(shown).decode("utf-8"))
    if queued:
        sys.stdout.flush()
        run = answer["result"]["run"]
        click.echo(f"run {run} is queued: the server or a worker runs it "
                   f"(flexorm runs show {run} --wait follows it)", err=True)
