"""Validating parameter values: coercions, strictness, messages under the real names."""

from __future__ import annotations

import datetime as dt
import enum
from decimal import Decimal
from typing import Annotated, Literal

import pytest
from pydantic import Field, StringConstraints

from flexorm.actions import Code, ColumnRef, ModelRef, Sql, Text, Translatable, declare
from flexorm.actions.binding import bind
from tests.unit.actions._schema import SCHEMA, errors_of, validator

Account = ModelRef("accounts")
Token = ModelRef("tokens")


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Size(enum.IntEnum):
    SMALL = 1
    LARGE = 2


def run(name: str, count: int, price: Decimal, ratio: float, flag: bool, when: dt.datetime,
        day: dt.date, at: dt.time, note: Text | None = None, data: dict | None = None,
        color: Color = Color.RED, size: Size | None = None,
        mode: Literal["a", "b"] = "a", account: Account | None = None,
        token: Token | None = None) -> None: ...


GOOD = {"name": "x", "count": "5", "price": 1.1, "ratio": "0.5", "flag": "true",
        "when": "2024-05-01T10:00:00+02:00", "day": "2024-05-01", "at": "10:30"}


def test_lax_where_jet_sends_text():
    values = validator(run).validate(GOOD)
    assert values["count"] == 5
    assert values["price"] == Decimal("1.1")
    assert values["ratio"] == 0.5
    assert values["flag"] is True
    assert values["when"] == dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)
    assert values["when"].utcoffset() == dt.timedelta(hours=2)
    assert values["day"] == dt.date(2024, 5, 1)
    assert values["at"] == dt.time(10, 30)
    assert values["note"] is None
    assert values["color"] is Color.RED
    assert values["mode"] == "a"


def test_numeric_strings_coerce_to_decimal_exactly():
    values = validator(run).validate({**GOOD, "price": "12345678901234567890.0001"})
    assert values["price"] == Decimal("12345678901234567890.0001")


def test_naive_datetime_stays_naive():
    assert validator(run).validate({**GOOD, "when": "2024-05-01T10:00:00"})["when"].tzinfo is None


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("count", "abc"), ("count", True), ("count", 1.5), ("count", 2**70), ("price", "abc"),
        ("price", True), ("price", "NaN"), ("price", "1e999999"), ("ratio", "inf"),
        ("flag", "maybe"), ("when", "yesterday"), ("day", "2024-13-01"), ("name", 5),
        ("name", "a\x00b"), ("data", "{not json"), ("data", [1, 2]), ("color", "green"),
        ("size", 3), ("mode", "c"), ("account", "abc"), ("token", "not-a-uuid"),
        ("note", "nul\x00"),
        ("count", "١٢"), ("count", "1_000"), ("price", "١٢.5"), ("price", "1_000.5"),
        ("ratio", "1_0.5"), ("ratio", "٣"),
    ],
)
def test_bad_values_are_reported_under_the_parameter(key, value):
    errors = errors_of(validator(run), {**GOOD, key: value})
    assert list(errors) == [key]
    assert errors[key]
    assert all(m and m[0].isupper() for m in errors[key])


def test_select_values_by_value_or_text():
    v = validator(run)
    assert v.validate({**GOOD, "color": "blue"})["color"] is Color.BLUE
    assert v.validate({**GOOD, "size": "2"})["size"] is Size.LARGE
    assert v.validate({**GOOD, "size": 1})["size"] is Size.SMALL


def test_select_error_lists_the_options():
    assert errors_of(validator(run), {**GOOD, "color": "green"}) == {
        "color": ["Select one of the options: red, blue."]}


class Box(enum.Enum):
    SMALL = (10, 10)
    LARGE = (20, 20)


def test_an_enum_of_tuples_is_chosen_by_member_name():
    def pack(box: Box) -> None: ...

    v = validator(pack)
    assert v.validate({"box": "LARGE"})["box"] is Box.LARGE
    assert errors_of(v, {"box": [10, 10]}) == {"box": ["Select one of the options: SMALL, LARGE."]}


def test_missing_and_unknown_parameters():
    errors = errors_of(validator(run), {"name": "x", "bogus": 1})
    assert errors["count"] == ["This field is required."]
    assert errors["bogus"] == ["Unknown parameter."]
    assert "note" not in errors


def test_empty_string_and_null_mean_not_sent():
    v = validator(run)
    values = v.validate({**GOOD, "note": "", "color": None, "size": ""})
    assert values["note"] is None
    assert values["color"] is Color.RED
    assert values["size"] is None
    assert errors_of(v, {**GOOD, "name": ""}) == {"name": ["This field is required."]}


def test_json_accepts_objects_and_json_text_within_limits():
    v = validator(run)
    assert v.validate({**GOOD, "data": {"a": [1]}})["data"] == {"a": [1]}
    assert v.validate({**GOOD, "data": '{"a": 1}'})["data"] == {"a": 1}
    deep: dict = {}
    node = deep
    for _ in range(100):
        node["x"] = {}
        node = node["x"]
    assert "levels deep" in errors_of(v, {**GOOD, "data": deep})["data"][0]
    assert errors_of(v, {**GOOD, "data": {"k": "\x00"}})["data"]


def test_foreign_keys_are_coerced_to_the_key_type():
    values = validator(run).validate({**GOOD, "account": "7",
                                      "token": "12345678-1234-5678-1234-567812345678"})
    assert values["account"] == 7
    assert str(values["token"]) == "12345678-1234-5678-1234-567812345678"


def test_awkward_parameter_names_work():
    def odd(model_config: str, json: int, schema: bool, _x: str = "d", validate: str = "") -> None:
        ...

    v = validator(odd)
    values = v.validate({"model_config": "a", "json": "1", "schema": True, "_x": "y"})
    assert values == {"model_config": "a", "json": 1, "schema": True, "_x": "y", "validate": ""}
    assert errors_of(v, {"json": "x"}) == {"model_config": ["This field is required."],
                                           "json": [errors_of(v, {"json": "x"})["json"][0]],
                                           "schema": ["This field is required."]}


def test_pydantic_constraints_in_annotated_are_honoured():
    def limited(amount: Annotated[int, Field(ge=1, le=10)]) -> None: ...

    v = validator(limited)
    assert v.validate({"amount": 3}) == {"amount": 3}
    assert "amount" in errors_of(v, {"amount": 11})


def test_column_parameters_carry_the_column_limits():
    def set_code(orders, **values) -> None: ...

    v = validator(set_code, model="orders", for_instance=True, bulk=True,
                  fields=["code", "total", "status", "account_id"])
    values = v.validate({"code": "abc", "total": "12.50", "account_id": "3"})
    # status was not sent: left out, so that the body does not write it
    assert values == {"code": "abc", "total": Decimal("12.50"), "account_id": 3}
    errors = errors_of(v, {"code": "toolong", "total": "123456789.123", "status": "lost",
                           "account_id": 1})
    assert set(errors) == {"code", "total", "status"}


def test_hostile_values_are_validation_errors():
    v = validator(run)
    errors = errors_of(v, {**GOOD, "count": "9" * 5000, "price": "9" * 200_000,
                           "data": "[" * 100_000, "name": "x" * 1_000_000 + "\x00"})
    assert set(errors) == {"count", "price", "data", "name"}
    flood = errors_of(v, {**GOOD, **{f"k{i}": 1 for i in range(10_000)}})
    assert len(flood) == 50
    assert errors_of(v, {**GOOD, "x" * 10_000: 1}) == {"x" * 100: ["Unknown parameter."]}


def test_text_markers_give_their_fields_and_checks():
    def edit(body: Text, title: Translatable, query: Sql, script: Code) -> None: ...

    v = validator(edit)
    assert [(spec.name, spec.field) for spec in bind(declare(edit), None, SCHEMA).params] == [
        ("body", "TextField"), ("title", "TranslatableField"), ("query", "SqlField"),
        ("script", "CodeField")]
    good = {"body": "a\nb", "title": "Hello", "query": "SELECT 1", "script": "x = 1\n"}
    assert v.validate(good) == good
    assert errors_of(v, {**good, "query": "   "}) == {"query": ["This field may not be blank."]}
    assert errors_of(v, {**good, "script": "nul\x00"}) == {
        "script": ["Text may not contain NUL characters."]}
    assert set(errors_of(v, {**good, "title": 5})) == {"title"}


def test_text_constraints_speak_of_characters_and_apply_after_stripping():
    def short(code: Annotated[str, Field(max_length=3)] | None = None,
              least: Annotated[str, Field(min_length=2)] | None = None,
              stripped: Annotated[str, StringConstraints(strip_whitespace=True,
                                                         max_length=3)] | None = None,
              body: Annotated[Text, Field(max_length=3)] | None = None) -> None: ...

    def set_code(orders, code: Annotated[str, ColumnRef.parse("orders.code")]) -> None: ...

    v = validator(short)
    assert errors_of(v, {"code": "abcd", "least": "a", "body": "abcd"}) == {
        "code": ["String should have at most 3 characters."],
        "least": ["String should have at least 2 characters."],
        "body": ["String should have at most 3 characters."]}
    assert v.validate({"stripped": " ab "})["stripped"] == "ab"
    assert errors_of(validator(set_code, model="orders", for_instance=True),
                     {"code": "abcdef"}) == {"code": ["String should have at most 5 characters."]}


def test_a_long_decimal_is_a_number_and_a_longer_one_out_of_range():
    def total(amount: Decimal) -> None: ...

    v = validator(total)
    assert v.validate({"amount": "9" * 5000})["amount"] == Decimal("9" * 5000)
    assert errors_of(v, {"amount": "9" * 200_000}) == {"amount": ["The number is out of range."]}
