"""Which SQLite triggers may change the rows of their table: those firing on INSERT or UPDATE,
read from the trigger's SQL (SQLite keeps its event nowhere else)."""

from __future__ import annotations

import pytest

from flexorm.reflection.dialects.sqlite import changes_rows


@pytest.mark.parametrize(("sql", "expected"), [
    ("CREATE TRIGGER t AFTER UPDATE ON notes BEGIN SELECT 1; END", True),
    ("create trigger t before insert on notes begin select 1; end", True),
    ("CREATE TRIGGER t UPDATE OF body, slug ON notes BEGIN SELECT 1; END", True),
    ("CREATE TRIGGER t INSTEAD OF UPDATE ON notes_view BEGIN SELECT 1; END", True),
    ("CREATE TEMP TRIGGER IF NOT EXISTS main.t AFTER INSERT ON notes BEGIN SELECT 1; END", True),
    ("CREATE TRIGGER t AFTER DELETE ON notes BEGIN SELECT 1; END", False),
    ("CREATE TRIGGER t DELETE ON notes BEGIN SELECT 1; END", False),
    # names that look like events, quoted or glued to the next word
    ('CREATE TRIGGER "on update" BEFORE DELETE ON notes BEGIN SELECT 1; END', False),
    ("CREATE TRIGGER [x]INSTEAD OF DELETE ON notes_view BEGIN SELECT 1; END", False),
    ("CREATE TRIGGER trDELETE AFTER INSERT ON notes BEGIN SELECT 1; END", True),
    ("CREATE TRIGGER `a.b`.\"delete\" AFTER UPDATE ON notes BEGIN SELECT 1; END", True),
    # an event that cannot be read counts
    ("CREATE TRIGGER", True),
    (None, True),
])
def test_a_trigger_on_insert_or_update_may_change_rows(sql: str | None, expected: bool) -> None:
    assert changes_rows(sql) is expected
