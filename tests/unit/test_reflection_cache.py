"""The reflection cache's files: where they go, what keys them, that a bad file is not used."""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path

import pytest
import sqlalchemy as sa

from flexorm.reflection import cache
from flexorm.reflection.records import CollectionInfo, ColumnInfo, SchemaInfo
from flexorm.settings import Settings

URL = "postgresql://app:s3cret@db.example/shop"


def small_schema(status_values: tuple[str, ...] = ("new", "old")) -> SchemaInfo:
    columns = {
        "id": ColumnInfo("id", sa.INTEGER(), False, True, True),
        "status": ColumnInfo("status", sa.VARCHAR(10), True, False, False,
                             options=status_values),
    }
    orders = CollectionInfo(name="orders", table="orders", schema=None, is_view=False,
                            columns=columns, primary_key=("id",), primary_key_auto=True,
                            has_primary_key=True)
    return SchemaInfo(dialect="sqlite", default_schema="main", collections={"orders": orders})


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FLEXORM_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_the_folder_comes_from_the_environment(folder: Path) -> None:
    path = cache.cache_file(URL, Settings())
    assert path is not None
    assert path.parent == folder
    assert "s3cret" not in str(path)


def test_default_folder_is_the_user_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLEXORM_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", "/somewhere")
    assert cache.cache_dir() == Path("/somewhere/flexorm")


def test_settings_that_change_reflection_change_the_file(folder: Path) -> None:
    base = cache.cache_file(URL, Settings())
    assert cache.cache_file(URL, Settings(include=("orders",))) != base
    assert cache.cache_file(URL, Settings(exclude=("orders",))) != base
    assert cache.cache_file(URL, Settings(schemas=("sales",))) != base
    assert cache.cache_file(URL.replace("/shop", "/other"), Settings()) != base
    # the driver does not: the async and blocking engines share the file
    assert cache.cache_file(URL.replace("postgresql:", "postgresql+psycopg:"), Settings()) == base
    # nor do settings unrelated to reflection
    assert cache.cache_file(URL, Settings(tokens=("k",), chunk_size=5)) == base


def test_no_cache_when_off_or_with_a_rename_hook(folder: Path) -> None:
    assert cache.cache_file(URL, Settings(reflection_cache=False)) is None
    assert cache.cache_file(URL, Settings(rename=lambda schema, table: table.upper())) is None
    assert Settings.from_env({"FLEXORM_REFLECTION_CACHE": "0"}).reflection_cache is False
    assert Settings.from_env({}).reflection_cache is True


def test_round_trip_under_the_same_fingerprint_only(folder: Path) -> None:
    path = folder / "schema.pickle"
    cache.store_cached(path, "fp-1", small_schema())
    loaded = cache.load_cached(path, "fp-1")
    assert loaded is not None
    status = loaded["orders"].columns["status"]
    assert isinstance(status.type, sa.VARCHAR)
    assert status.type.length == 10
    assert status.options == ("new", "old")
    assert cache.load_cached(path, "fp-2") is None
    assert os.stat(folder).st_mode & 0o077 == 0  # private to the user


def test_another_version_of_the_environment_is_not_used(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = folder / "schema.pickle"
    cache.store_cached(path, "fp", small_schema())
    monkeypatch.setattr(cache, "FORMAT", cache.FORMAT + 1)
    assert cache.load_cached(path, "fp") is None


def test_a_corrupt_file_is_one_log_line_and_a_miss(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder.mkdir(mode=0o700)
    path = folder / "schema.pickle"
    path.write_bytes(b"\x80\x05not a pickle at all")
    with caplog.at_level(logging.WARNING, "flexorm.reflection"):
        assert cache.load_cached(path, "fp") is None
    assert len(caplog.records) == 1
    assert "reflecting afresh" in caplog.records[0].getMessage()


def test_a_file_of_another_shape_is_a_miss(folder: Path) -> None:
    folder.mkdir(mode=0o700)
    path = folder / "schema.pickle"
    path.write_bytes(pickle.dumps(["not", "a", "cache"]))
    assert cache.load_cached(path, "fp") is None


def test_a_file_others_may_write_is_ignored(folder: Path) -> None:
    path = folder / "schema.pickle"
    cache.store_cached(path, "fp", small_schema())
    path.chmod(0o666)
    assert cache.load_cached(path, "fp") is None


def test_an_unwritable_folder_is_logged_not_raised(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    with caplog.at_level(logging.WARNING, "flexorm.reflection"):
        cache.store_cached(blocker / "sub" / "schema.pickle", "fp", small_schema())
    assert "not written" in caplog.text
