"""``get_field_options`` params."""

from __future__ import annotations

import pytest

from flexorm.exceptions import RequestError
from flexorm.protocol.field_options import parse_field_options
from flexorm.protocol.requests import FieldOptionsRequest


def test_column_options():
    assert parse_field_options({"model": "orders", "field": "status", "form": {"a": 1}}) == (
        FieldOptionsRequest(field="status", model="orders", form={"a": 1})
    )


def test_action_parameter_options_with_query():
    request = parse_field_options({"action": "account_transfer", "field": "account_from",
                                   "query": "ali"})
    assert (request.action, request.field, request.query, request.form) == (
        "account_transfer", "account_from", "ali", {})


def test_search_is_read_as_query():
    assert parse_field_options({"field": "f", "search": "bo"}).query == "bo"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ("field", "this field is required")),
        ({"field": 1}, ("field", "must be a string")),
        ({"field": "f", "model": ["x"]}, ("model", "must be a string")),
        ({"field": "f", "form": [1]}, ("form", "must be a JSON object")),
    ],
)
def test_errors(params, expected):
    with pytest.raises(RequestError) as info:
        parse_field_options(params)
    assert (info.value.field, info.value.message) == expected
