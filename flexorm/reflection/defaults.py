"""Server defaults as Jet Admin shows them: ``default_type`` and a clean ``default_value``.

Databases report defaults as SQL text: PostgreSQL as ``'new'::character varying``,
``nextval('t_id_seq'::regclass)`` or ``now()``; SQLite as written (``'new'``,
``CURRENT_TIMESTAMP``, ``(datetime('now'))``). Expressions that are not a plain literal or a
known generator give no default description (the column is still optional).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.types import TypeEngine

__all__ = ["DefaultInfo", "describe_default"]

DefaultType = Literal["sequence", "datetime_now", "uuid", "value"]


@dataclass(frozen=True, slots=True)
class DefaultInfo:
    """A default as the model description states it."""

    type: DefaultType
    value: Any = None
    """The literal, for ``type == "value"``; for a ``sequence`` named by ``nextval(...)``, its
    argument as the database shows it (``'t_id_seq'::regclass``), as the reference bridge sends."""


_NOW = re.compile(
    r"^(now\(\)|current_timestamp(\(\d*\))?|localtimestamp(\(\d*\))?|current_date|"
    r"transaction_timestamp\(\)|statement_timestamp\(\)|clock_timestamp\(\)|"
    r"getdate\(\)|sysdatetime\(\)|datetime\('now'(,\s*'[^']*')*\))"
    r"(\s+at\s+time\s+zone\s+.+)?$",
    re.IGNORECASE,
)
_NEXTVAL = re.compile(r"^nextval\((.+)\)$", re.IGNORECASE)
_UUID = re.compile(r"^(gen_random_uuid|uuid_generate_v[14]|uuidv[47]|newid)\(\)$", re.IGNORECASE)
_CAST = re.compile(r"::[A-Za-z_][\w ]*(\(\d+(,\s*\d+)?\))?(\[\])*$")
_STRING = re.compile(r"^[eEnN]?'((?:[^']|'')*)'$")
_NUMBER = re.compile(r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$")


def _unwrap(text: str) -> str:
    """Strip outer parentheses and trailing PostgreSQL casts, repeatedly."""
    previous = None
    while text != previous:
        previous = text
        text = text.strip()
        if text.startswith("(") and text.endswith(")") and _balanced(text[1:-1]):
            text = text[1:-1]
        text = _CAST.sub("", text) if not text.endswith("'") else text
    return text


def _balanced(text: str) -> bool:
    depth = 0
    quoted = False
    for char in text:
        if char == "'":
            quoted = not quoted
        elif not quoted and char == "(":
            depth += 1
        elif not quoted and char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0 and not quoted


def _literal(text: str) -> tuple[bool, Any]:
    """``(True, value)`` for a plain literal, else ``(False, None)``."""
    string = _STRING.match(text)
    if string:
        return True, string.group(1).replace("''", "'")
    lowered = text.lower()
    if lowered in ("true", "false"):
        return True, lowered == "true"
    if _NUMBER.match(text):
        number = float(text)
        return True, int(number) if number.is_integer() and "." not in text else number
    return False, None


def _is_boolean(type_: TypeEngine[Any] | None) -> bool:
    """A boolean, or MySQL's (``TINYINT(1)``)."""
    if isinstance(type_, sa.Boolean):
        return True
    return (isinstance(type_, sa.Integer) and type_.__visit_name__ == "TINYINT"
            and getattr(type_, "display_width", None) == 1)


def _coerce(value: Any, type_: TypeEngine[Any] | None) -> Any:
    """Read a literal as the column's type: ``'1'`` for a boolean, ``'42'`` for an integer."""
    if _is_boolean(type_):
        if isinstance(value, str) and value.lower() in ("t", "true", "1", "y", "yes", "on"):
            return True
        if isinstance(value, str) and value.lower() in ("f", "false", "0", "n", "no", "off"):
            return False
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
    elif isinstance(type_, (sa.Integer, sa.Numeric, sa.Float)) and isinstance(value, str):
        found, number = _literal(value.strip())
        if found and not isinstance(number, (str, bool)):
            return number
    return value


def describe_default(
    server_default: str | None,
    *,
    autoincrement: bool = False,
    type_: TypeEngine[Any] | None = None,
) -> DefaultInfo | None:
    """How a column's default is described, or ``None`` when there is nothing to say.

    Examples:
        >>> describe_default("'new'::character varying")
        DefaultInfo(type='value', value='new')
        >>> describe_default("nextval('t_id_seq'::regclass)")
        DefaultInfo(type='sequence', value="'t_id_seq'::regclass")
        >>> describe_default("CURRENT_TIMESTAMP").type
        'datetime_now'
    """
    if server_default is not None:
        sequence = _NEXTVAL.match(server_default.strip())
        if sequence is not None:
            return DefaultInfo("sequence", sequence.group(1))
    if autoincrement:
        return DefaultInfo("sequence")
    if server_default is None:
        return None
    text = _unwrap(server_default)
    if _NOW.match(text):
        return DefaultInfo("datetime_now")
    if _UUID.match(text):
        return DefaultInfo("uuid")
    if text.lower() == "null":
        return None
    found, value = _literal(text)
    if not found:
        return None
    return DefaultInfo("value", _coerce(value, type_))
