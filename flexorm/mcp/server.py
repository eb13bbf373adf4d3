"""The MCP server: one tool per action, the collections as resources, and a field search.

Built on the official SDK's low-level ``Server`` (this module imports the SDK; nothing imports
this module until the first request reaches ``/mcp``). Every handler reads who is calling and
which runtime serves them from the HTTP request the endpoint authenticated
(:class:`~flexorm.mcp.scope.CallScope`), so the tool list is filtered by the caller's
policies, every call is guarded by them, and a request keeps the runtime it started with.

- ``tools/list``: the actions the caller may run (as ``get_action_list`` filters them), each
  with its flat input schema, ``{"result": ...}`` output schema and hints, plus
  ``get_field_options``;
- ``tools/call``: the action, through :func:`flexorm.calls.call`. The answer is structured
  content ``{"result": value}``; a refused or invalid call is a tool error whose structured
  content holds the per-field messages Jet Admin gets (``{"amount": ["Enter a number."]}``);
- ``resources/list`` and ``resources/read``: each collection's model description, as
  ``/api/model_descriptions/`` shows it, at ``flexorm://collections/<name>``.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import AsyncIterator, Mapping
from importlib.metadata import PackageNotFoundError, version
from types import MappingProxyType
from typing import Any
from urllib.parse import quote, unquote

from mcp import types
from mcp.server.context import ServerRequestContext
from mcp.server.lowlevel import Server
from mcp.shared.exceptions import MCPError

from flexorm.calls.catalog import FIELD_OPTIONS_TOOL, CallableAction, catalog
from flexorm.calls.invoke import call
from flexorm.calls.schema import OUTPUT_SCHEMA
from flexorm.db_errors import outage, translate
from flexorm.exceptions import NON_FIELD_ERRORS, FlexormError, RequestError
from flexorm.mcp.scope import CallScope, call_scope
from flexorm.protocol.encoding import encode_json
from flexorm.protocol.errors import INTERNAL_ERROR, error_body
from flexorm.protocol.requests import FieldOptionsRequest
from flexorm.reflection.descriptions import model_description

__all__ = ["LIFESPAN_STATE", "RESOURCE_PREFIX", "build_server", "tool_error"]

logger = logging.getLogger("flexorm.mcp")

RESOURCE_PREFIX = "flexorm://collections/"

_FIELD_OPTIONS_INPUT: Mapping[str, Any] = {
    "type": "object",
    "properties": {
        "tool": {"type": "string",
                 "description": "The tool (action) whose parameter it is."},
        "field": {"type": "string", "description": "The parameter's name."},
        "query": {"type": "string", "description": "Text to look for (empty: the first ones)."},
    },
    "required": ["tool", "field"],
    "additionalProperties": False,
}
_FIELD_OPTIONS_OUTPUT: Mapping[str, Any] = {
    "type": "object",
    "properties": {"options": {"type": "array", "items": {
        "type": "object",
        "properties": {"value": {"description": "What to send for the parameter."},
                       "name": {"type": "string", "description": "What it stands for."}},
        "required": ["value", "name"],
    }}},
    "required": ["options"],
}
_FIELD_OPTIONS_DESCRIPTION = (
    "Search the options of a parameter of another tool: the records a reference (ForeignKey) "
    "parameter may name, or the values a choice (SelectField) parameter accepts. Answers "
    "{value, name} pairs; send the value.")


def _version() -> str:
    try:
        return version("flexorm")
    except PackageNotFoundError:  # running from a source tree
        return "0"


def tool_error(exc: BaseException) -> dict[str, Any]:
    """The structured content of a refused or failed call: the body Jet Admin would get.

    A database error is answered as :mod:`flexorm.server.errors` answers it over HTTP: what
    :func:`flexorm.db_errors.translate` knows (a constraint, an unreachable database, a lock
    held too long...) as flexorm's error for it."""
    error = exc if isinstance(exc, FlexormError) else translate(exc)
    if error is None:
        logger.error("an MCP tool call failed with an unexpected error", exc_info=exc)
        return dict(INTERNAL_ERROR)
    status, body = error_body(error)
    down = outage(exc)
    if down is not None:
        logger.warning("an MCP tool call: %s", down)
    elif status >= 500:
        logger.error("an MCP tool call failed: %s", error.message, exc_info=exc)
    return dict(body)


def _error_text(body: Mapping[str, Any]) -> str:
    if "error" in body:
        return str(body["error"])
    lines = []
    for field, messages in body.items():
        shown = " ".join(str(m) for m in messages) if isinstance(messages, list) else messages
        lines.append(shown if field == NON_FIELD_ERRORS else f"{field}: {shown}")
    return "\n".join(lines)


def _result(structured: Mapping[str, Any], *, error: bool = False) -> types.CallToolResult:
    """The answer of a call. Built by the models' own constructors: they check the top level
    only (the structured content's values are taken as they are), a third of what
    ``model_construct`` costs on models with this many fields."""
    text = _error_text(structured) if error else encode_json(structured).decode()
    return types.CallToolResult(content=[types.TextContent(type="text", text=text)],
                                structured_content=dict(structured), is_error=error)


def _tool(entry: CallableAction) -> types.Tool:
    return types.Tool.model_validate({
        "name": entry.tool,
        "title": entry.title,
        "description": entry.description,
        "inputSchema": entry.input_schema,
        "outputSchema": OUTPUT_SCHEMA,
        "annotations": entry.hints(),
    })


_OPTIONS_TOOL = {
    "name": FIELD_OPTIONS_TOOL,
    "title": "Search a parameter's options",
    "description": _FIELD_OPTIONS_DESCRIPTION,
    "inputSchema": _FIELD_OPTIONS_INPUT,
    "outputSchema": _FIELD_OPTIONS_OUTPUT,
    "annotations": {"title": "Search a parameter's options", "readOnlyHint": True,
                    "destructiveHint": False, "idempotentHint": True, "openWorldHint": False},
}


def _scope(ctx: ServerRequestContext[Any, Any]) -> CallScope:
    found = call_scope(ctx.request)
    if found is None:  # only flexorm's endpoint serves this server
        raise MCPError(types.INTERNAL_ERROR, "flexorm's MCP server runs behind its endpoint")
    return found


def _input_schema(name: str) -> Mapping[str, Any] | None:
    """The schema the SDK checks a 2026 call's ``Mcp-Param-*`` headers against: none, as no
    flexorm tool declares a header (``x-mcp-header``) in its input schema, so there is nothing
    a header could contradict. Without this hook the SDK would list every tool the caller sees,
    on each call with arguments, to find the schema, and walk it to find no header."""
    return None


async def _list_tools(ctx: ServerRequestContext[Any, Any],
                      params: types.PaginatedRequestParams | None) -> types.ListToolsResult:
    scope = _scope(ctx)
    entries = await catalog(scope.service).visible(scope.caller)
    tools = [_tool(entry) for entry in entries]
    tools.append(types.Tool.model_validate(_OPTIONS_TOOL))
    return types.ListToolsResult(tools=tools)


def _text(arguments: Mapping[str, Any], key: str) -> str | None:
    value = arguments.get(key)
    if value is not None and not isinstance(value, str):
        raise RequestError("Must be a string.", field=key)
    return value


async def _field_options(scope: CallScope, arguments: Mapping[str, Any]) -> dict[str, Any]:
    unknown = set(arguments) - {"tool", "field", "query"}
    if unknown:
        raise RequestError("Unknown parameter.", field=sorted(unknown)[0][:100])
    tool, field = _text(arguments, "tool"), _text(arguments, "field")
    if not tool or not field:
        raise RequestError("This field is required.", field="field" if tool else "tool")
    query = _text(arguments, "query")
    found = catalog(scope.service)
    entry = found.by_tool.get(tool)
    if entry is None:
        raise RequestError(f"unknown tool {tool[:100]!r}", field="tool")
    bound = entry.bound
    request = FieldOptionsRequest(field=field, action=bound.name,
                                  model=bound.collection.name if bound.collection else None,
                                  query=query or None)
    return {"options": await scope.service.field_options(request, caller=scope.caller)}


async def _call_tool(ctx: ServerRequestContext[Any, Any],
                     params: types.CallToolRequestParams) -> types.CallToolResult:
    scope = _scope(ctx)
    arguments = params.arguments or {}
    try:
        if params.name == FIELD_OPTIONS_TOOL:
            return _result(await _field_options(scope, arguments))
        entry = catalog(scope.service).by_tool.get(params.name)
        if entry is None:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool {params.name[:100]!r}")
        # a tool the caller's list leaves out is refused as Jet Admin's execute_action
        # refuses it: by the action service, which guards every run
        answer = await call(scope.service, entry, arguments, caller=scope.caller,
                            interface="mcp", raw_request=ctx.request)
    except MCPError:
        raise
    except Exception as exc:
        return _result(tool_error(exc), error=True)
    return _result(answer)


async def _list_resources(ctx: ServerRequestContext[Any, Any],
                          params: types.PaginatedRequestParams | None
                          ) -> types.ListResourcesResult:
    scope = _scope(ctx)
    resources = [
        {"uri": RESOURCE_PREFIX + quote(collection.name, safe=""), "name": collection.name,
         "description": f"The fields and relations of the {collection.name} collection, "
                        "as Jet Admin's model description.",
         "mimeType": "application/json"}
        for collection in sorted(scope.schema, key=lambda c: c.name)
    ]
    return types.ListResourcesResult.model_validate({"resources": resources})


async def _read_resource(ctx: ServerRequestContext[Any, Any],
                         params: types.ReadResourceRequestParams) -> types.ReadResourceResult:
    scope = _scope(ctx)
    uri = str(params.uri)
    name = unquote(uri.removeprefix(RESOURCE_PREFIX)) if uri.startswith(RESOURCE_PREFIX) else None
    collection = scope.schema.collections.get(name) if name is not None else None
    if collection is None:
        raise MCPError(types.INVALID_PARAMS, f"unknown resource {uri[:200]!r}")
    text = json.dumps(model_description(collection, scope.schema.dialect), default=str)
    return types.ReadResourceResult.model_validate(
        {"contents": [{"uri": uri, "mimeType": "application/json", "text": text}]})


LIFESPAN_STATE: Mapping[str, Any] = MappingProxyType({})
"""What the server's lifespan yields: nothing (a call's caller and runtime come with its
request), the same for every request however it is answered."""


@contextlib.asynccontextmanager
async def _lifespan(_server: Server[Any]) -> AsyncIterator[Mapping[str, Any]]:
    yield LIFESPAN_STATE


def build_server() -> Server[Any]:
    """flexorm's MCP server (without a transport: the endpoint serves it)."""
    return Server(
        "flexorm",
        lifespan=_lifespan,
        version=_version(),
        instructions=("Each tool runs one flexorm action on the database, in one transaction. "
                      "Use get_field_options to find the id a reference parameter needs; the "
                      "resources describe each collection's fields."),
        get_tool_input_schema=_input_schema,
        on_list_tools=_list_tools,
        on_call_tool=_call_tool,
        on_list_resources=_list_resources,
        on_read_resource=_read_resource,
    )
