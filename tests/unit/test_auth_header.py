"""The ``Authorization`` header, as protocol section 3 writes it."""

from __future__ import annotations

import pytest

from flexorm.auth.header import Credential, parse_authorization, select_credential


def test_single_bearer():
    assert parse_authorization("Bearer abc") == [Credential("Bearer", "abc")]


def test_several_tokens_with_params():
    credentials = parse_authorization("Token t1;project=shop;x=1 , JWT a.b.c;project=shop")
    assert credentials == [
        Credential("Token", "t1", {"project": "shop", "x": "1"}),
        Credential("JWT", "a.b.c", {"project": "shop"}),
    ]


def test_jwt_wins_else_the_first():
    assert select_credential(parse_authorization("Bearer k, JWT j")) == Credential("JWT", "j")
    assert select_credential(parse_authorization("Bearer k, Token t")) == Credential("Bearer", "k")
    assert select_credential([]) is None


def test_type_names_are_case_sensitive():
    # "jwt" is not "JWT": it does not win over the first credential.
    assert select_credential(parse_authorization("Bearer k, jwt j")).type == "Bearer"


@pytest.mark.parametrize("header", [None, "", "   ", ",", "Bearer", "Bearer   ", "Bearer ;a=b"])
def test_malformed_parts_are_skipped(header):
    assert parse_authorization(header) == []


def test_the_secret_is_not_in_the_repr():
    assert "s3cret" not in repr(Credential("Bearer", "s3cret"))
