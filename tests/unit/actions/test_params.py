"""Annotations and columns to parameter descriptors (bound to a hand-built schema)."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

import pytest
from pydantic import Field

from flexorm.actions import ColumnRef, ModelRef, Param, Text, declare
from flexorm.actions.binding import bind, resolve_collection
from flexorm.exceptions import ConfigurationError
from tests.unit.actions._schema import SCHEMA

Account = ModelRef("accounts")


class Color(enum.Enum):
    RED = "red"
    DARK_BLUE = "blue"


class Size(enum.IntEnum):
    SMALL = 1
    LARGE = 2


def describe(func, **options):
    declaration = declare(func, **options)
    model = options.get("model")
    collection = resolve_collection(SCHEMA, model, action=declaration.name) if model else None
    return bind(declaration, collection, SCHEMA)


def params_of(func, **options):
    return {p["name"]: p for p in describe(func, **options).descriptor.get("params", [])}


@pytest.mark.parametrize(
    ("annotation", "field"),
    [
        (str, "CharField"), (Text, "TextField"), (int, "IntegerField"), (float, "FloatField"),
        (Decimal, "DecimalField"), (bool, "BooleanField"), (dt.datetime, "DateTimeField"),
        (dt.date, "DateField"), (dt.time, "TimeField"), (dict, "JSONField"),
        (list, "JSONField"), (dict[str, int], "JSONField"), (list[str], "JSONField"),
        (uuid.UUID, "CharField"), (bytes, "CharField"),
    ],
)
def test_scalar_annotations(annotation, field):
    def run(value): ...

    run.__annotations__ = {"value": annotation}
    assert params_of(run)["value"] == {"name": "value", "field": field, "required": True}


def test_enum_and_literal_become_select_fields_with_options():
    def run(color: Color, size: Size, mode: Literal["fast", "slow_down"], n: Literal[1, 2]): ...

    params = params_of(run)
    assert params["color"]["field"] == "SelectField"
    assert params["color"]["params"] == {"options": [{"value": "red", "name": "Red"},
                                                     {"value": "blue", "name": "Dark blue"}]}
    assert params["size"]["params"]["options"] == [{"value": 1, "name": "Small"},
                                                   {"value": 2, "name": "Large"}]
    # a Literal's values are shown as written ("UPS" must not become "Ups")
    assert params["mode"]["params"]["options"] == [{"value": "fast", "name": "fast"},
                                                   {"value": "slow_down", "name": "slow_down"}]
    assert params["n"]["params"]["options"][0] == {"value": 1, "name": "1"}


def test_a_literal_with_none_lists_null_and_is_optional():
    def run(mode: Literal["a", None]): ...

    assert params_of(run)["mode"] == {
        "name": "mode", "field": "SelectField", "required": False,
        "params": {"options": [{"value": "a", "name": "a"}, {"value": None, "name": "None"}]}}


def test_an_annotation_pydantic_cannot_build_is_an_error_naming_the_parameter():
    def run(key: Annotated[uuid.UUID, Field(strict=1)]): ...

    with pytest.raises(ConfigurationError, match=r"action 'run': parameter 'key': its type "
                                                 "cannot be validated"):
        describe(run)


@pytest.mark.parametrize("annotation", [Annotated[int, Field(pattern="^1")],
                                        Annotated[float, Field(max_length=3)],
                                        Annotated[int, Field(pattern="^1")] | None])
def test_a_constraint_that_does_not_fit_its_type_is_refused_at_declaration(
        annotation: Any) -> None:
    """pydantic builds such a validator and raises ``TypeError`` for every value: each call of
    the action would fail. The declaration is refused instead, naming the parameter."""

    def run(note: str, count: int = 0, *, flag: bool = False): ...

    run.__annotations__["count"] = annotation
    with pytest.raises(ConfigurationError, match=r"action 'run': parameter 'count': a "
                                                 r"constraint does not fit its type \(Unable to "
                                                 "apply constraint"):
        describe(run)


def test_constraints_that_fit_are_not_refused_for_a_sample_they_reject() -> None:
    def run(count: Annotated[int, Field(ge=5)], code: Annotated[str, Field(min_length=2)],
            day: Annotated[dt.date, Field(gt=dt.date(2100, 1, 1))]): ...

    assert set(params_of(run)) == {"count", "code", "day"}


def test_model_reference_and_mapped_class_are_foreign_keys():
    def run(account_from: Account, account_to: Account | None = None): ...

    params = params_of(run)
    assert params["account_from"] == {
        "name": "account_from", "field": "ForeignKey", "required": True,
        "params": {"related_model": {"model": "accounts"}},
    }
    assert params["account_to"]["required"] is False
    assert "default" not in params["account_to"]


def test_optional_and_defaults():
    def run(a: str | None, b: int = 5, c: Decimal = Decimal("1.50"),
            d: dt.date = dt.date(2024, 1, 2), color: Color = Color.DARK_BLUE): ...

    params = params_of(run)
    assert params["a"] == {"name": "a", "field": "CharField", "required": False}
    assert params["b"]["default"] == 5
    assert params["b"]["required"] is False
    assert params["c"]["default"] == "1.50"
    assert params["d"]["default"] == "2024-01-02"
    assert params["color"]["default"] == "blue"


def test_labels_and_descriptions():
    def run(amount: Annotated[int, Param(label="Amount", description="in cents")]): ...

    described = describe(run, label="Refund it", icon="money").descriptor
    assert described["label"] == "Refund it"
    assert described["icon"] == "money"
    assert described["params"][0]["label"] == "Amount"
    assert described["params"][0]["description"] == "in cents"


def test_scopes():
    def record(order): ...

    def collection(): ...

    assert describe(record, model="orders", for_instance=True, bulk=True).descriptor[
        "model_action"] == {"model": "orders", "for_instance": True, "bulk": True}
    assert describe(collection, model="orders").descriptor == {
        "name": "collection", "model_action": {"model": "orders"}}
    assert describe(collection).descriptor == {"name": "collection", "common_action": {}}


def test_fields_generate_parameters_from_columns():
    def run(orders, **values): ...

    params = params_of(run, model="orders", for_instance=True, bulk=True,
                       fields=["status", "note", "total", "account_id", "shipped_at", "code"])
    # no default: the column's would be written over the records' values
    assert params["status"] == {
        "name": "status", "field": "SelectField", "required": False,
        "params": {"options": [{"value": "new", "name": "new"},
                               {"value": "shipped", "name": "shipped"}]},
    }
    assert params["note"] == {"name": "note", "field": "TextField", "required": False}
    assert params["total"] == {"name": "total", "field": "DecimalField", "required": True,
                               "params": {"precision": 10, "scale": 2}}
    assert params["account_id"]["params"] == {"related_model": {"model": "accounts"}}
    assert params["shipped_at"]["field"] in ("DateTimeField", "TimestampField")
    assert params["code"]["required"] is True


def test_annotated_column_reference():
    def run(order, status: Annotated[str, ColumnRef.parse("orders.status")]): ...

    assert params_of(run, model="orders", for_instance=True)["status"]["field"] == "SelectField"


def test_a_typed_parameter_is_required_even_when_its_column_has_a_default():
    def run(order, status: Annotated[str, ColumnRef.parse("orders.status")],
            total: Annotated[Decimal, ColumnRef.parse("orders.total")] = Decimal("1.50")): ...

    params = params_of(run, model="orders", for_instance=True)
    assert (params["status"]["required"], "default" in params["status"]) == (True, False)
    assert (params["total"]["required"], params["total"]["default"]) == (False, "1.50")


def test_a_typed_parameter_is_required_even_when_its_column_takes_null():
    def run(order, note: Annotated[str, ColumnRef.parse("orders.note")],
            maybe: Annotated[str | None, ColumnRef.parse("orders.note")]): ...

    def generated(order, **values): ...

    params = params_of(run, model="orders", for_instance=True)
    assert (params["note"]["required"], params["maybe"]["required"]) == (True, False)
    assert params_of(generated, model="orders", for_instance=True,
                     fields=["note"])["note"]["required"] is False


def test_column_reference_parses_schema_qualified_names():
    assert ColumnRef.parse("sales.orders.status") == ColumnRef("sales.orders", "status")
    with pytest.raises(ConfigurationError):
        ColumnRef.parse("status")


@pytest.mark.parametrize(
    ("func", "options", "message"),
    [
        (lambda orders, **values: None, {"fields": ["nope"]}, "has no column 'nope'"),
        (lambda orders, **values: None, {"fields": ["slug"]}, "generated by the database"),
    ],
)
def test_bad_columns_are_refused_at_bind(func, options, message):
    with pytest.raises(ConfigurationError, match=message):
        describe(func, name="run", model="orders", for_instance=True, bulk=True, **options)


Missing = ModelRef("nope")


def test_unknown_collections_are_refused_at_bind():
    def run(value: Missing): ...

    with pytest.raises(ConfigurationError, match="action 'run': unknown collection 'nope'"):
        describe(run)
    with pytest.raises(ConfigurationError, match="unknown collection 'order'"):
        describe(lambda: None, name="run", model="order")


def test_unresolvable_annotation_is_refused_at_bind():
    def run(value: NotDefinedAnywhere): ...  # noqa: F821

    with pytest.raises(ConfigurationError, match="cannot resolve"):
        describe(run)


UNENCODABLE = {"x": object()}


def test_unencodable_default_is_refused_at_bind():
    def run(value: dict = UNENCODABLE): ...

    with pytest.raises(ConfigurationError, match="default of parameter 'value'"):
        describe(run)


def test_options_hook_for_unknown_parameter():
    def run(value: str): ...

    with pytest.raises(ConfigurationError, match="options hooks for parameters"):
        describe(run, options={"other": lambda q, f: []})


def test_descriptor_is_json_ready():
    import json

    def run(a: Color = Color.RED, b: dt.datetime = dt.datetime(2024, 1, 1, 9, 30)): ...

    described: dict[str, Any] = describe(run).descriptor
    assert json.loads(json.dumps(described)) == described
