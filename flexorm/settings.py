"""flexorm's settings: one dataclass, filled from arguments and ``FLEXORM_*`` variables."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from flexorm.exceptions import ConfigurationError

__all__ = ["Settings"]

RenameHook = Callable[[str | None, str], str | None]
"""``(schema, table) -> collection name``; ``None`` keeps flexorm's own name."""


def _split(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def _flag(name: str, value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ConfigurationError(f"{name} must be true or false, not {value!r}")


_DAY = 24 * 60 * 60
_MIB = 1024 * 1024
_WHOLE: dict[str, tuple[int, int]] = {
    "auth_cache_seconds": (1, _DAY), "chunk_size": (1, 100_000),
    "field_options_limit": (1, 10_000), "dry_run_rows": (0, 100_000),
    "idempotency_ttl_seconds": (1, 3650 * _DAY), "journal_result_limit": (0, 1024 * _MIB),
    "background_concurrency": (1, 1000), "run_retention_days": (1, 36_525),
    "pool_size": (1, 10_000), "max_overflow": (0, 10_000),
}
"""The whole-number settings, with the least and the most value a run can use."""
_SECONDS: dict[str, float] = {"auth_timeout": 600, "lock_timeout": _DAY,
                              "worker_heartbeat_seconds": 3600, "pool_timeout": 3600}
"""The settings in seconds, with the most a run can use (databases refuse longer lock
timeouts; PostgreSQL's ends below 25 days)."""


def _whole_error(name: str, number: object) -> str | None:
    """Why ``number`` cannot be the whole-number setting ``name``, or ``None``."""
    least, most = _WHOLE[name]
    if not isinstance(number, int) or isinstance(number, bool):
        return f"{name} must be a whole number, not {number!r}"
    if number < least:
        bound = "0 or more" if least == 0 else f"at least {least}"
        return f"{name} must be {bound}, not {number}"
    if number > most:
        return f"{name} must be at most {most:,}, not {number}"
    return None


def _seconds_error(name: str, number: object) -> str | None:
    """Why ``number`` cannot be the setting in seconds ``name``, or ``None``."""
    if not isinstance(number, int | float) or isinstance(number, bool) \
            or not 0 < number <= _SECONDS[name]:  # NaN and infinity too
        return (f"{name} must be more than 0 seconds and at most {_SECONDS[name]:,g}, "
                f"not {number!r}")
    return None


def _reader(check: Callable[[str, object], str | None], parse: Callable[[str], object],
            kind: str) -> Callable[[str, str], Any]:
    """Read the text of a ``FLEXORM_<SETTING>`` variable, its errors naming the variable."""

    def read(variable: str, value: str) -> Any:
        try:
            number = parse(value)
        except ValueError:
            raise ConfigurationError(f"{variable} must be {kind}, not {value!r}") from None
        setting = variable.removeprefix("FLEXORM_").lower()
        error = check(setting, number)
        if error is not None:
            raise ConfigurationError(variable + error.removeprefix(setting))
        return number

    return read


_int = _reader(_whole_error, int, "a whole number")
_seconds = _reader(_seconds_error, float, "a number of seconds")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_RUNNERS = ("auto", "queue", "embedded")


def _runner(name: str, value: str) -> str:
    lowered = value.strip().lower()
    if lowered not in _RUNNERS:
        raise ConfigurationError(f"{name} must be one of {', '.join(_RUNNERS)}, not {value!r}")
    return lowered


@dataclass(frozen=True)
class Settings:
    """How flexorm connects, reflects, authorizes and serves.

    Every field can be set from the environment as ``FLEXORM_<FIELD NAME IN CAPITALS>``; lists are
    comma-separated there. Arguments given in code win over the environment.
    """

    database_url: str | None = None
    """The SQLAlchemy URL of the database to serve (``FLEXORM_DATABASE_URL``)."""
    schemas: tuple[str, ...] = ()
    """Schemas to reflect; empty means the default schema only."""
    include: tuple[str, ...] = ()
    """Glob patterns of collection names to reflect; empty means all."""
    exclude: tuple[str, ...] = ()
    """Glob patterns of collection names to leave out."""
    tokens: tuple[str, ...] = field(default=(), repr=False)
    """Shared keys accepted as ``Authorization: Bearer <key>`` (``FLEXORM_TOKEN``)."""
    insecure: bool = False
    """Serve without any authorization. For local development only; flexorm warns loudly."""
    jwt_public_key: str | None = field(default=None, repr=False)
    """Jet Admin's RSA public key for ``Authorization: JWT``: PEM text, or the path of a PEM file
    (``FLEXORM_JWT_PUBLIC_KEY``). ``None`` refuses JWTs."""
    project: str | None = None
    """The Jet Admin project name (``FLEXORM_PROJECT``); a JWT must carry ``projects.<project>``."""
    project_token: str | None = field(default=None, repr=False)
    """The project's token from Jet Admin (``FLEXORM_PROJECT_TOKEN``), sent to ``project_auth``
    to verify ``Token``/``ProjectToken`` credentials. ``None`` refuses them."""
    auth_url: str = "https://api.jetadmin.io/api"
    """Base URL of Jet Admin's API; ``Token`` credentials are checked at
    ``{auth_url}/project_auth/`` (``FLEXORM_AUTH_URL``)."""
    auth_cache_seconds: int = 60
    """How long a ``project_auth`` answer, yes or no, is reused for the same token."""
    auth_timeout: float = 5.0
    """Seconds to wait for ``project_auth`` before refusing the request."""
    cors_allow_origin: str = "*"
    """The ``Access-Control-Allow-Origin`` answer."""
    chunk_size: int = 1000
    """How many records one query loads for a bulk or inverse selection."""
    field_options_limit: int = 50
    """How many options ``get_field_options`` answers at most."""
    dry_run_rows: int = 20
    """How many changed rows of each table a dry run lists with their columns
    (``FLEXORM_DRY_RUN_ROWS``); 0 answers the counts only."""
    rename: RenameHook | None = field(default=None, compare=False)
    """A hook naming collections: ``(schema, table) -> name``."""
    state_url: str | None = None
    """The database holding flexorm's own tables (the action journal, idempotency keys)
    (``FLEXORM_STATE_URL``); ``None`` keeps them in the main database. Set it when the main
    database is read-only to flexorm."""
    idempotency_ttl_seconds: int = 24 * 60 * 60
    """How long an idempotency key replays its stored answer (``FLEXORM_IDEMPOTENCY_TTL_SECONDS``);
    a key is forgotten after that and may run again."""
    journal_result_limit: int = _MIB
    """The largest result the journal keeps, in bytes of its JSON
    (``FLEXORM_JOURNAL_RESULT_LIMIT``); 0 keeps none. A larger result is still answered whole,
    but its run's row keeps a note instead of it, and a replay of its idempotency key answers
    409: megabytes in every row would bloat the journal, and a row beyond what the database
    takes in one statement (MariaDB's ``max_allowed_packet``) would fail the action's own
    transaction. Keep it below that."""
    auto_upgrade: bool = False
    """Migrate flexorm's own tables to this version at startup (``FLEXORM_AUTO_UPGRADE``);
    otherwise the server tells you to run ``flexorm db upgrade``."""
    journal: bool = True
    """Record every ``execute_action`` in flexorm's own tables and honour idempotency keys
    (``FLEXORM_JOURNAL``). ``False`` runs without those tables: no journal, and a request with
    an idempotency key is refused."""
    lock_timeout: float = 10.0
    """Seconds a statement waits for a row or database lock held by another action before the
    request answers 409 (``FLEXORM_LOCK_TIMEOUT``): never an endless wait."""
    pool_size: int = 5
    """Connections to the database each engine keeps open (``FLEXORM_POOL_SIZE``). flexorm has
    two engines on it, the async one (async bodies, the server's own queries) and the blocking
    one (sync bodies), and a third on ``state_url`` when set."""
    max_overflow: int = 10
    """Connections each engine opens beyond ``pool_size`` while that many requests run at once,
    closed again as they are given back (``FLEXORM_MAX_OVERFLOW``)."""
    pool_timeout: float = 30.0
    """Seconds a request waits for a connection while all of them are in use, before it answers
    503 ``database_busy`` (``FLEXORM_POOL_TIMEOUT``)."""
    mcp: bool = True
    """Serve the actions as MCP tools at ``/mcp`` (``FLEXORM_MCP``); ``False`` answers 404
    there. The MCP SDK is loaded on the first request to ``/mcp``, not at startup."""
    publish_schema: bool = False
    """Answer the OpenAPI document (``/schema/openapi.json``, ``/api/openapi.json``) without
    credentials (``FLEXORM_PUBLISH_SCHEMA``). Off by default: it lists every action."""
    reflection_cache: bool = True
    """Keep the reflected schema on disk and reuse it while the database's schema fingerprint is
    unchanged (``FLEXORM_REFLECTION_CACHE``; the folder is ``FLEXORM_CACHE_DIR``, by default
    ``~/.cache/flexorm``). See :mod:`flexorm.reflection.cache`."""

    background_runner: str = "auto"
    """Who runs background actions (``FLEXORM_BACKGROUND_RUNNER``): ``queue``, the
    ``flexorm worker`` processes on the PostgreSQL queue; ``embedded``, the server process
    itself; ``auto``, the queue when the state database (``state_url``, else the database) is
    PostgreSQL, else embedded."""
    background_concurrency: int = 4
    """How many background runs the server runs at once when it runs them itself
    (``FLEXORM_BACKGROUND_CONCURRENCY``)."""
    run_retention_days: int | None = None
    """Finished runs older than this many days are deleted by the process running background
    actions (``FLEXORM_RUN_RETENTION_DAYS``); ``None`` keeps them (see ``flexorm runs prune``)."""
    worker_heartbeat_seconds: float = 10.0
    """How often a worker tells the queue it is alive (``FLEXORM_WORKER_HEARTBEAT_SECONDS``); a
    worker silent for three times this is presumed dead, and its runs retried or interrupted."""

    def __post_init__(self) -> None:
        """Refuse values no run could use, however the settings were made (in code, from the
        environment, by :meth:`with_`): a ``chunk_size`` of 0 would otherwise fail only at the
        first bulk action.

        Raises:
            ConfigurationError: naming the setting and the value.
        """
        errors = [_whole_error(name, getattr(self, name)) for name in _WHOLE
                  if getattr(self, name) is not None]  # run_retention_days: None keeps all
        errors += [_seconds_error(name, getattr(self, name)) for name in _SECONDS]
        for error in errors:
            if error is not None:
                raise ConfigurationError(error)
        if _CONTROL.search(self.cors_allow_origin):
            raise ConfigurationError("cors_allow_origin must be an origin, with no line break "
                                     f"or other control character: {self.cors_allow_origin!r}")
        if self.background_runner not in _RUNNERS:
            raise ConfigurationError(f"background_runner must be one of {', '.join(_RUNNERS)}, "
                                     f"not {self.background_runner!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from ``FLEXORM_*`` variables, then ``overrides`` (``None`` values are ignored).

        Examples:
            >>> Settings.from_env({"FLEXORM_TOKEN": "a,b"}).tokens
            ('a', 'b')
        """
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        readers: dict[str, Callable[[str, str], Any]] = {
            "database_url": lambda _n, v: v,
            "schemas": lambda _n, v: _split(v),
            "include": lambda _n, v: _split(v),
            "exclude": lambda _n, v: _split(v),
            "tokens": lambda _n, v: _split(v),
            "insecure": _flag,
            "jwt_public_key": lambda _n, v: v,
            "project": lambda _n, v: v,
            "project_token": lambda _n, v: v,
            "auth_url": lambda _n, v: v,
            "auth_cache_seconds": _int,
            "auth_timeout": _seconds,
            "cors_allow_origin": lambda _n, v: v,
            "chunk_size": _int,
            "field_options_limit": _int,
            "dry_run_rows": _int,
            "state_url": lambda _n, v: v or None,
            "idempotency_ttl_seconds": _int,
            "journal_result_limit": _int,
            "auto_upgrade": _flag,
            "journal": _flag,
            "reflection_cache": _flag,
            "lock_timeout": _seconds,
            "pool_size": _int,
            "max_overflow": _int,
            "pool_timeout": _seconds,
            "background_runner": _runner,
            "background_concurrency": _int,
            "run_retention_days": _int,
            "worker_heartbeat_seconds": _seconds,
            "mcp": _flag,
            "publish_schema": _flag,
        }
        env_names = {"tokens": "FLEXORM_TOKEN"}
        for name, read in readers.items():
            variable = env_names.get(name, "FLEXORM_" + name.upper())
            if variable in env:
                values[name] = read(variable, env[variable])
        known = {f.name for f in fields(cls)}
        for name, value in overrides.items():
            if name not in known:
                raise ConfigurationError(f"unknown setting {name!r}")
            if value is not None:
                values[name] = tuple(value) if isinstance(value, list) else value
        return cls(**values)

    @property
    def journal_url(self) -> str | None:
        """Where flexorm's own tables live: ``state_url``, else ``database_url``."""
        return self.state_url or self.database_url

    @property
    def pool_options(self) -> dict[str, Any]:
        """The arguments of ``create_engine`` that size an engine's pool."""
        return {"pool_size": self.pool_size, "max_overflow": self.max_overflow,
                "pool_timeout": self.pool_timeout}

    def with_(self, **changes: Any) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)
