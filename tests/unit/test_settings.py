"""Settings: every field documented under its environment variable, read from it, checked."""

from __future__ import annotations

import dataclasses
import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from flexorm import ConfigurationError, Flex, Settings
from flexorm.database import Database

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
CODE_ONLY = {"rename"}
VALUES = {"background_runner": "queue", "run_retention_days": "30"}
"""Settings whose variable takes values of its own (a choice, a number without a default)."""


def variable(name: str) -> str:
    return "FLEXORM_TOKEN" if name == "tokens" else "FLEXORM_" + name.upper()


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Settings)])
def test_every_setting_is_documented_with_its_variable(field):
    text = DOC.read_text()
    assert f"`{field}`" in text, f"docs/configuration.md does not mention the setting {field}"
    if field not in CODE_ONLY:
        assert f"`{variable(field)}`" in text, f"docs/configuration.md lacks {variable(field)}"


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Settings)
                                   if f.name not in CODE_ONLY])
def test_every_variable_is_read(field):
    default = getattr(Settings(), field)
    value = VALUES.get(field) or {bool: "1" if not default else "0", int: "7", float: "7",
                                  str: "x"}.get(type(default), "a,b")
    settings = Settings.from_env({variable(field): value})
    assert getattr(settings, field) != default


def test_arguments_win_over_the_environment():
    settings = Settings.from_env({"FLEXORM_CHUNK_SIZE": "5"}, chunk_size=9)
    assert settings.chunk_size == 9


@pytest.mark.parametrize(("variable_name", "value"), [
    ("FLEXORM_CHUNK_SIZE", "0"), ("FLEXORM_CHUNK_SIZE", "x"), ("FLEXORM_INSECURE", "maybe"),
])
def test_bad_values_name_the_variable(variable_name, value):
    with pytest.raises(ConfigurationError, match=variable_name):
        Settings.from_env({variable_name: value})


def test_unknown_setting_is_refused():
    with pytest.raises(ConfigurationError, match="unknown setting 'tokenz'"):
        Settings.from_env({}, tokenz=("a",))


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"chunk_size": 0}, "chunk_size must be at least 1, not 0"),
        ({"field_options_limit": -5}, "field_options_limit must be at least 1, not -5"),
        ({"idempotency_ttl_seconds": 0}, "idempotency_ttl_seconds must be at least 1"),
        ({"auth_cache_seconds": 1.5}, "auth_cache_seconds must be a whole number"),
        ({"chunk_size": True}, "chunk_size must be a whole number"),
        ({"auth_timeout": 0}, "auth_timeout must be more than 0 seconds"),
        ({"auth_timeout": float("nan")}, "auth_timeout must be more than 0 seconds"),
        ({"dry_run_rows": -1}, "dry_run_rows must be 0 or more, not -1"),
        ({"journal_result_limit": -1}, "journal_result_limit must be 0 or more, not -1"),
        ({"journal_result_limit": 2**31}, "journal_result_limit must be at most 1,073,741,824"),
        ({"chunk_size": 10**20}, "chunk_size must be at most 100,000"),
        ({"run_retention_days": 3_000_000}, "run_retention_days must be at most 36,525"),
        ({"lock_timeout": 3_000_000}, "lock_timeout must be more than 0 seconds and at most"),
        ({"worker_heartbeat_seconds": float("inf")}, "worker_heartbeat_seconds must be more"),
        ({"cors_allow_origin": "https://a.example\nX-Evil: 1"}, "cors_allow_origin must be an"),
        ({"pool_size": 0}, "pool_size must be at least 1, not 0"),
        ({"max_overflow": -1}, "max_overflow must be 0 or more, not -1"),
        ({"pool_timeout": 0}, "pool_timeout must be more than 0 seconds"),
    ],
)
def test_settings_refuse_values_no_run_could_use(changes, message):
    # whatever builds them: the constructor, a copy, or a Flex given them
    with pytest.raises(ConfigurationError, match=message):
        Settings(**changes)
    with pytest.raises(ConfigurationError, match=message):
        Settings().with_(**changes)
    with pytest.raises(ConfigurationError, match=message):
        Flex("sqlite:///shop.db", settings=Settings.from_env({}, **changes))


def test_the_pool_settings_size_the_blocking_engine(tmp_path: Path) -> None:
    settings = Settings.from_env({"FLEXORM_POOL_SIZE": "2", "FLEXORM_MAX_OVERFLOW": "0",
                                  "FLEXORM_POOL_TIMEOUT": "0.05"})
    path = tmp_path / "pooled.db"
    sqlite3.connect(path).close()
    database = Database.connect(f"sqlite:///{path}", pool=settings.pool_options)
    engine = database.sync_engine
    try:
        with engine.connect(), engine.connect(), pytest.raises(sa.exc.TimeoutError):
            engine.connect()  # a third: none left, none opened beyond the two
    finally:
        engine.dispose()
    pool = database.engine.sync_engine.pool  # the async engine's, sized alike
    assert (pool.size(), pool.timeout()) == (2, 0.05)


def test_a_dry_run_may_list_no_rows():
    assert Settings(dry_run_rows=0).dry_run_rows == 0
    assert Settings.from_env({"FLEXORM_DRY_RUN_ROWS": "0"}).dry_run_rows == 0
    with pytest.raises(ConfigurationError, match="FLEXORM_DRY_RUN_ROWS must be 0 or more"):
        Settings.from_env({"FLEXORM_DRY_RUN_ROWS": "-3"})


def test_the_journal_keeps_results_up_to_a_mebibyte_by_default_and_none_at_0():
    assert Settings().journal_result_limit == 1_048_576
    assert Settings.from_env({"FLEXORM_JOURNAL_RESULT_LIMIT": "0"}).journal_result_limit == 0
    with pytest.raises(ConfigurationError, match="FLEXORM_JOURNAL_RESULT_LIMIT must be a whole"):
        Settings.from_env({"FLEXORM_JOURNAL_RESULT_LIMIT": "1MB"})


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("FLEXORM_LOCK_TIMEOUT", "inf", "FLEXORM_LOCK_TIMEOUT must be more than 0 seconds and at"),
    ("FLEXORM_AUTH_TIMEOUT", "nan", "FLEXORM_AUTH_TIMEOUT must be more than 0 seconds and at"),
    ("FLEXORM_WORKER_HEARTBEAT_SECONDS", "1e300", "FLEXORM_WORKER_HEARTBEAT_SECONDS must be"),
    ("FLEXORM_CHUNK_SIZE", "99999999999999999999", "FLEXORM_CHUNK_SIZE must be at most 100,000"),
    ("FLEXORM_RUN_RETENTION_DAYS", "0", "FLEXORM_RUN_RETENTION_DAYS must be at least 1"),
])
def test_a_variable_out_of_range_is_named_in_the_error(variable, value, message):
    with pytest.raises(ConfigurationError, match=message):
        Settings.from_env({variable: value})
