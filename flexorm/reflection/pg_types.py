"""PostgreSQL: each distinct column type parsed once per reflection, not once per column.

SQLAlchemy's ``get_multi_columns`` rebuilds a type from PostgreSQL's ``format_type`` text for
every column (a few regular expressions and a constructor each): for a thousand tables, eight
thousand parses of a handful of distinct texts, about a fifth of reflecting them. While
:func:`types_shared` is active, the dialect answers a text it has seen with the type it built
for it.

Only types that are plain values are shared: a ``NullType`` (an unrecognised type, whose warning
names each column) is parsed again, and so is anything that attaches itself to a table (an
``ENUM``, a ``DOMAIN``, an ``ARRAY``), whose instances are not shared between columns.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.base import SchemaEventTarget

__all__ = ["types_shared"]

_LOCK = threading.Lock()
_ACTIVE: dict[int, int] = {}  # id(dialect) -> reflections under way on it
_METHOD = "_reflect_type"


def _sharing(original: Callable[..., Any]) -> Callable[..., Any]:
    built: dict[tuple[Any, ...], Any] = {}

    def reflect_type(format_type: Any, named_type_loader: Any, *args: Any,
                     **kwargs: Any) -> Any:
        if args:  # not the keyword call this was written for: no sharing
            return original(format_type, named_type_loader, *args, **kwargs)
        key = (format_type, *sorted((k, v) for k, v in kwargs.items()
                                    if k != "type_description"))
        found = built.get(key)
        if found is not None:
            return found
        type_ = original(format_type, named_type_loader, **kwargs)
        if type_ is not sa.types.NULLTYPE and not isinstance(type_, SchemaEventTarget):
            built[key] = type_
        return type_

    return reflect_type


@contextlib.contextmanager
def types_shared(dialect: sa.Dialect) -> Iterator[None]:
    """Share parsed column types on ``dialect`` (this instance only) for the duration.

    Nothing changes for a dialect without SQLAlchemy's ``_reflect_type`` (another version),
    and the dialect is as before once the last reflection using it ends.
    """
    original = getattr(type(dialect), _METHOD, None)
    if original is None:
        yield
        return
    with _LOCK:
        count = _ACTIVE.get(id(dialect), 0)
        if not count:
            setattr(dialect, _METHOD, _sharing(getattr(dialect, _METHOD)))
        _ACTIVE[id(dialect)] = count + 1
    try:
        yield
    finally:
        with _LOCK:
            count = _ACTIVE.pop(id(dialect)) - 1
            if count:
                _ACTIVE[id(dialect)] = count
            else:
                with contextlib.suppress(AttributeError):
                    delattr(dialect, _METHOD)
