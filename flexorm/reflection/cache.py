"""The warm start: reflected schemas kept on disk, reused while the database's fingerprint holds.

A start computes the schema's fingerprint (:mod:`flexorm.reflection.fingerprint`, one query) and
loads the cached :class:`SchemaInfo` stored under the same fingerprint; anything else (no file, a
different fingerprint, an unreadable or foreign file, another flexorm, SQLAlchemy or Python version)
reflects afresh and stores the result. The fingerprint is taken *before* reflecting, so a schema
changed during reflection is stored under the old fingerprint and reflected again next time:
the cache may miss, it never serves a stale schema.

Where: ``$FLEXORM_CACHE_DIR``, else ``$XDG_CACHE_HOME/flexorm``, else ``~/.cache/flexorm``; one
file per database URL (password left out) and reflection settings (schemas, include, exclude).
Files are pickles: the folder is created private to the user (0700) and a file that is not the
user's own, or that others may write, is ignored. With a ``rename`` hook the cache is not used at
all (a hook is code: its answers can change without anything in the database changing).
``Settings.reflection_cache = False`` (``FLEXORM_REFLECTION_CACHE=0``) turns it off.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import platform
import stat
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

from flexorm._gc import gc_paused
from flexorm._url import parse_url, redact_url
from flexorm.database import run_blocking
from flexorm.exceptions import DatabaseError, first_line
from flexorm.reflection.fingerprint import fingerprint
from flexorm.reflection.records import SchemaInfo
from flexorm.reflection.reflector import Progress, reflect_sync
from flexorm.settings import Settings

__all__ = [
    "CacheOutcome",
    "cache_dir",
    "cache_file",
    "current_fingerprint",
    "load_cached",
    "reflect_cached",
    "reflect_cached_sync",
    "store_cached",
]

logger = logging.getLogger("flexorm.reflection")

FORMAT = 7
"""Bumped whenever the records or this file's layout change."""


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def _environment() -> tuple[Any, ...]:
    """What must match for a pickle to be trusted: versions of everything that shapes it."""
    return (FORMAT, _version("flexorm"), sa.__version__, platform.python_version())


def cache_dir() -> Path:
    """The folder of cached schemas (see the module's documentation)."""
    configured = os.environ.get("FLEXORM_CACHE_DIR")
    if configured:
        return Path(configured)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "flexorm"


def cache_file(url: str | sa.URL, settings: Settings) -> Path | None:
    """The cache file of a database and reflection settings; ``None`` when caching is off."""
    if not settings.reflection_cache or settings.rename is not None:
        return None
    parsed = parse_url(url)
    # the driver does not matter: the async and the blocking engine share one file
    database = redact_url(parsed.set(drivername=parsed.get_backend_name()))
    key = repr((database, settings.schemas, settings.include, settings.exclude,
                _environment()))
    return cache_dir() / f"schema-{hashlib.sha256(key.encode()).hexdigest()[:32]}.pickle"


def _trusted(path: Path) -> bool:
    info = path.stat()
    owner_ok = not hasattr(os, "getuid") or info.st_uid == os.getuid()
    return owner_ok and not info.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def load_cached(path: Path, fingerprint_: str) -> SchemaInfo | None:
    """The schema stored at ``path`` under ``fingerprint_``, else ``None`` (never raises)."""
    try:
        if not path.is_file():
            return None
        if not _trusted(path):
            logger.warning("reflection cache %s is writable by others: ignored", path)
            return None
        with path.open("rb") as file, gc_paused():
            # tens of thousands of objects: collecting would double the time; read from the
            # file, so its bytes are never held beside the objects they become
            stored = pickle.load(file)  # noqa: S301 - our own file, checked above
        if (not isinstance(stored, dict) or stored.get("environment") != _environment()
                or stored.get("fingerprint") != fingerprint_):
            return None
        schema = stored.get("schema")
        return schema if isinstance(schema, SchemaInfo) else None
    except Exception as exc:  # a corrupt or foreign file: reflect afresh
        logger.warning("reflection cache %s unreadable (%s): reflecting afresh", path,
                       type(exc).__name__)
        return None


def store_cached(path: Path, fingerprint_: str, schema: SchemaInfo) -> None:
    """Store ``schema`` under ``fingerprint_``, atomically; failures are logged, not raised."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".schema-")
        try:
            with os.fdopen(handle, "wb") as file:  # written as pickled, never whole in memory
                pickle.dump({"environment": _environment(), "fingerprint": fingerprint_,
                             "schema": schema}, file, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except Exception as exc:
        logger.warning("reflection cache %s not written (%s: %s)", path, type(exc).__name__,
                       exc)


@dataclass(frozen=True, slots=True)
class CacheOutcome:
    """How a schema was obtained (for the CLI and the benchmarks)."""

    schema: SchemaInfo
    hit: bool
    """Loaded from the cache rather than reflected."""
    path: Path | None
    fingerprint: str | None = None
    """The fingerprint taken before reflecting; ``None`` when the cache is off."""


def reflect_cached_sync(
    connection: Connection,
    settings: Settings,
    *,
    progress: Progress | None = None,
    refresh: bool = False,
) -> CacheOutcome:
    """Reflect through the cache on a blocking connection.

    Args:
        refresh: reflect even when the cache holds the current schema (and store the result).
    """
    path = cache_file(connection.engine.url, settings)
    current: str | None = None
    if path is not None:
        try:
            current = fingerprint(connection, settings.schemas)
        except sa.exc.DBAPIError as exc:
            raise DatabaseError(_one_line(exc, connection.engine.url)) from exc
    if path is not None and current is not None and not refresh:
        schema = load_cached(path, current)
        if schema is not None:
            return CacheOutcome(schema, hit=True, path=path, fingerprint=current)
    schema = reflect_sync(connection, settings, progress=progress)
    if path is not None and current is not None:
        store_cached(path, current, schema)
    return CacheOutcome(schema, hit=False, path=path, fingerprint=current)


async def reflect_cached(
    engine: AsyncEngine,
    settings: Settings,
    *,
    progress: Progress | None = None,
    refresh: bool = False,
) -> CacheOutcome:
    """Reflect the database behind an async engine through the cache (see
    :func:`reflect_cached_sync`).

    Raises:
        DatabaseError: the database cannot be reached or reflected.
        ConfigurationError: two tables get the same collection name.
    """
    try:
        return await run_blocking(engine, lambda conn: reflect_cached_sync(
            conn, settings, progress=progress, refresh=refresh))
    except sa.exc.DBAPIError as exc:
        raise DatabaseError(_one_line(exc, engine.url)) from exc


async def current_fingerprint(engine: AsyncEngine, settings: Settings) -> str | None:
    """The database's schema fingerprint now (``None``: caching is off or unsupported)."""
    if cache_file(engine.url, settings) is None:
        return None
    try:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda sync_conn: fingerprint(sync_conn, settings.schemas))
    except sa.exc.DBAPIError as exc:
        raise DatabaseError(_one_line(exc, engine.url)) from exc


def _one_line(exc: sa.exc.DBAPIError, url: sa.URL) -> str:
    detail = first_line(exc.orig, type(exc).__name__)
    return f"cannot reflect {redact_url(url)}: {detail}"
