"""Collection names and include/exclude filters."""

from __future__ import annotations

from flexorm.reflection.naming import collection_name, is_selected


def test_default_schema_tables_keep_their_name() -> None:
    assert collection_name(None, "Customer Orders") == "Customer Orders"
    assert collection_name("billing", "invoices") == "billing.invoices"


def test_rename_hook_wins_unless_it_answers_none() -> None:
    def rename(schema: str | None, table: str) -> str | None:
        return f"{schema}_{table}" if schema else None

    assert collection_name("billing", "invoices", rename) == "billing_invoices"
    assert collection_name(None, "users", rename) == "users"


def test_filters_are_case_sensitive_globs_on_the_collection_name() -> None:
    assert is_selected("users", [], [])
    assert is_selected("billing.invoices", ["billing.*"], [])
    assert not is_selected("users", ["billing.*"], [])
    assert not is_selected("billing.log", ["billing.*"], ["*.log"])
    assert not is_selected("Users", ["users"], [])
