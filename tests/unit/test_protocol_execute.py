"""``execute_action`` params in every shape of protocol section 2."""

from __future__ import annotations

import pytest

from flexorm.exceptions import RequestError
from flexorm.protocol.body import parse_message
from flexorm.protocol.execute import parse_execute
from flexorm.protocol.requests import ExecuteRequest
from flexorm.protocol.values import NOT_FINITE

BAD_ID = ("must be a record id (a number, a string, or a full key: an object of the key "
          "columns' values)")


def _error(params) -> tuple[str, str]:
    with pytest.raises(RequestError) as info:
        parse_execute(params)
    return info.value.field or "non_field_errors", info.value.message


def test_action_name_is_inside_the_message_params():
    # The message is named execute_action; the action's own name is params.name.
    message = parse_message(
        b'{"name": "execute_action", "params": {"model": "orders", "name": "refund", "id": 5,'
        b' "params": {"amount": "10.00"}}}'
    )
    assert message.name == "execute_action"
    assert parse_execute(message.params) == ExecuteRequest(
        action="refund", model="orders", ids=(5,), single=True, params={"amount": "10.00"}
    )


def test_bulk():
    request = parse_execute({"model": "orders", "name": "ship", "ids": [1, 2, 3],
                             "inverseIds": False, "params": {"carrier": "UPS"}})
    assert request == ExecuteRequest(action="ship", model="orders", ids=(1, 2, 3),
                                     params={"carrier": "UPS"})


def test_booleans_are_ids_as_sent():
    """A boolean key's values: whether an id fits the key is the collection's to say."""
    assert parse_execute({"model": "flags", "name": "x", "id": True}).ids == (True,)
    assert parse_execute({"model": "flags", "name": "x", "ids": [False, "true"]}).ids == (
        False, "true")
    assert parse_execute({"name": "x", "id": {"on": True, "n": 1}}).ids == ({"on": True, "n": 1},)


def test_inverse():
    request = parse_execute({"model": "orders", "name": "ship", "ids": [4], "inverseIds": True})
    assert (request.ids, request.inverse) == ((4,), True)


def test_inverse_without_ids_selects_everything():
    request = parse_execute({"model": "orders", "name": "ship", "inverseIds": True})
    assert (request.ids, request.inverse) == ((), True)


def test_legacy_comma_separated_ids():
    assert parse_execute({"name": "ship", "ids": "1, 2,,3 "}).ids == ("1", "2", "3")


def test_ids_inside_inner_params_are_taken_out():
    request = parse_execute({"name": "ship", "params": {"ids": [1, 2], "carrier": "DHL"}})
    assert request.ids == (1, 2)
    assert request.params == {"carrier": "DHL"}


def test_inner_ids_as_comma_string_and_inverse():
    request = parse_execute({"name": "ship", "params": {"ids": "7,8", "inverseIds": True}})
    assert (request.ids, request.inverse, request.params) == (("7", "8"), True, {})


def test_top_level_ids_leave_an_inner_ids_parameter_alone():
    request = parse_execute({"name": "tag", "ids": [1], "params": {"ids": "a parameter"}})
    assert request.ids == (1,)
    assert request.params == {"ids": "a parameter"}


def test_common_action():
    assert parse_execute({"name": "rebuild_index", "params": {"full": True}}) == ExecuteRequest(
        action="rebuild_index", params={"full": True}
    )


def test_collection_action_names_no_records():
    request = parse_execute({"model": "users", "name": "refresh_users_status"})
    assert (request.model, request.ids, request.single) == ("users", None, False)


def test_inner_params_as_json_string():
    assert parse_execute({"name": "x", "params": '{"a": 1}'}).params == {"a": 1}


def test_string_ids_are_kept_as_sent():
    assert parse_execute({"name": "x", "id": "abc-1"}).ids == ("abc-1",)


def test_null_id_and_ids_mean_none():
    assert parse_execute({"name": "x", "id": None, "ids": None}).ids is None


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ("name", "this field is required")),
        ({"name": ""}, ("name", "this field is required")),
        ({"name": 5}, ("name", "must be a string")),
        ({"name": ["a"]}, ("name", "must be a string")),
        ({"name": "x", "model": 3}, ("model", "must be a string")),
        ({"name": "x", "id": [1]}, ("id", BAD_ID)),
        ({"name": "x", "id": {"a": [1]}}, ("id", BAD_ID)),
        ({"name": "x", "id": {}}, ("id", BAD_ID)),
        ({"name": "x", "id": {"a": None}}, ("id", BAD_ID)),
        ({"name": "x", "id": "  "}, ("id", "must not be blank")),
        ({"name": "x", "ids": {"1": 1}},
         ("ids", "must be a list of record ids or a comma-separated string")),
        ({"name": "x", "ids": [[1]]}, ("ids", BAD_ID)),
        ({"name": "x", "ids": [None]}, ("ids", BAD_ID)),
        ({"name": "x", "ids": [1], "inverseIds": "true"},
         ("inverseIds", "must be true or false (a JSON boolean)")),
        ({"name": "x", "ids": [1], "inverseIds": "false"},
         ("inverseIds", "must be true or false (a JSON boolean)")),
        ({"name": "x", "ids": [1], "inverseIds": 1},
         ("inverseIds", "must be true or false (a JSON boolean)")),
        ({"name": "x", "id": 1, "inverseIds": True},
         ("inverseIds", "needs a list of ids, not a single id")),
        ({"name": "x", "id": 1, "ids": [2]},
         ("non_field_errors", "send either id or ids, not both")),
        ({"name": "x", "params": [1]}, ("params", "must be a JSON object")),
        ({"name": "x", "params": {"ids": {"a": 1}}},
         ("ids", "must be a list of record ids or a comma-separated string")),
    ],
)
def test_bad_types_are_clean_errors(params, expected):
    """A full key (an object of scalars) is an id; other objects are not."""
    assert _error(params) == expected


def test_sql_fragments_are_just_ids():
    # They reach the action layer as opaque strings, to be coerced to the key's type there.
    request = parse_execute({"name": "x", "ids": "1; DROP TABLE orders,2 OR 1=1"})
    assert request.ids == ("1; DROP TABLE orders", "2 OR 1=1")


def test_dry_run_and_preview_token_are_read_beside_the_selection():
    assert parse_execute({"name": "ship", "id": 3, "dry_run": True}).dry_run is True
    request = parse_execute({"name": "ship", "ids": [1], "preview_token": "abc"})
    assert (request.dry_run, request.preview_token) == (False, "abc")
    assert parse_execute({"name": "ship", "preview_token": ""}).preview_token is None
    # inside the action's own params they are parameters like any other
    assert parse_execute({"name": "ship", "params": {"dry_run": True}}).dry_run is False


@pytest.mark.parametrize(("params", "field"), [
    ({"dry_run": "true"}, "dry_run"),
    ({"dry_run": 1}, "dry_run"),
    ({"preview_token": 5}, "preview_token"),
    ({"preview_token": "x" * 5000}, "preview_token"),
    ({"dry_run": True, "preview_token": "abc"}, "preview_token"),
])
def test_bad_dry_run_keys_are_refused_under_their_name(params, field):
    with pytest.raises(RequestError) as refused:
        parse_execute({"name": "ship", **params})
    assert refused.value.field == field


def test_params_sent_as_json_text_are_checked_once_decoded():
    request = parse_execute({"name": "refund", "id": 1, "params": '{"amount": NaN}'})
    assert request.refusal is not None
    assert (request.refusal.field, request.refusal.message) == ("amount", NOT_FINITE)
    assert request.params == {"amount": "nan"}


def test_a_full_key_is_an_id():
    key = {"countrycode": "NLD", "language": "Dutch"}
    assert parse_execute({"name": "x", "id": key}).ids == (key,)
    assert parse_execute({"name": "x", "ids": [key, "ABW"]}).ids == (key, "ABW")
