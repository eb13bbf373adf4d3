"""Tool names, operation paths, input schemas and the selection keys, without a database."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import re
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

import pytest
import sqlalchemy as sa

from flexorm.actions import Param, Text, declare
from flexorm.actions.binding import bind, resolve_collection
from flexorm.calls.catalog import FIELD_OPTIONS_TOOL, CallableAction
from flexorm.calls.invoke import execute_request
from flexorm.calls.names import MAX_TOOL_NAME, operation_path, tool_names
from flexorm.calls.schema import input_schema, selection
from flexorm.exceptions import RequestError
from flexorm.reflection.records import ForeignKeyInfo
from tests.unit.actions._schema import SCHEMA, collection, column

ALLOWED = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


def bound_of(func, **options):
    declaration = declare(func, **options)
    model = options.get("model")
    collection = resolve_collection(SCHEMA, model, action=declaration.name) if model else None
    return bind(declaration, collection, SCHEMA)


def test_names_from_the_identity_alone():
    names = tool_names([("users", "refresh_users_status"), (None, "refresh_users_status"),
                        ("sales.orders", "ship"), ("orders", "s\u00e9lect me")])
    assert names == {("users", "refresh_users_status"): "users__refresh_users_status",
                     (None, "refresh_users_status"): "refresh_users_status",
                     ("sales.orders", "ship"): "sales_orders__ship",
                     ("orders", "s\u00e9lect me"): "orders__s_lect_me"}
    assert all(ALLOWED.match(name) for name in names.values())


def test_names_that_would_clash_or_are_too_long_get_a_digest_of_their_identity():
    clashing = [("a__b", "c"), ("a", "b__c"), (None, "x.y"), (None, "x y"),
                ("t" * 70, "go"), (None, FIELD_OPTIONS_TOOL)]
    names = tool_names(clashing, reserved={FIELD_OPTIONS_TOOL})
    assert len(set(names.values())) == len(clashing)
    assert all(ALLOWED.match(name) and len(name) <= MAX_TOOL_NAME for name in names.values())
    assert names[("a__b", "c")].startswith("a__b__c-")
    assert names[(None, FIELD_OPTIONS_TOOL)].startswith(f"{FIELD_OPTIONS_TOOL}-")
    # the digest is of the identity: the same on every start, whatever the order
    assert tool_names(reversed(clashing), reserved={FIELD_OPTIONS_TOOL}) == names


def test_operation_paths_are_percent_encoded():
    assert operation_path(None, "refresh") == "/api/actions/refresh"
    assert operation_path("sales.orders", "a/b c") == "/api/actions/sales.orders/a%2Fb%20c"


def test_every_kind_of_parameter_is_one_flat_property():
    def act(order: Any, when: dt.datetime, day: dt.date, at: dt.time, key: uuid.UUID,
            price: Decimal, ratio: float, flag: bool, note: Text, color: Color,
            size: Literal[1, 2], data: dict[str, Any], items: list[int],
            pin: Annotated[str, Param(label="PIN", description="four digits")] = "0000",
            count: int = 3) -> None: ...

    schema = input_schema(bound_of(act, model="orders", for_instance=True))
    props = schema["properties"]
    assert props["when"] == {"type": "string", "format": "date-time"}
    assert props["day"] == {"type": "string", "format": "date"}
    assert props["at"] == {"type": "string", "format": "time"}
    assert props["key"] == {"type": "string", "format": "uuid"}
    assert props["price"] == {"type": "string", "format": "decimal"}
    assert props["ratio"] == {"type": "number"}
    assert props["flag"] == {"type": "boolean"}
    assert props["note"] == {"type": "string"}
    assert props["color"] == {"type": "string", "enum": ["red", "blue"]}
    assert props["size"] == {"type": "integer", "enum": [1, 2]}
    assert props["data"] == {"type": "object"}
    assert props["items"] == {"type": "array", "items": {"type": "integer"}}
    assert props["pin"] == {"type": "string", "title": "PIN", "description": "four digits",
                            "default": "0000"}
    assert props["count"] == {"type": "integer", "default": 3}
    assert schema["required"] == ["when", "day", "at", "key", "price", "ratio", "flag", "note",
                                  "color", "size", "data", "items"]
    assert {"id", "ids", "inverse"} <= props.keys()


def test_bytes_are_base64_text_and_a_null_option_is_left_out():
    def act(data: bytes, mode: Literal["a", None]) -> None: ...

    schema = input_schema(bound_of(act))
    assert schema["properties"]["data"] == {"type": "string", "format": "byte",
                                            "contentEncoding": "base64"}
    assert schema["properties"]["mode"] == {"type": "string", "enum": ["a"]}
    assert schema["required"] == ["data"]


def test_columns_give_their_limits_options_and_references():
    def edit(**values: Any) -> None: ...

    props = input_schema(bound_of(edit, model="orders",
                                  fields=["status", "code", "total", "account_id"]))["properties"]
    # no default: a column's default would be written over the records' values
    assert props["status"] == {"type": "string", "enum": ["new", "shipped"]}
    assert props["code"] == {"type": "string", "maxLength": 5}
    assert props["total"] == {"type": "string", "format": "decimal"}
    assert props["account_id"]["type"] == "integer"
    assert props["account_id"]["description"] == (
        "The id of a record of accounts (find one with the get_field_options tool).")


def test_a_reference_to_another_key_than_the_id_names_it():
    accounts = SCHEMA["accounts"]
    with_code = dataclasses.replace(accounts, columns={
        **accounts.columns, "code": column("code", sa.String(8), nullable=False)})
    invoices = collection(
        "invoices", column("id", sa.Integer(), nullable=False, pk=True, auto=True),
        column("account_code", sa.String(8), nullable=False, foreign_key=ForeignKeyInfo(
            None, ("account_code",), "accounts", ("code",), True)))
    schema = dataclasses.replace(SCHEMA, collections={
        **SCHEMA.collections, "accounts": with_code, "invoices": invoices})

    def bill(**values: Any) -> None: ...

    bound = bind(declare(bill, model="invoices", fields=["account_code"]), invoices, schema)
    assert input_schema(bound)["properties"]["account_code"]["description"] == (
        "The code of a record of accounts (find one with the get_field_options tool).")


def test_a_parameter_named_like_the_selection_moves_the_selection_keys():
    def tag(order: Any, inverse: str, id: int = 0) -> None: ...

    bound = bound_of(tag, model="orders", for_instance=True)
    props = input_schema(bound)["properties"]
    assert {"ids", "id", "record_inverse", "record_id", "inverse"} <= props.keys()
    assert props["inverse"] == {"type": "string"}
    entry = CallableAction(bound=bound, tool="orders__tag", path="/api/actions/orders/tag",
                           title="Tag", description="", input_schema={},
                           selection=selection(bound))
    request = execute_request(entry, {"record_id": 1, "id": 5, "inverse": "a,b"})
    assert (request.ids, request.params) == ((1,), {"id": 5, "inverse": "a,b"})
    with pytest.raises(RequestError) as info:
        execute_request(entry, {"ids": [1], "record_inverse": "yes"})
    assert info.value.field == "record_inverse"


def test_a_common_action_keeps_ids_as_an_unknown_parameter():
    def hello(name: str = "") -> None: ...

    bound = bound_of(hello)
    schema = input_schema(bound)
    assert schema["additionalProperties"] is False
    assert set(schema["properties"]) == {"name", "dry_run", "preview_token"}
    assert schema["properties"]["name"] == {"type": "string", "default": ""}
    entry = CallableAction(bound=bound, tool="hello", path="/api/actions/hello", title="Hello",
                           description="", input_schema={}, selection=None)
    assert execute_request(entry, {"ids": [1]}).params == {"ids": [1]}  # validation refuses it
    with pytest.raises(RequestError):
        execute_request(entry, [1])  # type: ignore[arg-type]


def test_dry_run_and_preview_token_travel_as_the_protocol_keys():
    def ship(carrier: str) -> None: ...

    bound = bound_of(ship)
    props = input_schema(bound)["properties"]
    assert props["dry_run"]["type"] == "boolean"
    assert props["preview_token"]["type"] == "string"
    entry = CallableAction(bound=bound, tool="ship", path="/api/actions/ship", title="Ship",
                           description="", input_schema={}, selection=None)
    request = execute_request(entry, {"carrier": "DHL", "dry_run": True})
    assert (request.dry_run, request.params) == (True, {"carrier": "DHL"})
    request = execute_request(entry, {"carrier": "DHL", "preview_token": "abc"})
    assert (request.preview_token, request.params) == ("abc", {"carrier": "DHL"})


def test_a_parameter_named_dry_run_stays_a_parameter():
    def odd(dry_run: bool = False) -> None: ...

    bound = bound_of(odd)
    entry = CallableAction(bound=bound, tool="odd", path="/api/actions/odd", title="Odd",
                           description="", input_schema={}, selection=None)
    request = execute_request(entry, {"dry_run": True})
    assert (request.dry_run, request.params) == (False, {"dry_run": True})
