"""The one place where errors become HTTP answers in the protocol's shapes (section 1).

=======================================  ======  =========================================
error                                    status  body
=======================================  ======  =========================================
RequestError (UnknownActionError)        400     ``{field or "non_field_errors": [msg]}``
ValidationError                          400     ``{param: [msgs], ...}``
ActionError                              400     ``{"non_field_errors": [msg]}``
UnknownCollectionError                   400     ``{"model": [msg]}``
NotAuthenticated / PermissionDenied      403     ``{"error": msg, "error_code": ...}``
IdempotencyConflict                      409     ``{"error": msg, "error_code": ...}``
ConfigurationError / DatabaseError       500     ``{"error": msg, "error_code": ...}``
a constraint the database enforces       400     ``{"non_field_errors": [its first line]}``
Litestar's HTTPException (404, 413...)   its     ``{"error": detail, "error_code": ...}``
anything else                            500     ``{"error": "internal server error", ...}``
=======================================  ======  =========================================

Nothing here ever puts a traceback in a body; unexpected errors are logged with one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.status_codes import (
    HTTP_400_BAD_REQUEST,
    HTTP_403_FORBIDDEN,
    HTTP_409_CONFLICT,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import IntegrityError

from flexorm.exceptions import (
    NON_FIELD_ERRORS,
    ActionError,
    ConfigurationError,
    DatabaseError,
    FlexormError,
    IdempotencyConflict,
    NotAuthenticated,
    PermissionDenied,
    RequestError,
    UnknownCollectionError,
    ValidationError,
)
from flexorm.protocol.encoding import encode_json

__all__ = ["error_body", "exception_handlers", "http_exception_handlers"]

logger = logging.getLogger("flexorm.server")

_JSON = "application/json"
_INTERNAL = {"error": "internal server error", "error_code": "internal_error"}


def error_body(exc: FlexormError) -> tuple[int, Mapping[str, Any]]:
    """The status and body a flexorm error answers with."""
    if isinstance(exc, RequestError):
        return HTTP_400_BAD_REQUEST, {exc.field or NON_FIELD_ERRORS: [exc.message]}
    if isinstance(exc, ValidationError):
        errors: Mapping[str, Sequence[str]] = exc.errors or {NON_FIELD_ERRORS: [exc.message]}
        return HTTP_400_BAD_REQUEST, errors
    if isinstance(exc, ActionError):
        return HTTP_400_BAD_REQUEST, {NON_FIELD_ERRORS: [exc.message]}
    if isinstance(exc, UnknownCollectionError):
        return HTTP_400_BAD_REQUEST, {"model": [exc.message]}
    if isinstance(exc, NotAuthenticated):
        return HTTP_403_FORBIDDEN, {"error": exc.message, "error_code": "not_authenticated"}
    if isinstance(exc, PermissionDenied):
        return HTTP_403_FORBIDDEN, {"error": exc.message, "error_code": "permission_denied"}
    if isinstance(exc, IdempotencyConflict):
        return HTTP_409_CONFLICT, {"error": exc.message, "error_code": "idempotency_conflict"}
    if isinstance(exc, ConfigurationError):
        return HTTP_500_INTERNAL_SERVER_ERROR, {"error": exc.message,
                                                "error_code": "configuration_error"}
    if isinstance(exc, DatabaseError):
        return HTTP_500_INTERNAL_SERVER_ERROR, {"error": exc.message,
                                                "error_code": "database_error"}
    return HTTP_500_INTERNAL_SERVER_ERROR, _INTERNAL


def _json(status: int, body: Mapping[str, Any]) -> Response[bytes]:
    return Response(content=encode_json(body), status_code=status, media_type=_JSON)


def _on_flexorm_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    assert isinstance(exc, FlexormError)
    status, body = error_body(exc)
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        logger.error("%s %s failed: %s", request.method, request.url.path, exc.message,
                     exc_info=exc)
    return _json(status, body)


def _on_http_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _json(status, _INTERNAL)
    code = _slug(type(exc).__name__.removesuffix("Exception")) or "http_error"
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"}
    return Response(content=encode_json({"error": exc.detail, "error_code": code}),
                    status_code=status, media_type=_JSON, headers=headers)


def _on_constraint(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """A unique, foreign key, not-null or check constraint (a DOMAIN's too) refused what an
    action wrote: the transaction is rolled back, and the user is told which constraint. Only
    the first line of the database's message is shown (the DETAIL line can hold row values)."""
    assert isinstance(exc, IntegrityError)
    origin = exc.orig if exc.orig is not None else exc
    lines = str(origin).strip().splitlines()
    detail = lines[0] if lines else "a constraint failed"
    logger.info("%s %s: the database refused the change: %s", request.method, request.url.path,
                detail)
    return _json(HTTP_400_BAD_REQUEST,
                 {NON_FIELD_ERRORS: [f"The database refused the change: {detail}"]})


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    logger.error("%s %s failed with an unexpected error", request.method, request.url.path,
                 exc_info=exc)
    return _json(HTTP_500_INTERNAL_SERVER_ERROR, _INTERNAL)


def _slug(name: str) -> str:
    out = [f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name)]
    return "".join(out)


def exception_handlers() -> ExceptionHandlersMap:
    """Handlers for flexorm's routes: every exception, in the protocol's shapes."""
    return {
        FlexormError: _on_flexorm_error,
        HTTPException: _on_http_exception,
        IntegrityError: _on_constraint,
        Exception: _on_unexpected,
    }


def http_exception_handlers() -> ExceptionHandlersMap:
    """Handlers for a whole app that flexorm is alone in: the router's 404 and 405 too."""
    return {HTTPException: _on_http_exception}
