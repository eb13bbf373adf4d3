"""The reflection cache on real databases: a warm start reuses it, any schema change is seen."""

from __future__ import annotations

import asyncio
import json
import pickle
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner

from flexorm.cli.inspect import inspect_command
from flexorm.database import Database
from flexorm.flex import Flex
from flexorm.reflection import model_descriptions
from flexorm.reflection.cache import CacheOutcome, reflect_cached
from flexorm.settings import Settings
from tests.conftest import run_statements

SCHEMA = [
    "CREATE TABLE accounts (id INTEGER PRIMARY KEY, name VARCHAR(80) NOT NULL,"
    " status VARCHAR(10) NOT NULL DEFAULT 'new' CONSTRAINT status_list"
    " CHECK (status IN ('new', 'active')))",
    "CREATE TABLE orders (id INTEGER PRIMARY KEY, account_id INTEGER REFERENCES accounts (id),"
    " total NUMERIC(10, 2))",
]


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLEXORM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def execute(url: str, *statements: str) -> None:
    run_statements(url, statements)


def dialect_of(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def load(url: str, settings: Settings | None = None, *, refresh: bool = False) -> CacheOutcome:
    async def go() -> CacheOutcome:
        database = Database.connect(url)
        try:
            return await reflect_cached(database.engine, settings or Settings(), refresh=refresh)
        finally:
            await database.dispose()

    return asyncio.run(go())


@pytest.fixture
def filled(db_url: str, cache_dir: Path) -> str:
    execute(db_url, *SCHEMA)
    return db_url


def test_a_warm_start_loads_what_reflection_gave(filled: str) -> None:
    cold = load(filled)
    warm = load(filled)
    assert (cold.hit, warm.hit) == (False, True)
    assert cold.path == warm.path
    assert model_descriptions(warm.schema) == model_descriptions(cold.schema)
    assert warm.schema["accounts"].columns["status"].options == ("new", "active")
    assert warm.schema["orders"].columns["account_id"].foreign_key is not None


@pytest.mark.parametrize("change", [
    "ALTER TABLE orders ADD COLUMN note TEXT",
    "CREATE TABLE refunds (id INTEGER PRIMARY KEY)",
    "DROP TABLE orders",
    "CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100",
])
def test_a_changed_schema_is_reflected_again(filled: str, change: str) -> None:
    before = load(filled)
    execute(filled, change)
    after = load(filled)
    assert not after.hit
    assert model_descriptions(after.schema) != model_descriptions(before.schema)
    assert load(filled).hit  # and stored again


def test_a_changed_check_list_is_seen(filled: str) -> None:
    load(filled)
    if dialect_of(filled) == "postgresql":
        execute(filled, "ALTER TABLE accounts DROP CONSTRAINT status_list",
                "ALTER TABLE accounts ADD CONSTRAINT status_list"
                " CHECK (status IN ('new', 'active', 'closed'))")
    else:  # SQLite cannot alter a constraint: rebuild the table, as migrations do
        execute(filled, "PRAGMA foreign_keys = OFF",
                "CREATE TABLE accounts_new (id INTEGER PRIMARY KEY, name VARCHAR(80) NOT NULL,"
                " status VARCHAR(10) NOT NULL DEFAULT 'new'"
                " CHECK (status IN ('new', 'active', 'closed')))",
                "DROP TABLE accounts", "ALTER TABLE accounts_new RENAME TO accounts")
    after = load(filled)
    assert not after.hit
    assert after.schema["accounts"].columns["status"].options == ("new", "active", "closed")


_TRIGGER = {
    "sqlite": ["CREATE TRIGGER orders_touched AFTER UPDATE ON orders BEGIN"
               " UPDATE orders SET total = 0 WHERE rowid = NEW.rowid; END"],
    "postgresql": ["CREATE FUNCTION orders_touch() RETURNS trigger LANGUAGE plpgsql AS"
                   " $$ BEGIN NEW.total := 0; RETURN NEW; END $$",
                   "CREATE TRIGGER orders_touched BEFORE UPDATE ON orders"
                   " FOR EACH ROW EXECUTE FUNCTION orders_touch()"],
}


def test_an_added_or_dropped_trigger_is_seen(filled: str) -> None:
    assert not load(filled).schema["orders"].triggers
    execute(filled, *_TRIGGER[dialect_of(filled)])
    added = load(filled)
    assert not added.hit
    assert added.schema["orders"].triggers
    assert not added.schema["accounts"].triggers
    execute(filled, "DROP TRIGGER orders_touched" + (
        " ON orders" if dialect_of(filled) == "postgresql" else ""))
    dropped = load(filled)
    assert not dropped.hit
    assert not dropped.schema["orders"].triggers


@pytest.mark.postgres
def test_a_changed_default_and_nullability_are_seen(pg_url: str, cache_dir: Path) -> None:
    # (SQLite cannot alter a column: a rebuilt table changes sqlite_master, tested above)
    filled = pg_url
    execute(filled, *SCHEMA)
    load(filled)
    execute(filled, "ALTER TABLE orders ALTER COLUMN total SET NOT NULL")
    assert not load(filled).schema["orders"].columns["total"].nullable
    execute(filled, "ALTER TABLE orders ALTER COLUMN total SET DEFAULT 0")
    outcome = load(filled)
    assert not outcome.hit
    assert outcome.schema["orders"].columns["total"].server_default is not None


@pytest.mark.postgres
def test_a_new_enum_value_is_seen(pg_url: str, cache_dir: Path) -> None:
    execute(pg_url, "CREATE TYPE mood AS ENUM ('sad', 'ok')",
            "CREATE TABLE people (id SERIAL PRIMARY KEY, mood mood NOT NULL)")
    assert load(pg_url).schema["people"].columns["mood"].options == ("sad", "ok")
    execute(pg_url, "ALTER TYPE mood ADD VALUE 'happy'")
    after = load(pg_url)
    assert not after.hit
    assert after.schema["people"].columns["mood"].options == ("sad", "ok", "happy")


def test_filters_have_their_own_cache(filled: str) -> None:
    everything = load(filled)
    only_orders = load(filled, Settings(include=("orders",)))
    assert not only_orders.hit
    assert list(only_orders.schema.collections) == ["orders"]
    assert list(load(filled).schema.collections) == list(everything.schema.collections)


def test_off_and_rename_hook_never_touch_the_cache(filled: str, cache_dir: Path) -> None:
    off = load(filled, Settings(reflection_cache=False))
    renamed = load(filled, Settings(rename=lambda schema, table: f"x_{table}"))
    assert (off.hit, off.path, renamed.hit, renamed.path) == (False, None, False, None)
    assert "x_orders" in renamed.schema
    assert not cache_dir.exists()


def poison(outcome: CacheOutcome) -> None:
    """Store a schema missing a collection under the current fingerprint (a stale cache no
    fingerprint could catch), to see that --refresh and reload(refresh=True) rebuild it."""
    assert outcome.path is not None
    stored = pickle.loads(outcome.path.read_bytes())
    collections = dict(stored["schema"].collections)
    del collections["orders"]
    stored["schema"] = replace(stored["schema"], collections=collections)
    outcome.path.write_bytes(pickle.dumps(stored))


def test_inspect_refresh_rebuilds_the_cache(filled: str) -> None:
    poison(load(filled))
    env = {"FLEXORM_DATABASE_URL": None, "FLEXORM_INCLUDE": None, "FLEXORM_EXCLUDE": None,
           "FLEXORM_SCHEMAS": None}
    stale = CliRunner().invoke(inspect_command, [filled, "--json"], env=env)
    assert [m["model"] for m in json.loads(stale.output)] == ["accounts"]
    fresh = CliRunner().invoke(inspect_command, [filled, "--json", "--refresh"], env=env)
    assert fresh.exit_code == 0, fresh.output
    assert [m["model"] for m in json.loads(fresh.output)] == ["accounts", "orders"]
    assert load(filled).hit
    assert "orders" in load(filled).schema


@pytest.mark.anyio
async def test_runtime_reload_follows_the_schema(filled: str) -> None:
    flex = Flex(filled, settings=Settings(insecure=True, journal=False))

    @flex.action(model="orders", fields=["total"])
    def touch(total: float) -> None:
        return None

    async with flex.runtime() as runtime:
        assert await runtime.reload() is runtime  # unchanged: one fingerprint query
        await asyncio.to_thread(execute, filled, "ALTER TABLE orders ADD COLUMN note TEXT")
        reloaded = await runtime.reload()
        assert reloaded is not runtime
        assert "note" in reloaded.schema["orders"].columns
        assert reloaded.database is runtime.database
        assert [a["name"] for a in reloaded.actions.action_list()] == ["touch"]
        assert await reloaded.reload() is reloaded
        forced = await reloaded.reload(refresh=True)
        assert forced is not reloaded
        assert "note" in forced.schema["orders"].columns
