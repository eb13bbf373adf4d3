"""Reading value lists out of CHECK constraints, as SQLite and PostgreSQL report them."""

from __future__ import annotations

import pytest

from flexorm.reflection.checks import CheckList, parse_check_list


@pytest.mark.parametrize(("sql", "expected"), [
    ("status IN ('new', 'active')", CheckList("status", ("new", "active"))),
    ("status in ('a,b', 'c)', 'it''s')", CheckList("status", ("a,b", "c)", "it's"))),
    ('"Weird Name" IN (1, -2, 3.5)', CheckList("Weird Name", (1, -2, 3.5))),
    ("[status] IN ('x')", CheckList("status", ("x",))),
    ("`status` IN ('x')", CheckList("status", ("x",))),
    ("t.status IN ('x')", CheckList("status", ("x",))),
    ("(status IN ('x', 'y'))", CheckList("status", ("x", "y"))),
    # PostgreSQL's rewrites
    ("status::text = ANY (ARRAY['new'::character varying, 'active'::character varying]::text[])",
     CheckList("status", ("new", "active"))),
    ("((status)::text = ANY ((ARRAY['a'::character varying, 'b'::character varying])::text[]))",
     CheckList("status", ("a", "b"))),
    ("(priority = ANY (ARRAY[1, 2, 3]))", CheckList("priority", (1, 2, 3))),
    ("(\"Kind\" = ANY (ARRAY['x'::text]))", CheckList("Kind", ("x",))),
    # OR chains: as written, PostgreSQL's rewrite, MariaDB's backquotes, mixed with IN
    ("status = 'a' OR status = 'b' OR status = 'c'", CheckList("status", ("a", "b", "c"))),
    ("(((size)::text = 'S'::text) OR ((size)::text = 'M'::text))",
     CheckList("size", ("S", "M"))),
    ("`size` = 'S' or `size` = 'M'", CheckList("size", ("S", "M"))),
    ("size::text = 'S'::text OR size::text = 'M'::character varying",
     CheckList("size", ("S", "M"))),
    ("kind IN ('a', 'b') OR kind = 'c' OR (kind = 'a')", CheckList("kind", ("a", "b", "c"))),
    ("level = 1 OR level = -1", CheckList("level", (1, -1))),
])
def test_lists_are_read(sql: str, expected: CheckList) -> None:
    assert parse_check_list(sql) == expected


@pytest.mark.parametrize("sql", [
    "price > 0",
    "status NOT IN ('a')",
    "status IN ('a') OR status IS NULL",
    "status IN (SELECT x FROM t)",
    "status IN ()",
    "status IN ('a'",
    "length(name) IN (1, 2)",
    "status = 'a'",
    "status = 'a' OR kind = 'b'",
    "status = 'a' OR status = other",
    "status = 'a' AND status = 'b'",
    "status = 'a' OR status > 'b'",
    "'unterminated",
    "",
])
def test_anything_else_is_ignored(sql: str) -> None:
    assert parse_check_list(sql) is None
