"""The regular-expression fast path of CHECK parsing agrees with the full tokenizer."""

from __future__ import annotations

import pytest

from flexorm.reflection.checks import _fast, _parse, parse_check_list

SHAPES = [
    "status IN ('new', 'old')",
    "(status IN ('x'))",
    "  status   in   (  'a'  ,'b'  )  ",
    "status IN ('it''s', 'b')",
    "status IN (E'a')",
    "status NOT IN ('a')",
    "status IN ('a') OR status IS NULL",
    "(status IN ('x')",
    "status IN ('x'))",
    "((status)::text = ANY ((ARRAY['new'::character varying, 'old'::character varying])::text[]))",
    "((status)::text = ANY ((ARRAY['new'::character varying])::text[])",
    "status::text = ANY (ARRAY['new'::character varying, 'old'::character varying]::text[])",
    "c::text = ANY (ARRAY['it''s'::character varying, 'z'::character varying]::text[])",
    "(kind = ANY (ARRAY['a'::text, 'b'::text]))",
    "a = ANY (ARRAY['x'::text, 'y'::text])",
    "b = ANY (ARRAY[1, 2])",
    "(\"Kind\" = ANY (ARRAY['x'::text]))",
    "status = ANY (ARRAY[])",
    "price > 0",
]


@pytest.mark.parametrize("sql", SHAPES)
def test_fast_path_never_disagrees(sql: str) -> None:
    fast = _fast(sql)
    if fast is not None:
        assert fast == _parse(sql)
    assert parse_check_list(sql) == _parse(sql)


@pytest.mark.parametrize("sql", [
    "status IN ('new', 'old')",
    "status::text = ANY (ARRAY['new'::character varying, 'old'::character varying]::text[])",
    "((status)::text = ANY ((ARRAY['new'::character varying, 'old'::character varying])::text[]))",
    "(kind = ANY (ARRAY['a'::text, 'b'::text]))",
])
def test_what_databases_write_takes_the_fast_path(sql: str) -> None:
    assert _fast(sql) is not None
