"""Exceptions become HTTP answers here, in the protocol's shapes (:mod:`flexorm.protocol.errors`).

A database error raised outside an action's run (an idempotency claim, the journal) is answered
as :mod:`flexorm.db_errors` translates it (409, 400 or 503, a constraint's refusal a 400 too),
else as an unexpected error.

Nothing here ever puts a traceback in a body; unexpected errors are logged with one.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import SQLAlchemyError

from flexorm.db_errors import outage, translate
from flexorm.exceptions import FlexormError
from flexorm.protocol.encoding import encode_json
from flexorm.protocol.errors import INTERNAL_ERROR, error_body, http_error_body

__all__ = ["exception_handlers", "http_exception_handlers"]

logger = logging.getLogger("flexorm.server")

_JSON = "application/json"


def _json(status: int, body: Mapping[str, Any]) -> Response[bytes]:
    return Response(content=encode_json(body), status_code=status, media_type=_JSON)


def _on_flexorm_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    assert isinstance(exc, FlexormError)
    status, body = error_body(exc)
    down = outage(exc)
    if down is not None:
        logger.warning("%s %s: %s", request.method, request.url.path, down)
    elif status >= HTTP_500_INTERNAL_SERVER_ERROR:
        logger.error("%s %s failed: %s", request.method, request.url.path, exc.message,
                     exc_info=exc)
    return _json(status, body)


def _on_http_exception(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    assert isinstance(exc, HTTPException)
    status = exc.status_code
    if status >= HTTP_500_INTERNAL_SERVER_ERROR:
        logger.error("%s %s failed", request.method, request.url.path, exc_info=exc)
        return _json(status, INTERNAL_ERROR)
    headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"}
    return Response(content=encode_json(http_error_body(exc.detail, type(exc).__name__)),
                    status_code=status, media_type=_JSON, headers=headers)


def _on_database_error(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    """A database error outside an action's run (the journal, an idempotency claim), or the
    pool's wait for a connection given up: answered as :mod:`flexorm.db_errors` says, else as
    unexpected."""
    error = translate(exc)
    if error is None:
        return _on_unexpected(request, exc)
    if outage(exc) is None:  # an outage is logged once, by the answer's handler
        logger.warning("%s %s: %s", request.method, request.url.path, exc)
    error.__cause__ = exc
    return _on_flexorm_error(request, error)


def _on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[bytes]:
    logger.error("%s %s failed with an unexpected error", request.method, request.url.path,
                 exc_info=exc)
    return _json(HTTP_500_INTERNAL_SERVER_ERROR, INTERNAL_ERROR)


def exception_handlers() -> ExceptionHandlersMap:
    """Handlers for flexorm's routes: every exception, in the protocol's shapes."""
    return {
        FlexormError: _on_flexorm_error,
        HTTPException: _on_http_exception,
        SQLAlchemyError: _on_database_error,
        Exception: _on_unexpected,
    }


def http_exception_handlers() -> ExceptionHandlersMap:
    """Handlers for a whole app that flexorm is alone in: the router's 404 and 405 too."""
    return {HTTPException: _on_http_exception}
