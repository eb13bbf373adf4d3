"""Decoding message bodies: every shape of protocol section 1, and what clients get wrong."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest

from flexorm.exceptions import RequestError
from flexorm.protocol.body import MAX_DEPTH, parse_message
from flexorm.protocol.requests import Message
from flexorm.protocol.values import LONE_SURROGATE, NOT_FINITE, refusal

FORM = "application/x-www-form-urlencoded"


def _error(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    with pytest.raises(RequestError) as info:
        parse_message(body, content_type)
    return info.value.field or "non_field_errors", info.value.message


@pytest.mark.parametrize(
    ("body", "params"),
    [
        (b'{"name": "get_action_list"}', {}),
        (b'{"name": "get_action_list", "params": null}', {}),
        (b'{"name": "execute_action", "params": {"name": "x"}}', {"name": "x"}),
        (b'{"name": "execute_action", "params": "{\\"name\\": \\"x\\"}"}', {"name": "x"}),
        (b'{"name": "execute_action", "params": ""}', {}),
    ],
)
def test_json_bodies(body, params):
    assert parse_message(body, "application/json") == Message(
        name=json.loads(body)["name"], params=params
    )


def test_content_type_parameters_and_absence_do_not_matter():
    body = b'{"name": "get_action_list"}'
    assert parse_message(body, "application/json; charset=utf-8").name == "get_action_list"
    assert parse_message(body, None).name == "get_action_list"
    assert parse_message(body, "text/plain").name == "get_action_list"


def test_form_body_with_json_params():
    body = urlencode({"name": "execute_action",
                      "params": json.dumps({"name": "ship", "ids": [1]})}).encode()
    message = parse_message(body, FORM + "; charset=UTF-8")
    assert message == Message(name="execute_action", params={"name": "ship", "ids": [1]})


def test_json_sent_with_curls_default_form_type_is_read_as_json():
    # `curl -d '{...}'` without a JSON content type labels the body as a form
    body = b' {"name": "execute_action", "params": {"name": "ship", "ids": [1]}}'
    assert parse_message(body, FORM) == Message(
        name="execute_action", params={"name": "ship", "ids": [1]})
    assert _error(b"{broken", FORM)[1].startswith("Incorrect JSON body:")


def test_form_body_without_params():
    assert parse_message(b"name=get_action_list", FORM).params == {}


@pytest.mark.parametrize("body", [b"{}", b"[]", b'"text"', b"12", b"null", b'{"params": {}}',
                                  b'{"name": ""}', b'{"name": null}'])
def test_missing_name(body):
    assert _error(body) == ("name", "this field is required")


def test_form_without_name():
    assert _error(b"params=%7B%7D", FORM) == ("name", "this field is required")


@pytest.mark.parametrize("name", ["1", "true", "[]", "{}"])
def test_name_must_be_a_string(name):
    assert _error(f'{{"name": {name}}}'.encode()) == ("name", "must be a string")


@pytest.mark.parametrize("body", [b"{", b'{"name": "x",}', b"", b"nope", b"{'name': 'x'}"])
def test_malformed_json(body):
    field, message = _error(body)
    assert field == "non_field_errors"
    assert message.startswith("Incorrect JSON body: ")


def test_non_utf8_body():
    field, message = _error(b'{"name": "\xff\xfe"}')
    assert (field, message) == ("non_field_errors", "Incorrect JSON body: not UTF-8 at byte 10")


def test_non_utf8_form():
    assert _error(b"name=%FF", FORM) == ("non_field_errors", "the form body is not UTF-8")


@pytest.mark.parametrize("params", ["[]", "1", '"[1]"', '"not json"', "true"])
def test_params_must_be_an_object(params):
    body = f'{{"name": "execute_action", "params": {params}}}'.encode()
    assert _error(body) == ("params", "must be a JSON object")


def test_nul_characters_are_refused_anywhere():
    assert _error(b'{"name": "x\\u0000"}')[1] == "NUL characters are not allowed"
    assert _error(b'{"name": "x", "params": {"a\\u0000": 1}}')[1] == (
        "NUL characters are not allowed")
    assert _error(b"name=x&params=%7B%22a%22%3A%22%00%22%7D", FORM)[1] == (
        "NUL characters are not allowed")


def test_nesting_is_bounded():
    ok = b'{"name": "x", "params": {"v": ' + b"[" * (MAX_DEPTH - 3) + b"]" * (MAX_DEPTH - 3) + b"}}"
    assert parse_message(ok).name == "x"
    deep = b'{"name": "x", "params": {"v": ' + b"[" * MAX_DEPTH + b"]" * MAX_DEPTH + b"}}"
    assert _error(deep)[1].startswith("Incorrect JSON body: nested deeper")


def test_pathological_nesting_does_not_blow_the_stack():
    body = b"[" * 200_000 + b"]" * 200_000
    assert _error(body)[1].startswith("Incorrect JSON body: ")


def test_huge_integer_is_a_clean_error():
    body = b'{"name": "x", "params": {"id": ' + b"9" * 5000 + b"}}"
    assert _error(body)[1].startswith("Incorrect JSON body: ")


def test_bodies_that_only_look_suspicious_are_accepted():
    # An escaped backslash before "u0000" is text, not NUL; many flat brackets are not depth.
    assert parse_message(b'{"name": "x", "params": {"v": "\\\\u0000"}}').params == {
        "v": "\\u0000"}
    flat = b'{"name": "x", "params": {"v": [' + b",".join([b"[]"] * MAX_DEPTH) + b"]}}"
    assert len(parse_message(flat).params["v"]) == MAX_DEPTH


@pytest.mark.parametrize(("body", "field", "why"), [
    (b'{"name": "x", "params": {"params": {"note": "a\\ud800"}}}', "note", LONE_SURROGATE),
    (b'{"name": "x", "params": {"id": "\\udfff"}}', "id", LONE_SURROGATE),
    (b'{"name": "x", "params": {"ids": [1, "\\uDBFF"]}}', "ids", LONE_SURROGATE),
    (b'{"name": "x", "params": {"params": {"amount": 1e400}}}', "amount", NOT_FINITE),
    (b'{"name": "x", "params": {"params": {"amount": -Infinity}}}', "amount", NOT_FINITE),
    (b'{"name": "x", "params": {"params": {"amount": NaN}}}', "amount", NOT_FINITE),
    (b'{"name": "x\\ud800"}', "name", LONE_SURROGATE),
])
def test_values_no_database_takes_are_refused_and_scrubbed(body, field, why):
    message = parse_message(body)
    assert message.refusal is not None
    assert (message.refusal.field, message.refusal.message) == (field, why)
    assert refusal({"name": message.name, "params": message.params}) is None  # scrubbed


def test_a_surrogate_pair_is_text_not_a_refusal():
    message = parse_message(b'{"name": "x", "params": {"note": "\\ud83d\\ude00"}}')
    assert (message.refusal, message.params) == (None, {"note": "\U0001f600"})
