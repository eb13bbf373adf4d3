"""Server default text to default_type / default_value."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy as sa

from flexorm.reflection.defaults import DefaultInfo, describe_default


@pytest.mark.parametrize(("text", "type_", "expected"), [
    ("nextval('accounts_id_seq'::regclass)", None,
     DefaultInfo("sequence", "'accounts_id_seq'::regclass")),
    ("now()", None, DefaultInfo("datetime_now")),
    ("CURRENT_TIMESTAMP", None, DefaultInfo("datetime_now")),
    ("(datetime('now'))", None, DefaultInfo("datetime_now")),
    ("(now() AT TIME ZONE 'utc'::text)", None, DefaultInfo("datetime_now")),
    ("gen_random_uuid()", None, DefaultInfo("uuid")),
    ("uuid_generate_v4()", None, DefaultInfo("uuid")),
    ("'new'::character varying", None, DefaultInfo("value", "new")),
    ("'it''s'::text", None, DefaultInfo("value", "it's")),
    ("'new'", None, DefaultInfo("value", "new")),
    ("'a'::character varying(10)", None, DefaultInfo("value", "a")),
    ("0", sa.Numeric(), DefaultInfo("value", 0)),
    ("12.50", None, DefaultInfo("value", 12.5)),
    ("(-1)", None, DefaultInfo("value", -1)),
    ("'-1'::integer", sa.Integer(), DefaultInfo("value", -1)),
    ("true", sa.Boolean(), DefaultInfo("value", True)),
    ("false", None, DefaultInfo("value", False)),
    ("1", sa.Boolean(), DefaultInfo("value", True)),
    ("'0'", sa.Boolean(), DefaultInfo("value", False)),
    ("NULL::character varying", None, None),
    ("lower('X')", None, None),
    (None, None, None),
])
def test_describe_default(text: str | None, type_: Any, expected: DefaultInfo | None) -> None:
    assert describe_default(text, type_=type_) == expected


def test_autoincrement_is_a_sequence_whatever_the_text() -> None:
    assert describe_default(None, autoincrement=True) == DefaultInfo("sequence")
