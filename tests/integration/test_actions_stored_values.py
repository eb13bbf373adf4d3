"""A result shows what the database stored, not what the body set: a NUMERIC(p, s) value with
more places than ``s`` is rounded by the database, a generated column is computed anew by it,
and a row trigger may set any column of a row inserted or updated; the answer says so."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa
from litestar.testing import TestClient

from flexorm import ActionContext, Flex, Settings
from tests.conftest import run_statements, sync_engine

TOKEN = "stored-values-key"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def _flex_on(url: str, statements: list[str]) -> Flex:
    """flexorm without its journal on the tables ``statements`` create."""
    run_statements(url, statements)
    return Flex(url, token=TOKEN, settings=Settings.from_env().with_(journal=False))


def _flex(url: str) -> Flex:
    flex = _flex_on(url, [
        "CREATE TABLE prices (id INTEGER PRIMARY KEY, amount NUMERIC(10, 2) NOT NULL)",
        "INSERT INTO prices (id, amount) VALUES (1, 10.00), (2, 20.00)",
    ])

    @flex.action(model="prices", for_instance=True)
    def add_tax(price: Any) -> Any:
        price.amount = price.amount * Decimal("1.0349")
        return price

    @flex.action(model="prices", for_instance=True, bulk=True)
    def add_tax_to_all(prices: list[Any]) -> list[Any]:
        for price in prices:
            price.amount = price.amount * Decimal("1.0349")
        return prices

    return flex


def _execute(client: TestClient[Any], name: str, model: str = "prices", **selection: Any) -> Any:
    response = client.post("/api/messages/", headers=AUTH, json={
        "name": "execute_action", "params": {"model": model, "name": name, **selection}})
    assert response.status_code == 200, response.text
    return response.json()["result"]


def _stored(url: str) -> list[Decimal]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        rows = [Decimal(str(v)).quantize(Decimal("0.01"))
                for (v,) in conn.exec_driver_sql("SELECT amount FROM prices ORDER BY id")]
    engine.dispose()
    return rows


def test_a_returned_row_shows_the_rounded_value_the_database_keeps(any_url: str) -> None:
    with TestClient(_flex(any_url).app) as client:
        assert _execute(client, "add_tax", id=1) == {"id": 1, "amount": "10.35"}
        assert _execute(client, "add_tax_to_all", ids=[1, 2]) == [
            {"id": 1, "amount": "10.71"}, {"id": 2, "amount": "20.70"}]
    assert _stored(any_url) == [Decimal("10.71"), Decimal("20.70")]


def _generated_flex(url: str) -> Flex:
    flex = _flex_on(url, [
        "CREATE TABLE items (id INTEGER PRIMARY KEY, price INTEGER NOT NULL,"
        " qty INTEGER NOT NULL, total INTEGER GENERATED ALWAYS AS (price * qty) STORED)",
        "INSERT INTO items (id, price, qty) VALUES (1, 2, 4), (2, 3, 5)",
    ])

    @flex.action(model="items", for_instance=True)
    def reprice(item: Any, price: int) -> Any:
        item.price = price
        return item

    @flex.action(model="items", for_instance=True, bulk=True)
    def double_all(items: list[Any]) -> list[Any]:
        for item in items:
            item.qty = item.qty * 2
        return items

    return flex


def test_a_returned_row_shows_its_generated_columns_computed_anew(any_url: str) -> None:
    with TestClient(_generated_flex(any_url).app) as client:
        response = client.post("/api/messages/", headers=AUTH, json={
            "name": "execute_action", "params": {
                "model": "items", "name": "reprice", "id": 1, "params": {"price": 3}}})
        assert response.json() == {"result": {"id": 1, "price": 3, "qty": 4, "total": 12}}
        response = client.post("/api/messages/", headers=AUTH, json={
            "name": "execute_action", "params": {
                "model": "items", "name": "double_all", "ids": [1, 2]}})
        assert response.json() == {"result": [{"id": 1, "price": 3, "qty": 8, "total": 24},
                                              {"id": 2, "price": 3, "qty": 10, "total": 30}]}


_WHOLE_SECONDS = {"postgresql": "TIMESTAMP(0)", "mysql": "DATETIME", "sqlite": "TIMESTAMP"}


def test_values_the_database_converts_are_answered_as_it_stored_them(any_url: str) -> None:
    """A float in an integer and in a NUMERIC(10, 2) column, ``Decimal("1E+1")``, a datetime
    with a fraction of a second in a column that keeps none (PostgreSQL's ``timestamp(0)``,
    MariaDB's ``DATETIME``), short text in a ``CHAR(4)``, ``True`` in a ``BOOLEAN``: each
    database converts them its own way (rounds, truncates, or
    keeps them as they are, SQLite); the answer shows what a later read finds."""
    dialect = sa.make_url(any_url).get_backend_name()
    flex = _flex_on(any_url, [
        f"CREATE TABLE slots (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL, "
        f"price NUMERIC(10, 2) NOT NULL, fee NUMERIC(10, 2) NOT NULL, "
        f"at {_WHOLE_SECONDS[dialect]} NOT NULL, code CHAR(4) NOT NULL, flag BOOLEAN NOT NULL)",
        "INSERT INTO slots (id, qty, price, fee, at, code, flag) "
        "VALUES (1, 1, 1.00, 0, '2024-01-01 00:00:00', 'abcd', FALSE)",
    ])

    @flex.action(model="slots", for_instance=True)
    def book(slot: Any) -> Any:
        slot.qty = 2.6
        slot.price = 0.125
        slot.fee = Decimal("1E+1")
        slot.at = dt.datetime(2024, 5, 5, 10, 0, 0, 700000)
        return slot

    @flex.action(model="slots", for_instance=True)
    def label(slot: Any) -> Any:  # nothing else to read back for
        slot.code = "xy"  # PostgreSQL pads it to 'xy  ', MariaDB reads it as it is
        slot.flag = True  # MariaDB's BOOLEAN is a TINYINT: it reads as 1
        return slot

    @flex.action(model="slots", for_instance=True)
    def show(slot: Any) -> Any:
        return slot

    with TestClient(flex.app) as client:
        answers = [client.post("/api/messages/", headers=AUTH, json={
            "name": "execute_action", "params": {"model": "slots", "name": name, "id": 1}},
        ).json()["result"] for name in ("book", "show", "label", "show")]
    # as JSON: true and 1 are equal in Python
    assert json.dumps(answers[0]) == json.dumps(answers[1])
    assert json.dumps(answers[2]) == json.dumps(answers[3])
    assert answers[0]["fee"] == "10.00"
    engine = sync_engine(any_url)
    with engine.connect() as conn:
        qty, at = conn.exec_driver_sql("SELECT qty, at FROM slots").one()
    engine.dispose()
    assert answers[0]["qty"] == qty
    if dialect != "sqlite":  # which keeps each value as it was set
        assert (answers[0]["qty"], answers[0]["price"]) == (3, "0.13")
        assert dt.datetime.fromisoformat(answers[0]["at"]) == at
        assert at.microsecond == 0


def test_values_a_body_flushed_itself_are_answered_as_the_database_stored_them(
        any_url: str) -> None:
    """A flush leaves no history of what the body set; a number or a datetime the database
    would not answer is told by its value, and the row read back."""
    dialect = sa.make_url(any_url).get_backend_name()
    flex = _flex_on(any_url, [
        f"CREATE TABLE lots (id INTEGER PRIMARY KEY, qty INTEGER NOT NULL, "
        f"price NUMERIC(10, 2) NOT NULL, at {_WHOLE_SECONDS[dialect]} NOT NULL)",
        "INSERT INTO lots (id, qty, price, at) "
        "VALUES (1, 1, 1.00, '2024-01-01 00:00:00'), (2, 1, 1.00, '2024-01-01 00:00:00')",
    ])

    def set_odd_values(lot: Any) -> None:
        lot.qty = 2.6
        lot.price = Decimal("0.125")
        lot.at = dt.datetime(2024, 5, 5, 10, 0, 0, 700000)

    @flex.action(model="lots", for_instance=True)
    def flushed(lot: Any, ctx: ActionContext) -> Any:
        set_odd_values(lot)
        ctx.session.flush()
        return lot

    @flex.action(model="lots", for_instance=True)
    async def flushed_async(lot: Any, ctx: ActionContext) -> Any:
        set_odd_values(lot)
        await ctx.session.flush()
        return lot

    @flex.action(model="lots", for_instance=True)
    def show(lot: Any) -> Any:
        return lot

    with TestClient(flex.app) as client:
        for name, lot in (("flushed", 1), ("flushed_async", 2)):
            answer = _execute(client, name, model="lots", id=lot)
            assert json.dumps(answer) == json.dumps(_execute(client, "show", model="lots",
                                                             id=lot))
            if dialect != "sqlite":  # which keeps each value as it was set
                assert (answer["qty"], answer["price"]) == (3, "0.13")
                assert dt.datetime.fromisoformat(answer["at"]).microsecond == 0


@pytest.mark.postgres
def test_text_the_database_parses_is_answered_as_it_stored_it(pg_url: str) -> None:
    """Text set on a column of another type (a range, an address) is parsed by the database
    into its own form: ``[2,8]`` is stored as ``[2,9)``."""
    flex = _flex_on(pg_url, [
        "CREATE TABLE spans (id INTEGER PRIMARY KEY, span int4range, host inet)",
        "INSERT INTO spans VALUES (1, '[1,2)', '10.0.0.9')",
    ])

    @flex.action(model="spans", for_instance=True)
    def widen(span: Any, to: str) -> Any:
        span.span = to
        span.host = "10.0.0.1/32"
        return span

    with TestClient(flex.app) as client:
        response = client.post("/api/messages/", headers=AUTH, json={
            "name": "execute_action", "params": {
                "model": "spans", "name": "widen", "id": 1, "params": {"to": "[2,8]"}}})
    assert response.json() == {"result": {
        "id": 1, "span": {"lower": 2, "upper": 9, "bounds": "[)", "empty": False},
        "host": "10.0.0.1"}}


_TRIGGERS = {
    # on insert, slug is the body in lower case; on update, edits counts the changes too
    "sqlite": [
        "CREATE TRIGGER notes_created AFTER INSERT ON notes BEGIN"
        " UPDATE notes SET slug = lower(NEW.body) WHERE rowid = NEW.rowid; END",
        "CREATE TRIGGER notes_edited AFTER UPDATE OF body ON notes BEGIN"
        " UPDATE notes SET edits = OLD.edits + 1, slug = lower(NEW.body)"
        " WHERE rowid = NEW.rowid; END",
    ],
    "postgresql": [
        "CREATE FUNCTION notes_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " IF TG_OP = 'UPDATE' THEN NEW.edits := OLD.edits + 1; END IF;"
        " NEW.slug := lower(NEW.body); RETURN NEW; END $$",
        "CREATE TRIGGER notes_touch BEFORE INSERT OR UPDATE ON notes"
        " FOR EACH ROW EXECUTE FUNCTION notes_touch()",
    ],
    "mariadb": [
        "CREATE TRIGGER notes_created BEFORE INSERT ON notes"
        " FOR EACH ROW SET NEW.slug = LOWER(NEW.body)",
        "CREATE TRIGGER notes_edited BEFORE UPDATE ON notes"
        " FOR EACH ROW SET NEW.edits = OLD.edits + 1, NEW.slug = LOWER(NEW.body)",
    ],
}


def _dialect(url: str) -> str:
    return url.split(":", 1)[0].split("+", 1)[0].replace("mysql", "mariadb")


def _triggered_flex(url: str) -> Flex:
    flex = _flex_on(url, [
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, body VARCHAR(80) NOT NULL,"
        " edits INTEGER NOT NULL, slug VARCHAR(80))",
        "INSERT INTO notes (id, body, edits, slug) VALUES (1, 'One', 0, 'one'),"
        " (2, 'Two', 0, 'two')",
        *_TRIGGERS[_dialect(url)],
    ])

    @flex.action(model="notes", for_instance=True)
    def rename(note: Any, body: str) -> Any:
        note.body = body
        return note

    @flex.action(model="notes", for_instance=True, bulk=True)
    async def shout_all(notes: list[Any], ctx: ActionContext) -> list[Any]:
        for note in notes:
            note.body = note.body.upper()
        await ctx.session.flush()  # written before the answer: the rows are no longer changed
        assert [note.body for note in notes]  # still readable after the flush, without a load
        return notes

    @flex.action(model="notes", for_instance=True)
    def copy(note: Any, ctx: ActionContext) -> Any:
        created = type(note)(id=note.id + 100, body=f"Copy of {note.body}", edits=0)
        ctx.session.add(created)
        return created

    return flex


def _stored_notes(url: str) -> list[dict[str, Any]]:
    engine = sync_engine(url)
    with engine.connect() as conn:
        rows = [dict(row._mapping) for row in conn.exec_driver_sql(
            "SELECT id, body, edits, slug FROM notes ORDER BY id")]
    engine.dispose()
    return rows


def test_a_returned_row_shows_what_the_tables_triggers_saved(any_url: str) -> None:
    with TestClient(_triggered_flex(any_url).app) as client:
        assert _execute(client, "rename", model="notes", id=1, params={"body": "Uno"}) == {
            "id": 1, "body": "Uno", "edits": 1, "slug": "uno"}
        assert _execute(client, "shout_all", model="notes", ids=[1, 2]) == [
            {"id": 1, "body": "UNO", "edits": 2, "slug": "uno"},
            {"id": 2, "body": "TWO", "edits": 1, "slug": "two"}]
        assert _execute(client, "copy", model="notes", id=2) == {
            "id": 102, "body": "Copy of TWO", "edits": 0, "slug": "copy of two"}
    assert _stored_notes(any_url) == [
        {"id": 1, "body": "UNO", "edits": 2, "slug": "uno"},
        {"id": 2, "body": "TWO", "edits": 1, "slug": "two"},
        {"id": 102, "body": "Copy of TWO", "edits": 0, "slug": "copy of two"}]


@pytest.mark.mariadb
def test_a_returned_row_shows_the_time_on_update_current_timestamp_saved(
        mariadb_url: str) -> None:
    """MariaDB sets a ``TIMESTAMP ... ON UPDATE CURRENT_TIMESTAMP`` column (Sakila's
    ``last_update``) on every update, as a BEFORE UPDATE trigger would: the answer showed the
    time the row had before the action, not the one saved."""
    flex = _flex_on(mariadb_url, [
        "CREATE TABLE rentals (id INTEGER PRIMARY KEY, returned DATETIME NULL,"
        " last_update TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP"
        " ON UPDATE CURRENT_TIMESTAMP)",
        "INSERT INTO rentals (id, last_update) VALUES (1, '2001-01-01 00:00:00'),"
        " (2, '2001-01-01 00:00:00')",
    ])

    @flex.action(model="rentals", for_instance=True)
    def give_back(rental: Any) -> Any:
        rental.returned = dt.datetime(2005, 6, 2)
        return rental

    @flex.action(model="rentals", for_instance=True, bulk=True)
    async def give_all_back(rentals: list[Any], ctx: ActionContext) -> list[Any]:
        for rental in rentals:
            rental.returned = dt.datetime(2005, 6, 3)
        await ctx.session.flush()
        return rentals

    engine = sync_engine(mariadb_url)

    def saved() -> list[str]:
        with engine.connect() as conn:
            return [stamp.isoformat() for (stamp,) in conn.exec_driver_sql(
                "SELECT last_update FROM rentals ORDER BY id")]

    with TestClient(flex.app) as client:
        one = _execute(client, "give_back", model="rentals", id=1)
        assert one["last_update"] == saved()[0] != "2001-01-01T00:00:00"
        both = _execute(client, "give_all_back", model="rentals", ids=[1, 2])
        assert [row["last_update"] for row in both] == saved()
    assert "2001-01-01T00:00:00" not in saved()
    engine.dispose()
