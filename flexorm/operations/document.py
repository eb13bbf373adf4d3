"""The OpenAPI 3.1 document of a running flexorm: every action, the messages endpoint, the
model descriptions and the health check, with request and response schemas and errors.

Each action's request body is exactly its MCP tool's input schema, and its ``operationId`` is
the tool's name (:mod:`flexorm.calls`). The document is plain data, built once per runtime.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from flexorm.actions.service import ActionService
from flexorm.calls.catalog import CallableAction, catalog
from flexorm.calls.schema import ERROR_SCHEMA, OUTPUT_SCHEMA
from flexorm.protocol.encoding import encode_json

__all__ = ["openapi_document", "openapi_json"]

_JSON = "application/json"

_ERROR: Mapping[str, Any] = {
    "type": "object",
    "properties": {"error": {"type": "string"}, "error_code": {"type": "string"}},
    "required": ["error", "error_code"],
}
"""Refusals that are not about a field: 403, 404, 409, 413, 503."""


def _content(schema: Mapping[str, Any]) -> dict[str, Any]:
    return {"content": {_JSON: {"schema": schema}}}


def _errors(*, body: bool) -> dict[str, Any]:
    responses: dict[str, Any] = {
        "403": {"description": "No or wrong credentials, or the caller may not do this.",
                **_content(_ERROR)},
        "503": {"description": "flexorm is starting, or the database is unreachable.",
                **_content(_ERROR)},
    }
    if body:
        responses["400"] = {"description": "Invalid input: messages per parameter "
                                           "(non_field_errors: about the request itself).",
                            **_content(ERROR_SCHEMA)}
        responses["413"] = {"description": "The body is too large.", **_content(_ERROR)}
    return responses


_IDEMPOTENCY_KEY: Mapping[str, Any] = {
    "name": "Idempotency-Key", "in": "header", "required": False,
    "description": "Run once: a retry with the same key answers the stored answer.",
    "schema": {"type": "string", "maxLength": 255}}


def _operation(entry: CallableAction) -> dict[str, Any]:
    bound = entry.bound
    keyed = bound.declaration.recorded  # an action the journal does not record takes no key
    conflict = ("The Idempotency-Key was used for another request, or a request holding it "
                "still runs; or another action held what this one needed for too long."
                if keyed else "Another action held what this one needed for too long.")
    responses = {
        "200": {"description": "The action ran and committed: what it returned.",
                **_content(OUTPUT_SCHEMA)},
        **_errors(body=True),
        "409": {"description": conflict, **_content(_ERROR)},
    }
    parameters = [_IDEMPOTENCY_KEY] if keyed else []
    return {"post": {
        "operationId": entry.tool,
        "summary": entry.title,
        "description": entry.description,
        "tags": [bound.collection.name if bound.collection else "common actions"],
        "parameters": parameters,
        "requestBody": {"required": False, **_content(entry.input_schema)},
        "responses": responses,
    }}


_MESSAGES: Mapping[str, Any] = {"post": {
    "operationId": "messages",
    "summary": "Jet Admin messages",
    "description": "get_action_list, execute_action and get_field_options, as Jet Admin's "
                   "FlexActions protocol sends them.",
    "tags": ["Jet Admin"],
    "requestBody": {"required": True, **_content({
        "type": "object",
        "properties": {"name": {"type": "string", "description":
                                "get_action_list, execute_action, get_field_options, or a "
                                "message a handler answers"},
                       "params": {"type": "object"}},
        "required": ["name"],
    })},
    # no content type: the protocol answers a message nobody handles with an empty body (still
    # labelled application/json), which no JSON schema describes
    "responses": {"200": {"description": "The message's answer, JSON; an empty body for a "
                                         "message no handler answers."},
                  **_errors(body=True),
                  "409": {"description": "An idempotency conflict.", **_content(_ERROR)}},
}}

_DESCRIPTIONS: Mapping[str, Any] = {"get": {
    "operationId": "model_descriptions",
    "summary": "Collections and fields",
    "description": "Every served collection, as Jet Admin reads it.",
    "tags": ["Jet Admin"],
    "responses": {"200": {"description": "The model descriptions.",
                          **_content({"type": "array", "items": {"type": "object"}})},
                  "304": {"description": "Unchanged since the If-None-Match tag."},
                  **_errors(body=False)},
}}

_HEALTH: Mapping[str, Any] = {"get": {
    "operationId": "health",
    "summary": "Health check",
    "tags": ["flexorm"],
    "security": [],
    "responses": {
        "200": {"description": "Serving.", **_content({"type": "object"})},
        "503": {"description": "Starting.", **_content({"type": "object"})},
    },
}}

_SECURITY_SCHEMES: Mapping[str, Any] = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "A shared key: Authorization: Bearer <key> (FLEXORM_TOKEN)."},
    "jet": {"type": "apiKey", "in": "header", "name": "Authorization",
            "description": "Jet Admin's credentials: Authorization: JWT <token> (or Token "
                           "<project token>)."},
}


def _version() -> str:
    try:
        return version("flexorm")
    except PackageNotFoundError:  # running from a source tree
        return "0"


def openapi_document(service: ActionService, *, secured: bool = True) -> dict[str, Any]:
    """The OpenAPI 3.1 document of ``service``'s actions (and flexorm's other endpoints).

    Args:
        secured: the server asks for credentials (not ``insecure``): declare the schemes.
    """
    paths: dict[str, Any] = {
        "/api/messages/": _MESSAGES,
        "/api/model_descriptions/": _DESCRIPTIONS,
        "/health": _HEALTH,
    }
    for entry in catalog(service).entries:
        paths[entry.path] = _operation(entry)
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "flexorm", "version": _version(),
                 "description": "The actions of this database, each a typed operation; and "
                                "Jet Admin's FlexActions protocol."},
        "paths": paths,
        "components": {},
    }
    if secured:
        document["components"]["securitySchemes"] = dict(_SECURITY_SCHEMES)
        document["security"] = [{"bearer": []}, {"jet": []}]
    return document


_ENCODED: weakref.WeakKeyDictionary[ActionService, dict[bool, bytes]] = (
    weakref.WeakKeyDictionary())


def openapi_json(service: ActionService, *, secured: bool = True) -> bytes:
    """:func:`openapi_document` as JSON bytes, encoded once per service."""
    per_service = _ENCODED.setdefault(service, {})
    encoded = per_service.get(secured)
    if encoded is None:
        encoded = per_service[secured] = encode_json(openapi_document(service, secured=secured))
    return encoded
