"""Jet Admin's JSON metadata in comments, read as the reference bridge reads it."""

from __future__ import annotations

import pytest

from flexorm.reflection.comments import COLLECTION_KEYS, FIELD_KEYS, data_source, plain_comment


def test_a_json_object_fills_the_keys_it_names() -> None:
    assert data_source('{"name": "Orders", "name_plural": "All orders", "hidden": true}',
                       COLLECTION_KEYS) == {
        "data_source_name": "Orders", "data_source_name_plural": "All orders",
        "data_source_order_after": None, "data_source_hidden": True}
    assert data_source('{"field": "TextField", "params": {"rows": 3}, "order_after": "b"}',
                       FIELD_KEYS) == {
        "data_source_field": "TextField", "data_source_name": None,
        "data_source_params": {"rows": 3}, "data_source_order_after": "b",
        "data_source_hidden": None}


@pytest.mark.parametrize("comment", [
    None, "", "amount in cents", "{not json", '["a", "list"]', "42", '"a string"', "{}",
    '{"unknown": 1}',
])
def test_anything_else_says_nothing(comment: str | None) -> None:
    assert set(data_source(comment, FIELD_KEYS).values()) == {None}
    assert set(data_source(comment, COLLECTION_KEYS).values()) == {None}


def test_params_count_only_as_an_object() -> None:
    assert data_source('{"params": [1, 2], "name": "N"}', FIELD_KEYS)["data_source_params"] is None


@pytest.mark.parametrize(("comment", "plain"), [
    (None, None), ("amount in cents", "amount in cents"), ('{"name": "Amount"}', None),
    ("{not json", "{not json"), ('["a"]', '["a"]'),
])
def test_a_plain_comment_describes_a_parameter_and_metadata_does_not(
        comment: str | None, plain: str | None) -> None:
    assert plain_comment(comment) == plain
