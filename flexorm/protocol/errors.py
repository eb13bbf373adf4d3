"""Error answers in the protocol's shapes (section 1): which status and body each error gets.

=======================================  ======  =========================================
error                                    status  body
=======================================  ======  =========================================
RequestError (UnknownActionError)        400     ``{field or "non_field_errors": [msg]}``
ValidationError                          400     ``{param: [msgs], ...}``
ActionError                              400     ``{"non_field_errors": [msg]}``
UnknownCollectionError                   400     ``{"model": [msg]}``
NotAuthenticated / PermissionDenied      403     ``{"error": msg, "error_code": ...}``
IdempotencyConflict                      409     ``{"error": msg, "error_code": ...}``
                                                 (``idempotency_answer_not_kept``: the
                                                 key's answer was too large to keep)
PreviewMismatch                          409     ``{"error": msg, "error_code": ...}``
ConcurrencyConflict                      409     ``{"error": msg, "error_code": ...,
                                                 "reason": ...}``
DatabaseBusy                             503     ``{"error": msg, "error_code": ...}``
DatabaseTimeout                          503     ``{"error": msg, "error_code": ...}``
DatabaseUnavailable                      503     ``{"error": msg, "error_code": ...}``
ConfigurationError / DatabaseError       500     ``{"error": msg, "error_code": ...}``
an HTTP error of the framework           its     ``{"error": detail, "error_code": ...}``
anything else                            500     ``{"error": "internal server error", ...}``
=======================================  ======  =========================================

The server maps exceptions with these (:mod:`flexorm.server.errors`); nothing here ever puts
a traceback in a body.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from flexorm.exceptions import (
    NON_FIELD_ERRORS,
    ActionError,
    ConcurrencyConflict,
    ConfigurationError,
    DatabaseBusy,
    DatabaseError,
    DatabaseTimeout,
    DatabaseUnavailable,
    FlexormError,
    IdempotencyConflict,
    NotAuthenticated,
    PermissionDenied,
    PreviewMismatch,
    RequestError,
    UnknownCollectionError,
    ValidationError,
)
from flexorm.protocol.values import scrub

__all__ = ["INTERNAL_ERROR", "error_body", "http_error_body"]

_BAD_REQUEST, _FORBIDDEN, _CONFLICT, _INTERNAL, _UNAVAILABLE = 400, 403, 409, 500, 503

INTERNAL_ERROR: Mapping[str, str] = {"error": "internal server error",
                                     "error_code": "internal_error"}
"""The body of every unexpected failure (the log has the traceback)."""


def error_body(exc: FlexormError) -> tuple[int, Mapping[str, Any]]:
    """The status and body a flexorm error answers with; a lone surrogate in a message (an
    action's own text, which no JSON encoder takes) is answered as U+FFFD.

    Examples:
        >>> error_body(ActionError("out of stock"))
        (400, {'non_field_errors': ['out of stock']})
    """
    status, body = _error_body(exc)
    return status, scrub(body)


def _error_body(exc: FlexormError) -> tuple[int, Mapping[str, Any]]:
    if isinstance(exc, RequestError):
        return _BAD_REQUEST, {exc.field or NON_FIELD_ERRORS: [exc.message]}
    if isinstance(exc, ValidationError):
        errors: Mapping[str, Sequence[str]] = exc.errors or {NON_FIELD_ERRORS: [exc.message]}
        return _BAD_REQUEST, errors
    if isinstance(exc, ActionError):
        return _BAD_REQUEST, {NON_FIELD_ERRORS: [exc.message]}
    if isinstance(exc, UnknownCollectionError):
        return _BAD_REQUEST, {"model": [exc.message]}
    if isinstance(exc, NotAuthenticated):
        return _FORBIDDEN, {"error": exc.message, "error_code": "not_authenticated"}
    if isinstance(exc, PermissionDenied):
        return _FORBIDDEN, {"error": exc.message, "error_code": "permission_denied"}
    if isinstance(exc, IdempotencyConflict):
        code = ("idempotency_answer_not_kept" if exc.reason == "answer_not_kept"
                else "idempotency_conflict")
        return _CONFLICT, {"error": exc.message, "error_code": code}
    if isinstance(exc, PreviewMismatch):
        return _CONFLICT, {"error": exc.message, "error_code": "preview_mismatch"}
    if isinstance(exc, ConcurrencyConflict):
        return _CONFLICT, {"error": exc.message, "error_code": "concurrency_conflict",
                           "reason": exc.reason}
    if isinstance(exc, DatabaseBusy):
        return _UNAVAILABLE, {"error": exc.message, "error_code": "database_busy"}
    if isinstance(exc, DatabaseUnavailable):
        return _UNAVAILABLE, {"error": exc.message, "error_code": "database_unavailable"}
    if isinstance(exc, DatabaseTimeout):
        return _UNAVAILABLE, {"error": exc.message, "error_code": "database_timeout"}
    if isinstance(exc, ConfigurationError):
        return _INTERNAL, {"error": exc.message,
                                                  "error_code": "configuration_error"}
    if isinstance(exc, DatabaseError):
        return _INTERNAL, {"error": exc.message,
                                                  "error_code": "database_error"}
    return _INTERNAL, INTERNAL_ERROR


def _slug(name: str) -> str:
    out = [f"_{c.lower()}" if c.isupper() and i else c.lower() for i, c in enumerate(name)]
    return "".join(out)


def http_error_body(detail: str, exception_name: str) -> Mapping[str, Any]:
    """The body of an HTTP error the framework raised (404, 405, 413...).

    Examples:
        >>> http_error_body("Not Found", "NotFoundException")
        {'error': 'Not Found', 'error_code': 'not_found'}
    """
    code = _slug(exception_name.removesuffix("Exception")) or "http_error"
    return {"error": detail, "error_code": code}
