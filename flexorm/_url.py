"""Database URLs: accept what users type, pick the drivers flexorm needs."""

from __future__ import annotations

import re

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from flexorm.exceptions import ConfigurationError

__all__ = ["async_url", "parse_url", "redact_url", "sync_url"]

# ``scheme://user:PASSWORD@``: what stands between the user's colon and the last ``@``
_PASSWORD = re.compile(r"(://[^/@:]*:)[^/]*@")
_QUERY_SECRET = re.compile(r"([?&][^=&#]*(?:pass|pwd|secret|token)[^=&#]*=)[^&#]*",
                           re.IGNORECASE)
"""A query parameter whose value is hidden in a shown URL (``password``, ``sslpassword``...)."""

# backend name -> (async driver, sync driver). A URL naming another driver keeps it.
_DRIVERS: dict[str, tuple[str, str]] = {
    "sqlite": ("aiosqlite", "pysqlite"),
    "postgresql": ("psycopg", "psycopg"),
    "mysql": ("aiomysql", "pymysql"),
    "mariadb": ("aiomysql", "pymysql"),
    "oracle": ("oracledb_async", "oracledb"),
    "mssql": ("aioodbc", "pyodbc"),
}
_ASYNC_DRIVERS = {"aiosqlite", "psycopg", "psycopg_async", "asyncpg", "aiomysql", "asyncmy",
                  "oracledb_async", "aioodbc"}
_ASYNC_TO_SYNC = {"aiosqlite": "pysqlite", "psycopg_async": "psycopg", "asyncpg": "psycopg",
                  "aiomysql": "pymysql", "asyncmy": "pymysql", "oracledb_async": "oracledb",
                  "aioodbc": "pyodbc"}


def parse_url(url: str | URL) -> URL:
    """Parse a database URL, turning SQLAlchemy's error into a :class:`ConfigurationError`.

    ``postgres://`` (Heroku style) is read as ``postgresql://``.
    """
    if isinstance(url, URL):
        return url
    text = url.strip()
    if text.startswith("postgres://"):
        text = "postgresql://" + text[len("postgres://"):]
    try:
        return make_url(text)
    except (ArgumentError, ValueError) as exc:  # ValueError: a port that is not a number
        raise ConfigurationError(f"not a database URL: {redact_url(text)!r}") from exc


def async_url(url: str | URL) -> URL:
    """The URL with an async driver: ``sqlite:///x.db`` becomes ``sqlite+aiosqlite:///x.db``.

    Examples:
        >>> async_url("postgresql://u@h/db").drivername
        'postgresql+psycopg'
    """
    parsed = parse_url(url)
    backend, _, driver = parsed.drivername.partition("+")
    if driver in _ASYNC_DRIVERS:
        return parsed
    if backend in _DRIVERS:
        return parsed.set(drivername=f"{backend}+{_DRIVERS[backend][0]}")
    return parsed


def sync_url(url: str | URL) -> URL:
    """The URL with a blocking driver, for action bodies that run in a worker thread."""
    parsed = parse_url(url)
    backend, _, driver = parsed.drivername.partition("+")
    if driver in _ASYNC_TO_SYNC:
        return parsed.set(drivername=f"{backend}+{_ASYNC_TO_SYNC[driver]}")
    if not driver and backend in _DRIVERS:
        return parsed.set(drivername=f"{backend}+{_DRIVERS[backend][1]}")
    return parsed


def redact_url(url: str | URL) -> str:
    """The URL as text with its password hidden, safe for logs and error messages.

    Text that does not parse is shown as typed, with anything in a password's place hidden, so
    that a message about it still says what was wrong with it.

    A password given as a query parameter (``?password=...``, libpq's ``sslpassword``) is
    hidden too.

    Examples:
        >>> redact_url("postgresql://app:s3cret@db/shop")
        'postgresql://app:***@db/shop'
        >>> redact_url("postgresql://app@db/shop?password=s3cret&sslmode=require")
        'postgresql://app@db/shop?password=***&sslmode=require'
        >>> redact_url("not-a-url")
        'not-a-url'
    """
    try:
        shown = (url if isinstance(url, URL) else make_url(url)).render_as_string(
            hide_password=True)
    except (ArgumentError, ValueError):
        shown = _PASSWORD.sub(r"\1***@", str(url))
    return _QUERY_SECRET.sub(r"\1***", shown)
